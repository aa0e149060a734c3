import type { Logger } from "pino";

/**
 * Graceful shutdown of a process: stop accepting, drain, close. The first SIGINT/SIGTERM runs
 * `stop`; the process exits 0 when it resolves and 1 when it throws or takes longer than
 * `limitMs`. A second signal runs `abort` (stop at once, write
 * nothing) when given, and exits 1.
 */
export function exitOnSignals(opts: { logger: Logger; stop: () => Promise<void>; abort?: () => Promise<void>; limitMs?: number }): void {
  const stopping = new AbortController();
  const limitMs = opts.limitMs ?? 30_000;
  const onSignal = (signal: NodeJS.Signals): void => {
    if (stopping.signal.aborted) {
      opts.logger.warn({ signal }, "second signal: stopping at once");
      void (opts.abort ?? (() => Promise.resolve()))().finally(() => process.exit(1));
      return;
    }
    stopping.abort();
    opts.logger.info({ signal }, "shutting down");
    setTimeout(() => {
      opts.logger.error(`shutdown took longer than ${limitMs / 1000} s; exiting`);
      process.exit(1);
    }, limitMs).unref();
    opts.stop().then(
      () => {
        opts.logger.info("stopped");
        process.exit(0);
      },
      (err: unknown) => {
        opts.logger.error({ err }, "shutdown failed");
        process.exit(1);
      },
    );
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
}
