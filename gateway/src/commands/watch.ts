import type { Gauge, Logger, Pool } from "@sovd/platform";
import { getCommandWithResponses, listResponseRows, responseEventFromRow, stateEventsFromRow, type CommandRow, type ResponseRow } from "@sovd/domain";
import { CommandStatus, isTerminalStatus, type CommandEvent } from "@sovd/proto";
import { NotFoundError } from "../rpc/index.js";
import { RESYNC, type CommandEventHub, type HubItem } from "./event-hub.js";

/*
 * The one replay-then-live machinery (architecture §3 "Watch") behind WatchCommand
 * and the WebSocket bridge, so both deliver the same events:
 *
 * 1. register with the gateway's event hub FIRST (no round trip: the hub's one subscription
 *    is already on the server), so nothing received from then on is missed;
 * 2. replay from PostgreSQL in one query: the row and its stored responses after
 *    `afterSequence`, then the current status (for a failed command its error event first);
 * 3. live events, dropping duplicates by sequence number and repeated status/error events;
 *    a response that skips ahead re-reads the gap from the database; a terminal status whose
 *    `last_sequence` is ahead of what was delivered re-reads the missing responses before it
 *    is delivered (a watcher that saw every chunk live reads nothing), then the stream ends.
 *
 * The registration is released in `finally`, whichever way the stream ends.
 */
/** What a watch reads from: the stored command and responses, the gateway's event hub. */
export interface WatchDeps {
  readonly pool: Pool;
  readonly events: CommandEventHub;
  readonly logger: Logger;
  /** `watch_streams_active`, labelled by `kind`. */
  readonly active?: Gauge<"kind">;
}

/** How one watch runs: where to resume, when to stop, who may see the command. */
export interface WatchOptions {
  /** Only responses with a greater sequence number are delivered (resume). */
  readonly afterSequence?: number;
  /** Ends the stream (client gone, unsubscribe, shutdown). */
  readonly signal?: AbortSignal;
  /** Visibility check on the stored command; false answers NotFoundError like a missing command. */
  readonly canSee: (row: CommandRow) => boolean;
  /** Label of `watch_streams_active`: "connect" or "websocket". */
  readonly kind: string;
  /** A registration with the hub made earlier (SubmitAndWatch registers before the dispatch). */
  readonly live?: AsyncIterableIterator<HubItem>;
  /** The row of a command just stored: nothing to read back, it is the whole replay. */
  readonly initial?: CommandRow;
}

/**
 * How long after a command's deadline a watch that saw no end reads the database, and how
 * often after that. A command ends by its deadline (the sweep); if its end was stored but
 * never published (its connector died between the two), only the database knows it.
 */
export const PAST_DEADLINE_RECHECK_MS = 2000;

/**
 * The hub's items, plus RESYNC once the command is past `clock.due` without an end and
 * every PAST_DEADLINE_RECHECK_MS after that. The reader moves `clock.due` when it learns a
 * new deadline (a queued command's).
 */
async function* withDeadlineResync(live: AsyncIterator<HubItem>, clock: { due: number }): AsyncGenerator<HubItem> {
  let pending: Promise<IteratorResult<HubItem>> | undefined;
  for (;;) {
    pending ??= live.next();
    let timer: NodeJS.Timeout | undefined;
    const tick = new Promise<"tick">((resolve) => {
      timer = setTimeout(() => resolve("tick"), Math.max(0, clock.due - Date.now()));
    });
    const next = await Promise.race([pending, tick]);
    clearTimeout(timer);
    if (next === "tick") {
      clock.due = Date.now() + PAST_DEADLINE_RECHECK_MS;
      yield RESYNC;
      continue;
    }
    pending = undefined;
    if (next.done) return;
    yield next.value;
  }
}

const dueAfter = (row: CommandRow): number => Math.max(row.deadline_at.getTime(), Date.now()) + PAST_DEADLINE_RECHECK_MS;

/** Order of statuses: a status event older than what was already delivered is stale. */
const rank = (s: CommandStatus): number =>
  isTerminalStatus(s) ? 2 : s === CommandStatus.IN_PROGRESS ? 1 : 0;

/**
 * Filters one command's event stream: what has been delivered decides what is a duplicate.
 * Pure, so the dedupe rules are unit-tested without a bus or database.
 */
export class EventDeduper {
  lastSequence: number;
  private status: CommandStatus | undefined;
  private errorSent = false;

  constructor(afterSequence: number) {
    this.lastSequence = afterSequence;
  }

