import type { JsonObject } from "@bufbuild/protobuf";
import type { Chunk } from "@sovd/proto";
import type { FaultDecision } from "../faults.js";
import type { VehicleSession } from "../sessions/session.js";

/** A chunk as read off the stream; `payload` is filled once it passed the catalog. */
export interface ReceivedChunk {
  readonly chunk: Chunk;
  readonly at: Date;
  payload: JsonObject;
}

/** One command running on one of this connector's sessions. */
export interface InFlight {
  readonly commandId: string;
  readonly commandName: string;
  readonly session: VehicleSession;
  readonly faults: FaultDecision;
  readonly requestId: string | null;
  readonly timeoutMs: number;
  timer: NodeJS.Timeout | undefined;
  /** Chunks stored so far. */
  chunks: number;
  corrupted: boolean;
  /** A run of the vehicle's chunks could not be written: the command fails as the database's failure, not the vehicle's. */
  storeFailed: boolean;
  ended: boolean;
  /** Everything that happens to one command runs in order on this chain. */
  chain: Promise<void>;
  /** Chunks read off the stream and not handled yet (the chunk handler drains them in order). */
  readonly inbox: ReceivedChunk[];
  /** A drain of the inbox is queued on the chain. */
  draining: boolean;
}

/** How many ended command ids are remembered to label late chunks `after_terminal`. */
const RECENTLY_ENDED = 10_000;
/** setTimeout's largest delay. */
const MAX_TIMER_MS = 2_147_483_647;

/**
 * The commands in flight on this connector: one deadline timer each, one chain each (so a
 * chunk, a timeout and a link drop of one command never interleave), and what shutdown
 * waits for (idle, every started step settled).
 */
export class InFlightTable {
  private readonly entries = new Map<string, InFlight>();
  private readonly recentlyEnded = new Set<string>();
  private readonly idleWaiters = new Set<() => void>();
  private readonly steps = new Set<Promise<void>>();

  constructor(private readonly onStepError: (err: unknown, entry: InFlight) => void) {}

  get size(): number {
    return this.entries.size;
  }

  get(commandId: string): InFlight | undefined {
    return this.entries.get(commandId);
  }

  /** The entry of `commandId` if `session` runs it. */
  ofSession(session: VehicleSession, commandId: string): InFlight | undefined {
    const entry = this.entries.get(commandId);
    return entry && entry.session === session ? entry : undefined;
  }

  all(): InFlight[] {
    return [...this.entries.values()];
  }

  /** Registers a command that just went in_progress; `onDeadline` runs on its chain when `deadline` passes. */
  add(init: Omit<InFlight, "timer" | "chunks" | "corrupted" | "storeFailed" | "ended" | "chain" | "inbox" | "draining">, deadline: Date, onDeadline: (entry: InFlight) => Promise<void>): InFlight {
    const entry: InFlight = { ...init, timer: undefined, chunks: 0, corrupted: false, storeFailed: false, ended: false, chain: Promise.resolve(), inbox: [], draining: false };
    this.entries.set(entry.commandId, entry);
    const ms = Math.min(MAX_TIMER_MS, Math.max(0, deadline.getTime() - Date.now()));
    entry.timer = setTimeout(() => void this.run(entry, () => (entry.ended ? Promise.resolve() : onDeadline(entry))), ms);
    return entry;
  }

  /** Stops tracking a command (it ended, here or elsewhere); idempotent. */
  end(entry: InFlight): void {
    if (entry.ended) return;
    entry.ended = true;
    clearTimeout(entry.timer);
    this.entries.delete(entry.commandId);
    this.recentlyEnded.add(entry.commandId);
    if (this.recentlyEnded.size > RECENTLY_ENDED) this.recentlyEnded.delete(this.recentlyEnded.values().next().value!);
    if (this.entries.size === 0) for (const wake of [...this.idleWaiters]) wake();
  }

  /** True when the command ended here lately (a late chunk is `after_terminal`, not unknown). */
  endedRecently(commandId: string): boolean {
    return this.recentlyEnded.has(commandId);
  }

  /** Runs `step` after everything queued for this command; a failed step is reported, never thrown. */
  run(entry: InFlight, step: () => Promise<void>): Promise<void> {
    const chain = entry.chain.then(step).catch((err: unknown) => this.onStepError(err, entry));
    entry.chain = chain;
    this.steps.add(chain);
    void chain.finally(() => this.steps.delete(chain));
    return chain;
  }

  /** Resolves true when nothing is in flight, false after `timeoutMs`. */
  whenIdle(timeoutMs: number): Promise<boolean> {
    if (this.entries.size === 0) return Promise.resolve(true);
    return new Promise((resolve) => {
      const done = (idle: boolean): void => {
        clearTimeout(timer);
        this.idleWaiters.delete(wake);
        resolve(idle);
      };
      const wake = (): void => done(true);
      const timer = setTimeout(() => done(false), timeoutMs);
      this.idleWaiters.add(wake);
    });
  }

  /** Waits until every started step (a chunk being stored, a failure being written) has finished. */
  async settle(): Promise<void> {
    while (this.steps.size > 0) await Promise.all([...this.steps]);
  }

  /** Forgets everything without writing: what a killed process leaves behind. */
  abandon(): void {
    for (const entry of this.entries.values()) clearTimeout(entry.timer);
    this.entries.clear();
  }
}
