import type { JsonObject } from "@bufbuild/protobuf";
import { CatalogValidationError, DATA_IDENTIFIERS, findCommand, normalizeParams, type CommandName } from "@sovd/proto";
import type { Random, VehicleIdentity } from "@sovd/platform";

/** A diagnostic trouble code as the vehicle stores it. */
export interface StoredDtc {
  readonly code: string;
  readonly description: string;
}

/** The codes every new simulated vehicle starts with (architecture §4 "Command catalog"). */
const INITIAL_DTCS: readonly StoredDtc[] = Object.freeze([
  { code: "P0420", description: "Catalyst System Efficiency Below Threshold" },
  { code: "P0171", description: "System Too Lean (Bank 1)" },
]);

/**
 * The vehicle cannot run a command: unknown name or parameters it does not understand.
 * The vehicle answers it with a `Failure {command_id, message}` instead of chunks.
 */
export class CommandRejectedError extends Error {
  override readonly name = "CommandRejectedError";
}

/** One chunk of an answer, numbered as the link sends it. */
export interface PlannedChunk {
  readonly sequenceNumber: number;
  readonly isFinal: boolean;
  /** The payload as sent: UTF-8 JSON bytes. */
  readonly payload: Uint8Array;
  /** The same payload as an object, for logs and tests. */
  readonly json: JsonObject;
}

/**
 * A vehicle's answer to one command, produced chunk by chunk so each sample is taken (and
 * each change applied) when its chunk is due, not when the command arrived. `next` returns
 * undefined after the final chunk.
 */
export interface AnswerPlan {
  readonly commandName: CommandName;
  next(now: Date): PlannedChunk | undefined;
}

const encoder = new TextEncoder();

function chunk(sequenceNumber: number, isFinal: boolean, json: JsonObject): PlannedChunk {
  return { sequenceNumber, isFinal, json, payload: encoder.encode(JSON.stringify(json)) };
}

/** A draw from [min, max] (inclusive of both ends up to rounding). */
const between = (random: Random, min: number, max: number): number => min + (max - min) * random();
const clamp = (v: number, min: number, max: number): number => Math.min(max, Math.max(min, v));
const round = (v: number, digits: number): number => Number(v.toFixed(digits));

/**
 * One simulated vehicle's own diagnostic state: its stored trouble codes and its live data.
 * Pure apart from the random source it is given; knows nothing about links or timers. Answers
 * follow the catalog exactly (architecture §4 "Command catalog"), so `parseChunkPayload`
 * accepts every chunk.
 */
export class VehicleState {
  private dtcList: StoredDtc[] = INITIAL_DTCS.map((d) => ({ ...d }));
  private speedKmh: number;
  private coolantC: number;
  private voltageV: number;

  constructor(
    readonly identity: VehicleIdentity,
    private readonly random: Random,
  ) {
    this.speedKmh = round(between(random, 0, 100), 0);
    this.coolantC = between(random, 86, 94);
    this.voltageV = between(random, 13.6, 14.4);
  }

  /** The trouble codes currently stored. */
  get dtcs(): readonly StoredDtc[] {
    return this.dtcList;
  }

  /**
   * Plans the answer to one command. Throws CommandRejectedError for an unknown command or
   * parameters outside the catalog, before anything is sent or changed.
   */
  answer(commandName: string, params: JsonObject | undefined): AnswerPlan {
    const def = findCommand(commandName);
    if (!def) throw new CommandRejectedError(`Unknown command ${commandName}`);
    let normalized: JsonObject;
    try {
      normalized = normalizeParams(def, params);
    } catch (err) {
      if (err instanceof CatalogValidationError) throw new CommandRejectedError(`Invalid parameters: ${err.message}`, { cause: err });
      throw err;
    }
    switch (def.name) {
      case "ReadDTC":
        return this.readDtc();
      case "ClearDTC":
        return this.clearDtc();
      case "ReadDataByID":
        return this.readData(String(normalized.dataId), Number(normalized.samples ?? 1));
    }
  }

  /** One reading of a data identifier, as the chunk of ReadDataByID carries it. */
  sample(dataId: string, now: Date): JsonObject {
    const known = DATA_IDENTIFIERS[dataId];
    if (!known) throw new CommandRejectedError(`Unknown data identifier ${dataId}`);
    return { dataId, name: known.name, value: this.read(dataId), unit: known.unit, sampledAt: now.toISOString() };
  }

  private read(dataId: string): number | string {
    this.drift();
    switch (dataId) {
      case "0xF190":
        return this.identity.vin;
      case "0xF40D":
        return round(this.speedKmh, 0);
      case "0xF40C":
        return Math.round(this.speedKmh > 0 ? 900 + this.speedKmh * 24 + between(this.random, -60, 60) : between(this.random, 720, 820));
      case "0xF405":
        return round(this.coolantC, 1);
      default:
        return round(this.voltageV, 2);
    }
  }

  /** Live values wander a little between samples, staying plausible. */
  private drift(): void {
    this.speedKmh = clamp(this.speedKmh + between(this.random, -6, 6), 0, 160);
    this.coolantC = clamp(this.coolantC + between(this.random, -0.4, 0.4), 80, 105);
    this.voltageV = clamp(this.voltageV + between(this.random, -0.05, 0.05), 12.4, 14.8);
  }

  private readDtc(): AnswerPlan {
    let snapshot: readonly StoredDtc[] | undefined;
    let index = 0;
    return {
      commandName: "ReadDTC",
      next: () => {
        // The codes are read when the first chunk is due, so a ClearDTC that ran before counts.
        snapshot ??= [...this.dtcList];
        if (index > snapshot.length) return undefined;
        const i = index++;
        const dtc = snapshot[i];
        if (dtc) return chunk(i + 1, false, { dtcCode: dtc.code, description: dtc.description });
        return chunk(i + 1, true, { status: "complete", totalDtcs: snapshot.length });
      },
    };
  }

  private clearDtc(): AnswerPlan {
    let done = false;
    return {
      commandName: "ClearDTC",
      next: () => {
        if (done) return undefined;
        done = true;
        const clearedCount = this.dtcList.length;
        this.dtcList = [];
        return chunk(1, true, { status: "cleared", clearedCount });
      },
    };
  }

  private readData(dataId: string, samples: number): AnswerPlan {
    let index = 0;
    return {
      commandName: "ReadDataByID",
      next: (now) => {
        if (index > samples) return undefined;
        const i = index++;
        if (i < samples) return chunk(i + 1, false, this.sample(dataId, now));
        return chunk(i + 1, true, { status: "complete", samples });
      },
    };
  }
}
