/**
 * One timer for the heartbeats of a whole fleet, none per vehicle (architecture §10 "Scale").
 * Vehicles register a send function and their interval (from Welcome); one tick sends every
 * heartbeat that is due. The tick runs only while something is registered and never keeps
 * the process alive on its own.
 */
export interface HeartbeatScheduler {
  /** Starts heartbeats for one link; the returned function stops them. */
  register(intervalMs: number, send: () => void): () => void;
  /** How many links are sending heartbeats. */
  readonly size: number;
  /** Stops everything. */
  close(): void;
}

interface Entry {
  readonly intervalMs: number;
  readonly send: () => void;
  due: number;
}

/**
 * Creates the fleet's heartbeat timer.
 * @param maxTickMs the coarsest tick; the tick is a quarter of the shortest registered
 *   interval when that is finer (tests use millisecond intervals), but never below 5 ms.
 */
export function createHeartbeatScheduler(opts: { maxTickMs?: number } = {}): HeartbeatScheduler {
  const maxTickMs = opts.maxTickMs ?? 1000;
  const entries = new Set<Entry>();
  let timer: NodeJS.Timeout | undefined;
  let tickMs = 0;

  const tick = (): void => {
    const now = Date.now();
    for (const entry of entries) {
      if (entry.due > now) continue;
      // Keeps its rhythm (a tick may be late by up to one tick), without bursts after a stall.
      entry.due += entry.intervalMs;
      if (entry.due <= now) entry.due = now + entry.intervalMs;
      entry.send();
    }
  };

  const retime = (): void => {
    let shortest = Infinity;
    for (const e of entries) shortest = Math.min(shortest, e.intervalMs);
    const wanted = entries.size === 0 ? 0 : Math.max(5, Math.min(maxTickMs, Math.floor(shortest / 4)));
    if (wanted === tickMs) return;
    if (timer) clearInterval(timer);
    timer = undefined;
    tickMs = wanted;
    if (wanted > 0) {
      timer = setInterval(tick, wanted);
      timer.unref();
    }
  };

  return {
    register(intervalMs, send) {
      const entry: Entry = { intervalMs, send, due: Date.now() + intervalMs };
      entries.add(entry);
      retime();
      return () => {
        if (entries.delete(entry)) retime();
      };
    },
    get size() {
      return entries.size;
    },
    close() {
      entries.clear();
      retime();
    },
  };
}
