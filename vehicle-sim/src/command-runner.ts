import { create } from "@bufbuild/protobuf";
import { timestampDate } from "@bufbuild/protobuf/wkt";
import { findCommand, VehicleMessageSchema, type Execute, type VehicleMessage } from "@sovd/proto";
import type { Logger, Random } from "@sovd/platform";
import type { Misbehaviour } from "./misbehaviour.js";
import { CommandRejectedError, type AnswerPlan, type PlannedChunk, type VehicleState } from "./vehicle-state.js";

/** A delay range in milliseconds, drawn uniformly. */
export interface DelayRange {
  readonly min: number;
  readonly max: number;
}

/** What a CommandRunner needs: the vehicle's state, its timing and a way to send. */
export interface CommandRunnerOptions {
  readonly state: VehicleState;
  /** Spacing between two chunks of one answer, about 0.5 s (architecture §4 "Command catalog"). */
  readonly chunkIntervalMs: number;
  /** Drawn once per command, waited before its first chunk. */
  readonly networkDelayMs: DelayRange;
  readonly random: Random;
  readonly logger: Logger;
  /** Sends a message up the current link. */
  send(message: VehicleMessage): void;
  /** Drops the current link (misbehaviour "drop-link"). */
  dropLink(reason: string): void;
  /** How many command ids are remembered to ignore repeats; 1000 by default. */
  readonly rememberCommands?: number;
  /** How long after the deadline a "late" vehicle answers; 100 ms by default. */
  readonly lateMarginMs?: number;
}

/** Bytes that are neither UTF-8 nor JSON: what a "garbage" vehicle sends. */
export const GARBAGE_PAYLOAD = Uint8Array.from([0x7b, 0x22, 0x64, 0x74, 0x63, 0xff, 0xfe, 0x00, 0x3a]);

interface Running {
  timer: NodeJS.Timeout | undefined;
  readonly requestId: string;
}

/**
 * Runs the commands one vehicle receives: many at once, each with its own sequence, a
 * network delay before the first chunk and `chunkIntervalMs` between chunks. A repeated
 * Execute for a command id it already ran or is running is ignored: the system never sends a
 * vehicle-changing command twice (architecture §3 "Dispatch"), and the vehicle guards anyway.
 * Knows nothing about gRPC; the vehicle hands it Execute/Cancel and a `send` function.
 */
export class CommandRunner {
  /** The misbehaviour applied to the next Execute that arrives. */
  misbehaviour: Misbehaviour = "none";
  private readonly running = new Map<string, Running>();
  private readonly seen = new Set<string>();
  private readonly remember: number;
  private readonly lateMarginMs: number;

  constructor(private readonly opts: CommandRunnerOptions) {
    this.remember = opts.rememberCommands ?? 1000;
    this.lateMarginMs = opts.lateMarginMs ?? 100;
  }

  /** How many commands are being answered right now. */
  get inFlight(): number {
    return this.running.size;
  }

  /** Handles one Execute from the connector. */
  execute(execute: Execute): void {
    const { commandId, commandName, correlationId: requestId } = execute;
    const log = this.opts.logger;
    if (this.seen.has(commandId)) {
      log.info({ requestId, commandId, commandName }, "repeated Execute ignored");
      return;
    }
    this.rememberId(commandId);
    const mode = this.misbehaviour;
    log.info({ requestId, commandId, commandName, misbehaviour: mode === "none" ? undefined : mode }, "Execute received");

    if (mode === "drop-link") {
      this.opts.dropLink("misbehaving: drop-link on Execute");
      return;
    }
    if (mode === "silent") return;

    let plan: AnswerPlan | undefined;
    let rejection: string | undefined;
    try {
      plan = this.opts.state.answer(commandName, execute.params);
    } catch (err) {
      if (!(err instanceof CommandRejectedError)) throw err;
      rejection = err.message;
    }

    const entry: Running = { timer: undefined, requestId };
    this.running.set(commandId, entry);
    const { min, max } = this.opts.networkDelayMs;
    const delay = mode === "late" ? this.lateDelay(execute) : min + (max - min) * this.opts.random();
    entry.timer = setTimeout(() => {
      if (plan) this.sendNext(commandId, plan, mode, 1);
      else this.fail(commandId, rejection ?? "Command rejected");
    }, delay);
  }

  /** Stops the chunks of one command (the connector's Cancel). */
  cancel(commandId: string): void {
    const entry = this.running.get(commandId);
    if (!entry) return;
    clearTimeout(entry.timer);
    this.running.delete(commandId);
    this.opts.logger.info({ requestId: entry.requestId, commandId }, "command cancelled");
  }

  /**
   * Stops every command in flight: the link they were answering on is gone. Their ids stay
   * remembered, so a re-sent Execute for them after a reconnect is ignored too.
   */
  stopAll(): void {
    for (const entry of this.running.values()) clearTimeout(entry.timer);
    this.running.clear();
  }

  private lateDelay(execute: Execute): number {
    const def = findCommand(execute.commandName);
    const deadline = execute.deadline ? timestampDate(execute.deadline).getTime() : Date.now() + (def?.defaultTimeoutMs ?? 30_000);
    return Math.max(0, deadline - Date.now()) + this.lateMarginMs;
  }

  private sendNext(commandId: string, plan: AnswerPlan, mode: Misbehaviour, position: number): void {
    const entry = this.running.get(commandId);
    if (!entry) return;
    const planned = plan.next(new Date());
    if (!planned) {
      this.running.delete(commandId);
      return;
    }
    if (mode === "garbage") {
      this.running.delete(commandId);
      this.sendChunk(commandId, planned.sequenceNumber, planned.isFinal, GARBAGE_PAYLOAD);
      this.opts.logger.warn({ requestId: entry.requestId, commandId }, "misbehaving: sent a garbage chunk");
      return;
    }
    this.sendChunk(commandId, sequenceFor(planned, position, mode), planned.isFinal, planned.payload);
    if (planned.isFinal) {
      this.running.delete(commandId);
      this.opts.logger.debug({ requestId: entry.requestId, commandId, chunks: position }, "answer complete");
      return;
    }
    entry.timer = setTimeout(() => this.sendNext(commandId, plan, mode, position + 1), this.opts.chunkIntervalMs);
  }

  private sendChunk(commandId: string, sequenceNumber: number, isFinal: boolean, payload: Uint8Array): void {
    this.opts.send(create(VehicleMessageSchema, { kind: { case: "chunk", value: { commandId, sequenceNumber, isFinal, payload } } }));
  }

  private fail(commandId: string, message: string): void {
    const entry = this.running.get(commandId);
    if (!entry) return;
    this.running.delete(commandId);
    this.opts.logger.warn({ requestId: entry.requestId, commandId, reason: message }, "command rejected");
    this.opts.send(create(VehicleMessageSchema, { kind: { case: "failure", value: { commandId, message } } }));
  }

  private rememberId(commandId: string): void {
    this.seen.add(commandId);
    if (this.seen.size > this.remember) {
      const oldest = this.seen.values().next().value;
      if (oldest !== undefined) this.seen.delete(oldest);
    }
  }
}

/** "out-of-sequence" skips number 2: 1, 3, 4, ... and a lone final chunk becomes 2. */
function sequenceFor(planned: PlannedChunk, position: number, mode: Misbehaviour): number {
  if (mode !== "out-of-sequence") return planned.sequenceNumber;
  if (position === 1) return planned.isFinal ? 2 : 1;
  return planned.sequenceNumber + 1;
}
