import { isBusError, isDatabaseError } from "../rpc/index.js";
import { watchCommandEvents, type WatchDeps, type WatchOptions } from "../commands/watch.js";
import type { CommandEvent, CommandStatus } from "@sovd/proto";

/** How often, and how long apart, the bridge tries again after an outage: about 30 s in all. */
const RESUME_ATTEMPTS = 30;
const RESUME_DELAY_MS = 1000;

/**
 * The WebSocket bridge's watch (architecture §3 "Watch"): watchCommandEvents, resumed from the
 * last response it delivered when the database or the bus fails under it, so a WebSocket
 * client sees its command to the end without a gap or a duplicate across a short outage
 * (WatchCommand clients resume themselves with `after_sequence`). Other errors, and an outage
 * that outlasts about 30 s, are thrown as they are.
 */
export async function* resumingWatch(
  deps: WatchDeps,
  commandId: string,
  opts: WatchOptions,
  delayMs = RESUME_DELAY_MS,
): AsyncGenerator<CommandEvent> {
  let afterSequence = opts.afterSequence ?? 0;
  // A resumed watch replays the current status: not again if it was the last one delivered.
  let lastStatus: CommandStatus | undefined;
  for (let attempt = 1; ; attempt++) {
    try {
      for await (const event of watchCommandEvents(deps, commandId, { ...opts, afterSequence })) {
        if (event.event.case === "response") afterSequence = event.event.value.sequenceNumber;
        if (event.event.case === "status") {
          if (event.event.value.status === lastStatus) continue;
          lastStatus = event.event.value.status;
        }
        yield event;
      }
      return;
    } catch (err) {
      if (!(isDatabaseError(err) || isBusError(err)) || attempt >= RESUME_ATTEMPTS || opts.signal?.aborted) throw err;
      deps.logger.warn({ err, commandId, afterSequence, attempt }, "websocket watch interrupted by an outage; resuming");
      await new Promise<void>((resolve) => {
        const timer = setTimeout(done, delayMs);
        function done(): void {
          clearTimeout(timer);
          opts.signal?.removeEventListener("abort", done);
          resolve();
        }
        opts.signal?.addEventListener("abort", done, { once: true });
      });
      if (opts.signal?.aborted) return;
    }
  }
}
