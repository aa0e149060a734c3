/**
 * Fan-out watchers over Connect: WatchCommand streams of one queued command. The replayed
 * QUEUED status tells each watcher is open; what follows is counted as live.
 */
import { setMaxListeners } from "node:events";
import { CommandStatus } from "@sovd/proto";
import type { GatewaySession } from "./session.js";
import { WatchTally } from "./watch-tally.js";

export function openConnectWatchers(s: GatewaySession, commandId: string, count: number, limitMs: number): WatchTally {
  const controller = new AbortController();
  const tally = new WatchTally(count, () => controller.abort());
  const signal = AbortSignal.any([controller.signal, AbortSignal.timeout(limitMs)]);
  // Every watcher listens on the one signal: many listeners are expected, not a leak.
  setMaxListeners(0, signal);
  const watch = async (): Promise<void> => {
    let first = true;
    try {
      for await (const e of s.commands.watchCommand({ commandId }, { headers: s.headers, signal })) {
        if (first) {
          first = false;
          tally.markOpened();
          if (e.event.case === "status" && e.event.value.status === CommandStatus.QUEUED) continue;
        }
        tally.addEvent();
      }
      tally.done++;
    } catch {
      tally.failed++;
      if (first) tally.markOpened();
    }
  };
  for (let i = 0; i < count; i++) void watch();
  return tally;
}
