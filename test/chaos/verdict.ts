/**
 * What one fault did, from the clients' records and the database: every command's end as
 * stored, the chunks stored against the chunks watchers saw, the watchers that never saw
 * their command end, the commands still open past their deadline plus the sweep. The
 * invariants (architecture §3 "Deadlines and the sweep", "Watch") are checked here.
 */
import { monoMs, sleep } from "../bench/stats.js";
import type { CommandRecord } from "./load.js";
import type { ChaosDatabase } from "./postgres.js";

export interface FaultRow {
  readonly fault: string;
  commands: number;
  completed: number;
  /** `failed: <message> [phase]`, `cancelled`, `refused: rpc <code>`, by count. */
  failed: Record<string, number>;
  stuck: number;
  chunksStored: number;
  chunksSeen: number;
  /** Chunks a watcher saw that the database does not hold. */
  lost: number;
  /** Stored chunks a watcher that saw the end never received. */
  unseen: number;
  gaps: number;
  duplicates: number;
  watchers: number;
  watchersNotEnded: number;
  /** RPC / WebSocket codes the watchers' streams broke with, by count. */
  streamErrors: Record<string, number>;
  exits: number;
  recoveryMs: number | null | undefined;
  notes: string[];
  /** Invariants broken; the row fails when any. */
  problems: string[];
  /** Set when the fault could not be produced on this machine. */
  notProduced?: string;
}

export function emptyRow(fault: string): FaultRow {
  return {
    fault,
    commands: 0,
    completed: 0,
    failed: {},
    stuck: 0,
    chunksStored: 0,
    chunksSeen: 0,
    lost: 0,
    unseen: 0,
    gaps: 0,
    duplicates: 0,
    watchers: 0,
    watchersNotEnded: 0,
    streamErrors: {},
    exits: 0,
    recoveryMs: undefined,
    notes: [],
    problems: [],
  };
}

const bump = (m: Record<string, number>, k: string, n = 1): void => void (m[k] = (m[k] ?? 0) + n);

/** Codes a client must never get: a failure of the system is `unavailable`, a bad request `invalid_argument`. */
const UNCLEAR = new Set(["Internal", "Unknown", "ws close 1011", "ws close 1006", "ws error event: internal error"]);

interface StoredCommand {
  command_id: string;
  status: string;
  error_message: string | null;
  failure_phase: string | null;
  overdue: boolean;
}

/**
 * Waits (bounded) until every command of `records` is terminal or overdue (deadline plus
 * two sweep intervals passed), then fills the row.
 */
