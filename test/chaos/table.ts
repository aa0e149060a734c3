/** The chaos table: one line per fault, then the notes and broken invariants of each. */
import type { FaultRow } from "./verdict.js";

const reasons = (m: Record<string, number>): string =>
  Object.entries(m)
    .sort((a, b) => b[1] - a[1])
    .map(([k, n]) => `${n} ${k}`)
    .join("; ") || "0";

const recovery = (r: FaultRow): string => (r.recoveryMs === undefined ? "-" : r.recoveryMs === null ? "NOT RECOVERED" : `${(r.recoveryMs / 1000).toFixed(1)} s`);

export function formatTable(rows: readonly FaultRow[]): string {
  const head = ["fault", "commands", "completed", "failed (by reason)", "stuck", "chunks stored / seen", "gaps", "duplicates", "watchers not ended", "exits", "recovery", "verdict"];
  const body = rows.map((r) => [
    r.fault,
    String(r.commands),
    String(r.completed),
    reasons(r.failed),
    String(r.stuck),
    r.watchers ? `${r.chunksStored} / ${r.chunksSeen}${r.lost || r.unseen ? ` (${r.lost} lost, ${r.unseen} unseen)` : ""}` : "-",
    String(r.gaps),
    String(r.duplicates),
    r.watchers ? `${r.watchersNotEnded} of ${r.watchers}` : "-",
    String(r.exits),
    recovery(r),
    r.notProduced ? "not produced" : r.problems.length ? "FAIL" : "ok",
  ]);
  const lines = [head, ...body].map((cells) => `| ${cells.map((c) => c.replace(/\|/g, "/")).join(" | ")} |`);
  lines.splice(1, 0, `|${head.map(() => "---").join("|")}|`);
  const details = rows
    .filter((r) => r.notes.length || r.problems.length || Object.keys(r.streamErrors).length || r.notProduced)
    .map((r) => {
      const out = [`- ${r.fault}`];
      if (r.notProduced) out.push(`    not produced: ${r.notProduced}`);
      for (const n of r.notes) out.push(`    note: ${n}`);
      if (Object.keys(r.streamErrors).length) out.push(`    watcher streams broke with: ${reasons(r.streamErrors)}`);
      for (const p of r.problems) out.push(`    FAIL: ${p}`);
      return out.join("\n");
    });
  return [...lines, "", ...details].join("\n");
}
