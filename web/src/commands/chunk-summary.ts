import type { Response } from "@sovd/proto";

/** A chunk payload as the generated code shapes `google.protobuf.Struct` (a JSON object). */
export type Payload = NonNullable<Response["payload"]>;

const str = (v: unknown): string | undefined => (typeof v === "string" ? v : undefined);
const num = (v: unknown): number | undefined => (typeof v === "number" && Number.isFinite(v) ? v : undefined);

/**
 * One line for one chunk of the timeline, from the payload shapes of the command catalog
 * (`catalog.ts` of `@sovd/proto`); anything else is shown as compact JSON.
 */
export function summarizeChunk(payload: Payload | undefined): string {
  if (!payload) return "(empty)";
  const dtc = str(payload.dtcCode);
  if (dtc) return `${dtc} — ${str(payload.description) ?? ""}`.trim();
  const name = str(payload.name);
  if (name !== undefined && payload.value !== undefined) {
    return `${name}: ${String(payload.value)}${str(payload.unit) ? ` ${String(payload.unit)}` : ""}`;
  }
  const status = str(payload.status);
  const total = num(payload.totalDtcs);
  if (status === "complete" && total !== undefined) return `Complete: ${plural(total, "trouble code")}`;
  const samples = num(payload.samples);
  if (status === "complete" && samples !== undefined) return `Complete: ${plural(samples, "sample")}`;
  const cleared = num(payload.clearedCount);
  if (status === "cleared" && cleared !== undefined) return `Cleared ${plural(cleared, "trouble code")}`;
  return JSON.stringify(payload);
}

/** A count with its noun, singular for one: `1 sample`, `3 samples`. */
function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? "" : "s"}`;
}

/** A trouble code row from a ReadDTC chunk, or undefined for other chunks. */
export function dtcOf(payload: Payload | undefined): { code: string; description: string } | undefined {
  const code = str(payload?.dtcCode);
  return code ? { code, description: str(payload?.description) ?? "" } : undefined;
}

/** A data sample from a ReadDataByID chunk, or undefined for other chunks. */
export function sampleOf(payload: Payload | undefined): { name: string; value: number | string; unit: string; sampledAt: string } | undefined {
  const name = str(payload?.name);
  const value = payload?.value;
  if (name === undefined || (typeof value !== "number" && typeof value !== "string")) return undefined;
  return { name, value, unit: str(payload?.unit) ?? "", sampledAt: str(payload?.sampledAt) ?? "" };
}