export async function judge(row: FaultRow, records: readonly CommandRecord[], db: ChaosDatabase, sweepIntervalMs: number, maxWaitMs: number): Promise<FaultRow> {
  const ids = records.map((r) => r.commandId).filter((id): id is string => id !== undefined);
  const grace = `${2 * sweepIntervalMs + 1000} milliseconds`;
  let stored: StoredCommand[] = [];
  const until = monoMs() + maxWaitMs;
  for (;;) {
    stored = await db.query<StoredCommand>(
      `SELECT command_id, status, error_message, failure_phase, deadline_at + $2::interval < now() AS overdue FROM commands WHERE command_id = ANY($1::uuid[])`,
      [ids, grace],
    );
    const waiting = stored.some((c) => ["pending", "queued", "in_progress"].includes(c.status) && !c.overdue);
    if (!waiting || monoMs() > until) break;
    await sleep(500);
  }
  const byId = new Map(stored.map((c) => [c.command_id, c]));
  row.commands += records.length;
  for (const r of records) {
    if (r.refused) {
      bump(row.failed, `refused: ${r.refused}`);
      continue;
    }
    const c = byId.get(r.commandId!);
    if (!c) {
      bump(row.failed, "acknowledged but not in the database");
      row.problems.push(`command ${r.commandId} acknowledged but not stored`);
      continue;
    }
    if (c.status === "completed") row.completed++;
    else if (c.status === "failed" || c.status === "cancelled") bump(row.failed, `${c.status}: ${c.error_message ?? "(no message)"}${c.failure_phase ? ` [${c.failure_phase}]` : ""}`);
    else {
      row.stuck++;
      bump(row.failed, `still ${c.status}`);
    }
  }
  // Overdue open commands anywhere in the database (probes, earlier faults) are stuck too.
  const overdue = await db.query<{ n: string }>(
    `SELECT count(*) AS n FROM commands WHERE status IN ('pending','queued','in_progress') AND deadline_at + $1::interval < now() AND NOT (command_id = ANY($2::uuid[]))`,
    [grace, ids],
  );
  const strayStuck = Number(overdue[0]?.n ?? 0);
  if (strayStuck > 0) {
    row.stuck += strayStuck;
    row.notes.push(`${strayStuck} other commands (probes) open past deadline`);
  }

  const chunks = await db.query<{ command_id: string; sequence_number: number }>("SELECT command_id, sequence_number FROM responses WHERE command_id = ANY($1::uuid[])", [ids]);
  const storedSeqs = new Map<string, Set<number>>();
  for (const ch of chunks) {
    let s = storedSeqs.get(ch.command_id);
    if (!s) storedSeqs.set(ch.command_id, (s = new Set()));
    s.add(ch.sequence_number);
  }
  row.chunksStored += chunks.length;
  for (const r of records) {
    if (!r.commandId) continue;
    const have = storedSeqs.get(r.commandId) ?? new Set<number>();
    const seen = new Set<number>();
    for (const w of r.watchers) {
      row.watchers++;
      row.gaps += w.gaps;
      row.duplicates += w.duplicates;
      for (const e of w.errors) bump(row.streamErrors, e);
      if (w.endsWithoutTerminal > 0) bump(row.streamErrors, `${w.kind} stream ended without the terminal status`, w.endsWithoutTerminal);
      for (const s of w.seqs) seen.add(s);
      if (w.terminal === undefined) {
        row.watchersNotEnded++;
        if (row.watchersNotEnded <= 5)
          row.notes.push(
            `not ended: ${w.kind} watcher of ${r.api} command ${r.commandId} (stored ${byId.get(r.commandId)?.status ?? "?"}), saw [${w.seqs.join(",")}] of ${have.size} stored, ${w.reconnects} reconnects, errors [${w.errors.join(", ")}]`,
          );
      }
      else for (const s of have) if (!w.seqs.includes(s)) row.unseen++;
    }
    row.chunksSeen += seen.size;
    for (const s of seen) if (!have.has(s)) row.lost++;
  }
  return row;
}

/** The invariants every fault row must hold. */
export function checkInvariants(row: FaultRow): FaultRow {
  if (row.notProduced) return row;
  if (row.stuck) row.problems.push(`${row.stuck} commands stuck open past deadline + sweep`);
  if (row.lost) row.problems.push(`${row.lost} chunks seen by a watcher but not stored`);
  if (row.unseen) row.problems.push(`${row.unseen} stored chunks never reached a watcher that saw the end`);
  if (row.gaps) row.problems.push(`${row.gaps} gaps`);
  if (row.duplicates) row.problems.push(`${row.duplicates} duplicates`);
  if (row.watchersNotEnded) row.problems.push(`${row.watchersNotEnded} watchers never saw their command end`);
  if (row.exits) row.problems.push(`${row.exits} service processes exited on their own`);
  if (row.recoveryMs === null) row.problems.push("did not recover");
  const unclear = Object.entries(row.streamErrors).filter(([k]) => UNCLEAR.has(k) || k.startsWith("ticket Internal") || k.includes("without the terminal"));
  for (const [k, n] of unclear) row.problems.push(`${n} x "${k}" (not a clear, retryable error)`);
  for (const [k, n] of Object.entries(row.failed)) if (/refused: rpc (Internal|Unknown)/.test(k)) row.problems.push(`${n} submits answered ${k}`);
  return row;
}
