import type { JsonObject, JsonValue } from "@bufbuild/protobuf";

/**
 * The command catalog (architecture §4 "Command catalog"): what each command takes, how long
 * it may run and what a valid answer from the vehicle looks like. The gateway validates
 * requests with it, the connector validates vehicle chunks with it, the web app builds its
 * form from it (via ListCommandTypes) and the simulator answers by it.
 */

/** One parameter of a command. */
export interface ParamDef {
  readonly name: string;
  readonly description: string;
  readonly type: "string" | "integer";
  readonly required: boolean;
  /** Full-match ECMAScript pattern for strings. */
  readonly pattern?: string;
  readonly allowedValues?: readonly string[];
  readonly defaultValue?: string | number;
  readonly min?: number;
  readonly max?: number;
}

/** One command type of the catalog. */
export interface CommandDef {
  readonly name: CommandName;
  readonly description: string;
  /** Changes the vehicle: never sent twice by the system, clients ask for confirmation. */
  readonly changesVehicle: boolean;
  readonly defaultTimeoutMs: number;
  readonly params: readonly ParamDef[];
}

export type CommandName = "ReadDTC" | "ClearDTC" | "ReadDataByID";

/** Data identifiers a vehicle answers to in ReadDataByID. */
export const DATA_IDENTIFIERS: Readonly<Record<string, { readonly name: string; readonly unit: string }>> = {
  "0xF190": { name: "VIN", unit: "" },
  "0xF40D": { name: "Vehicle speed", unit: "km/h" },
  "0xF40C": { name: "Engine speed", unit: "rpm" },
  "0xF405": { name: "Coolant temperature", unit: "°C" },
  "0xF442": { name: "Control module voltage", unit: "V" },
};

const ecuAddress: ParamDef = {
  name: "ecuAddress",
  description: "Address of the ECU to ask, as hex (0x10 is the engine ECU).",
  type: "string",
  required: false,
  pattern: "^0x[0-9A-Fa-f]{2}$",
  defaultValue: "0x10",
};

const DEFAULT_TIMEOUT_MS = 30_000;

export const COMMAND_CATALOG: readonly CommandDef[] = [
  {
    name: "ReadDTC",
    description: "Read the stored diagnostic trouble codes, one chunk per code.",
    changesVehicle: false,
    defaultTimeoutMs: DEFAULT_TIMEOUT_MS,
    params: [
      ecuAddress,
      {
        name: "format",
        description: "Trouble code format.",
        type: "string",
        required: false,
        allowedValues: ["UDS"],
        defaultValue: "UDS",
      },
    ],
  },
  {
    name: "ClearDTC",
    description: "Clear the stored diagnostic trouble codes. Changes the vehicle.",
    changesVehicle: true,
    defaultTimeoutMs: DEFAULT_TIMEOUT_MS,
    params: [ecuAddress],
  },
  {
    name: "ReadDataByID",
    description: "Sample a live data identifier, one chunk per sample.",
    changesVehicle: false,
    defaultTimeoutMs: DEFAULT_TIMEOUT_MS,
    params: [
      {
        name: "dataId",
        description: "Data identifier: VIN, speed, rpm, coolant temperature or module voltage.",
        type: "string",
        required: true,
        pattern: "^0x[0-9A-Fa-f]{4}$",
        allowedValues: Object.keys(DATA_IDENTIFIERS),
      },
      {
        name: "samples",
        description: "Number of samples, about 0.5 s apart.",
        type: "integer",
        required: false,
        defaultValue: 1,
        min: 1,
        max: 20,
      },
    ],
  },
];

export function findCommand(name: string): CommandDef | undefined {
  return COMMAND_CATALOG.find((c) => c.name === name);
}

/** A request or answer that does not fit the catalog; `field` names what was wrong. */
export class CatalogValidationError extends Error {
  override readonly name = "CatalogValidationError";
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(`${field}: ${message}`);
  }
}

/**
 * Checks params against the command's definition and returns them with defaults filled in.
 * Throws CatalogValidationError naming the offending field (`params.samples`, ...).
 */
