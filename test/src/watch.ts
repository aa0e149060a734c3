import type { JsonObject } from "@bufbuild/protobuf";
import { timestampDate } from "@bufbuild/protobuf/wkt";
import type { CommandEvent, CommandStatus } from "@sovd/proto";
import type { StackClients } from "./transports.js";

/** What a watcher saw of one command, in arrival order. */
export interface Watched {
  events: CommandEvent[];
  chunks: Array<{ sequence: number; isFinal: boolean; payload: JsonObject; receivedAt: Date }>;
  statuses: CommandStatus[];
  errors: string[];
}

/**
 * Watches a command over WatchCommand until the stream ends (the server ends it after the
 * terminal status) and returns everything received. Rejects after `timeoutMs`.
 */
export async function watchToEnd(
  clients: StackClients,
  commandId: string,
  opts: { afterSequence?: number; timeoutMs?: number; onEvent?: (e: CommandEvent) => void } = {},
): Promise<Watched> {
  const seen: Watched = { events: [], chunks: [], statuses: [], errors: [] };
  const signal = AbortSignal.timeout(opts.timeoutMs ?? 15_000);
  for await (const e of clients.commands.watchCommand({ commandId, afterSequence: opts.afterSequence ?? 0 }, { signal })) {
    seen.events.push(e);
    opts.onEvent?.(e);
    if (e.event.case === "response") {
      const r = e.event.value;
      seen.chunks.push({
        sequence: r.sequenceNumber,
        isFinal: r.isFinal,
        payload: r.payload ?? {},
        receivedAt: r.receivedAt ? timestampDate(r.receivedAt) : new Date(0),
      });
    } else if (e.event.case === "status") {
      seen.statuses.push(e.event.value.status);
    } else if (e.event.case === "error") {
      seen.errors.push(e.event.value.errorMessage);
    }
  }
  return seen;
}

/** The last status a watcher saw. */
export const finalStatus = (w: Watched): CommandStatus | undefined => w.statuses.at(-1);