  get terminal(): boolean {
    return this.status !== undefined && isTerminalStatus(this.status);
  }

  /**
   * "deliver": new and in order; "drop": already delivered or stale; "gap": a response that
   * skips ahead (earlier ones must be read from the database first).
   */
  classify(event: CommandEvent): "deliver" | "drop" | "gap" {
    if (this.terminal) return "drop";
    switch (event.event.case) {
      case "response": {
        const seq = event.event.value.sequenceNumber;
        if (seq <= this.lastSequence) return "drop";
        return seq === this.lastSequence + 1 ? "deliver" : "gap";
      }
      case "status": {
        const s = event.event.value.status;
        if (this.status === undefined) return "deliver";
        if (s === this.status || rank(s) < rank(this.status)) return "drop";
        return "deliver";
      }
      case "error":
        return this.errorSent ? "drop" : "deliver";
      default:
        return "drop";
    }
  }

  /** Records that `event` was delivered. */
  delivered(event: CommandEvent): void {
    switch (event.event.case) {
      case "response":
        this.lastSequence = Math.max(this.lastSequence, event.event.value.sequenceNumber);
        break;
      case "status":
        this.status = event.event.value.status;
        break;
      case "error":
        this.errorSent = true;
        break;
      default:
        break;
    }
  }
}

/**
 * Streams one command's events: replay, then live, until the command is terminal or
 * `opts.signal` aborts. Throws NotFoundError when the command does not exist or is not
 * visible to the caller.
 */
export async function* watchCommandEvents(deps: WatchDeps, commandId: string, opts: WatchOptions): AsyncGenerator<CommandEvent> {
  const live = opts.live ?? deps.events.watch(commandId, opts.signal);
  const gauge = deps.active?.labels(opts.kind);
  gauge?.inc();
  try {
    const dedupe = new EventDeduper(opts.afterSequence ?? 0);
    const found = opts.initial ? { row: opts.initial, responses: [] } : await getCommandWithResponses(deps.pool, commandId, dedupe.lastSequence);
    if (!found || !opts.canSee(found.row)) throw new NotFoundError("command");

    /** Stored responses as events, recorded as delivered. */
    function* deliver(rows: readonly ResponseRow[]): Generator<CommandEvent> {
      for (const r of rows) {
        const event = responseEventFromRow(r);
        dedupe.delivered(event);
        yield event;
      }
    }
    /** Stored responses after what was delivered so far. */
    async function* fromDatabase(): AsyncGenerator<CommandEvent> {
      yield* deliver(await listResponseRows(deps.pool, commandId, dedupe.lastSequence));
    }

    /** A stored state: its responses not delivered yet, then its status (and error) unless already delivered. */
    function* fromRow(stored: { row: CommandRow; responses: readonly ResponseRow[] }): Generator<CommandEvent> {
      yield* deliver(stored.responses);
      for (const event of stateEventsFromRow(stored.row)) {
        if (dedupe.classify(event) !== "deliver") continue;
        dedupe.delivered(event);
        yield event;
      }
    }

    yield* fromRow(found);
    if (dedupe.terminal) return;

    const clock = { due: dueAfter(found.row) };
    for await (const item of withDeadlineResync(live, clock)) {
      if (item === RESYNC) {
        // The bus was away, or the command is past its deadline: what was published
        // meanwhile, or never, is in the database (persist first).
        const now = await getCommandWithResponses(deps.pool, commandId, dedupe.lastSequence);
        if (!now) continue;
        clock.due = Math.max(clock.due, dueAfter(now.row));
        yield* fromRow(now);
        if (dedupe.terminal) return;
        continue;
      }
      const event = item;
      const verdict = dedupe.classify(event);
      if (verdict === "drop") continue;
      if (verdict === "gap") {
        // A live event was missed (e.g. a slow consumer): the database has it (persist first, then publish).
        yield* fromDatabase();
        const again = dedupe.classify(event);
        if (again === "drop") continue;
        if (again === "gap") deps.logger.warn({ commandId, sequence: dedupe.lastSequence }, "response missing from the database");
      }
      if (event.event.case === "status" && isTerminalStatus(event.event.value.status) && event.event.value.lastSequence > dedupe.lastSequence) {
        // Responses stored before the terminal status but not (yet) seen live.
        yield* fromDatabase();
      }
      dedupe.delivered(event);
      yield event;
      if (dedupe.terminal) return;
    }
  } finally {
    void live.return?.();
    gauge?.dec();
  }
}
