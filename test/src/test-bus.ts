import { createMemoryBus, createNatsBus, type Bus } from "@sovd/platform";

/** The bus tests run on: NATS when NATS_URL is set (a connection per call), the in-process bus otherwise. */
export async function createTestBus(name = "test", url = process.env.NATS_URL): Promise<Bus> {
  return url ? createNatsBus({ url, name }) : createMemoryBus();
}

/** Messages collected from one bus subject, decoded, with a wait for the one a test expects. */
export interface Collector<T> {
  readonly items: readonly T[];
  waitFor(pick: (item: T) => boolean, timeoutMs?: number): Promise<T>;
  /** Waits until `n` items have arrived. */
  waitForCount(n: number, timeoutMs?: number): Promise<readonly T[]>;
  /** Stops collecting. */
  stop(): void;
}

/**
 * Subscribes to `subject` and keeps every message, decoded, so a test can wait for the event
 * it expects instead of sleeping. Resolves once the subscription is registered.
 */
export async function collectMessages<T>(bus: Bus, subject: string, decode: (data: Uint8Array) => T): Promise<Collector<T>> {
  const sub = await bus.subscribe(subject);
  const items: T[] = [];
  const listeners = new Set<() => void>();
  void (async () => {
    for await (const m of sub) {
      items.push(decode(m.data));
      for (const l of [...listeners]) l();
    }
  })();
  const until = <R>(test: () => R | undefined, timeoutMs: number, what: string): Promise<R> =>
    new Promise((resolve, reject) => {
      const check = (): void => {
        const v = test();
        if (v !== undefined) {
          clearTimeout(timer);
          listeners.delete(check);
          resolve(v);
        }
      };
      const timer = setTimeout(() => {
        listeners.delete(check);
        reject(new Error(`${what} on ${subject} not seen within ${timeoutMs} ms (got ${items.length})`));
      }, timeoutMs);
      listeners.add(check);
      check();
    });
  return {
    items,
    waitFor: (pick, timeoutMs = 5000) => until(() => items.find(pick), timeoutMs, "expected message"),
    waitForCount: (n, timeoutMs = 5000) => until(() => (items.length >= n ? items.slice() : undefined), timeoutMs, `${n} messages`),
    stop: () => sub.unsubscribe(),
  };
}