export function normalizeParams(def: CommandDef, params: JsonObject | undefined): JsonObject {
  const given = params ?? {};
  const known = new Set(def.params.map((p) => p.name));
  for (const key of Object.keys(given)) {
    if (!known.has(key)) throw new CatalogValidationError(`params.${key}`, `unknown parameter for ${def.name}`);
  }
  const out: JsonObject = {};
  for (const p of def.params) {
    const value = given[p.name];
    const field = `params.${p.name}`;
    if (value === undefined || value === null) {
      if (p.required) throw new CatalogValidationError(field, "is required");
      if (p.defaultValue !== undefined) out[p.name] = p.defaultValue;
      continue;
    }
    if (p.type === "integer") {
      if (typeof value !== "number" || !Number.isInteger(value)) throw new CatalogValidationError(field, "must be an integer");
      if (p.min !== undefined && value < p.min) throw new CatalogValidationError(field, `must be at least ${p.min}`);
      if (p.max !== undefined && value > p.max) throw new CatalogValidationError(field, `must be at most ${p.max}`);
      out[p.name] = value;
      continue;
    }
    if (typeof value !== "string") throw new CatalogValidationError(field, "must be a string");
    if (value.length > 64) throw new CatalogValidationError(field, "must be at most 64 characters");
    if (p.pattern && !new RegExp(p.pattern).test(value)) {
      throw new CatalogValidationError(field, `must match ${p.pattern}`);
    }
    const allowed = p.allowedValues?.find((a) => a.toLowerCase() === value.toLowerCase());
    if (p.allowedValues && allowed === undefined) {
      throw new CatalogValidationError(field, `must be one of ${p.allowedValues.join(", ")}`);
    }
    out[p.name] = allowed ?? value;
  }
  return out;
}

/** Largest chunk payload the connector accepts from a vehicle. */
const MAX_CHUNK_BYTES = 64 * 1024;

const isObject = (v: JsonValue | undefined): v is JsonObject => typeof v === "object" && v !== null && !Array.isArray(v);
const isCount = (v: JsonValue | undefined): boolean => typeof v === "number" && Number.isInteger(v) && v >= 0;
const isText = (v: JsonValue | undefined): boolean => typeof v === "string" && v.length > 0 && v.length <= 1024;

/**
 * Parses and validates one chunk a vehicle sent for a command. Returns the payload when it
 * is what the catalog says that command answers; throws CatalogValidationError otherwise.
 * Malformed data is never forwarded to clients (architecture §3 "Execute").
 */
export function parseChunkPayload(commandName: string, bytes: Uint8Array, isFinal: boolean): JsonObject {
  if (bytes.byteLength > MAX_CHUNK_BYTES) throw new CatalogValidationError("payload", `larger than ${MAX_CHUNK_BYTES} bytes`);
  let parsed: JsonValue;
  try {
    parsed = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(bytes)) as JsonValue;
  } catch {
    throw new CatalogValidationError("payload", "is not UTF-8 JSON");
  }
  if (!isObject(parsed)) throw new CatalogValidationError("payload", "is not a JSON object");
  const p = parsed;
  const fail = (what: string): never => {
    throw new CatalogValidationError("payload", `${what} (${commandName}, ${isFinal ? "final" : "intermediate"} chunk)`);
  };
  switch (commandName) {
    case "ReadDTC":
      if (isFinal) {
        if (p.status !== "complete" || !isCount(p.totalDtcs)) fail('expected {"status":"complete","totalDtcs":N}');
      } else if (typeof p.dtcCode !== "string" || !/^[PCBU][0-9A-F]{4}$/.test(p.dtcCode) || !isText(p.description)) {
        fail("expected {dtcCode, description}");
      }
      return p;
    case "ClearDTC":
      if (!isFinal) fail("ClearDTC answers with one final chunk");
      if (p.status !== "cleared" || !isCount(p.clearedCount)) fail('expected {"status":"cleared","clearedCount":N}');
      return p;
    case "ReadDataByID":
      if (isFinal) {
        if (p.status !== "complete" || !isCount(p.samples)) fail('expected {"status":"complete","samples":N}');
      } else if (
        !isText(p.dataId) ||
        !isText(p.name) ||
        !(typeof p.value === "number" || typeof p.value === "string") ||
        typeof p.unit !== "string" ||
        !isText(p.sampledAt)
      ) {
        fail("expected {dataId, name, value, unit, sampledAt}");
      }
      return p;
    default:
      throw new CatalogValidationError("command_name", `unknown command ${commandName}`);
  }
}
