/**
 * The one result of a run: rows of `scenario | reference | system | ratio | goal`, printed
 * as a Markdown table (pasteable into docs/performance.md as is) and written as JSON.
 */

/** A measured figure with its unit; `label` says what it is when that is not obvious. */
export interface Figure {
  readonly value: number;
  readonly unit: string;
  readonly label?: string;
}

/** A goal a row is judged by: its text, and whether the row meets it. */
export interface Goal {
  readonly text: string;
  readonly met: (row: RowValues) => boolean;
  /** The goal judges the ratio (or compares with the reference): without a reference it cannot be judged. */
  readonly needsReference?: boolean;
}

export interface RowValues {
  readonly reference: Figure | undefined;
  readonly system: Figure | undefined;
  readonly ratio: number | undefined;
  /** Commands that failed, for rows that count them. */
  readonly failed?: number;
}

export interface Row extends RowValues {
  readonly scenario: string;
  readonly goal?: Goal;
  /** Why a figure is missing, or how to read it. */
  readonly note?: string;
}

/** A row whose ratio is system / reference. */
export function row(scenario: string, reference: Figure | undefined, system: Figure | undefined, opts: { goal?: Goal; failed?: number; note?: string } = {}): Row {
  const ratio = reference && system && reference.value !== 0 && Number.isFinite(reference.value) ? system.value / reference.value : undefined;
  return { scenario, reference, system, ratio: ratio !== undefined && Number.isFinite(ratio) ? ratio : undefined, ...opts };
}

/** A row that could not be measured in this run. */
export function skipped(scenario: string, why: string, goal?: Goal): Row {
  return { scenario, reference: undefined, system: undefined, ratio: undefined, goal, note: why };
}

const noFailures = (r: RowValues): boolean => r.failed === undefined || r.failed === 0;

export const goals = {
  ratioAtMost: (x: number): Goal => ({ text: `≤ ${x}x`, met: (r) => r.ratio !== undefined && r.ratio <= x, needsReference: true }),
  ratioAtLeast: (x: number, failuresToo = false): Goal => ({
    text: `≥ ${x}x${failuresToo ? ", 0 failed" : ""}`,
    met: (r) => r.ratio !== undefined && r.ratio >= x && (!failuresToo || noFailures(r)),
    needsReference: true,
  }),
  ratioAbove: (x: number): Goal => ({ text: `> ${x}x`, met: (r) => r.ratio !== undefined && r.ratio > x, needsReference: true }),
  systemAtMost: (limit: number, text: string): Goal => ({ text, met: (r) => r.system !== undefined && r.system.value <= limit }),
  /** The system's figure at most the reference's plus `delta` (same unit). */
  atMostReferencePlus: (delta: number, text: string): Goal => ({
    text,
    met: (r) => r.system !== undefined && r.reference !== undefined && r.system.value <= r.reference.value + delta,
    needsReference: true,
  }),
};

/** Three significant digits, no exponent, thousands kept readable. */
export function num(n: number): string {
  if (!Number.isFinite(n)) return "n/a";
  const abs = Math.abs(n);
  if (abs >= 1000) return Math.round(n).toLocaleString("en-US");
  if (abs >= 100) return n.toFixed(0);
  if (abs >= 10) return n.toFixed(1);
  if (abs >= 1) return n.toFixed(2);
  return n.toPrecision(2);
}

const figure = (f: Figure | undefined): string => (f ? `${num(f.value)} ${f.unit}${f.label ? ` (${f.label})` : ""}` : "n/a");

/** Whether the row meets its goal; null when it cannot be judged (figure or reference missing). */
function judged(r: Row): boolean | null {
  if (!r.goal || r.system === undefined || !Number.isFinite(r.system.value)) return null;
  if (r.goal.needsReference && (r.reference === undefined || !Number.isFinite(r.reference.value))) return null;
  return r.goal.met(r);
}

/** The goal cell: its text and whether the row meets it. */
export function verdict(r: Row): string {
  if (!r.goal) return "—";
  if (r.system === undefined || !Number.isFinite(r.system.value)) return `${r.goal.text}: not measured`;
  if (r.goal.needsReference && (r.reference === undefined || !Number.isFinite(r.reference.value))) return `${r.goal.text}: no reference`;
  return `${r.goal.text}: ${judged(r) ? "met" : "NOT MET"}`;
}

function cells(r: Row): string[] {
  const failed = r.failed !== undefined ? `, ${r.failed} failed` : "";
  const note = r.note ? ` — ${r.note.length > 90 ? `${r.note.slice(0, 89)}…` : r.note}` : "";
  const system = r.system && Number.isFinite(r.system.value) ? `${figure(r.system)}${failed}${note}` : `n/a${note}`;
  return [r.scenario, figure(r.reference), system, r.ratio === undefined ? "n/a" : `${num(r.ratio)}x`, verdict(r)];
}

/** The table as Markdown, columns padded so it also reads well in a terminal. */
export function formatTable(rows: readonly Row[]): string {
  const head = ["scenario", "reference", "system", "ratio", "goal"];
  const body = rows.map(cells);
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((c) => c[i]!.length)));
  const line = (c: readonly string[]): string => `| ${c.map((x, i) => x.padEnd(widths[i]!)).join(" | ")} |`;
  return [line(head), `|${widths.map((w) => "-".repeat(w + 2)).join("|")}|`, ...body.map(line)].join("\n");
}

/** The table as JSON: every row with its figures, ratio and verdict. */
export function tableJson(rows: readonly Row[], meta: Record<string, unknown>): unknown {
  return {
    ...meta,
    rows: rows.map((r) => ({
      scenario: r.scenario,
      reference: r.reference ?? null,
      system: r.system ?? null,
      failed: r.failed ?? null,
      ratio: r.ratio ?? null,
      goal: r.goal ? { text: r.goal.text, met: judged(r) } : null,
      note: r.note ?? null,
    })),
  };
}
