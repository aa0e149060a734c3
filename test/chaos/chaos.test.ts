/**
 * `npm run chaos -- --ci` inside `npm test`: the whole topology as separate processes, every
 * fault of the suite at its smallest size, and the invariants of its table. On the real
 * PostgreSQL when DATABASE_URL is set (a database of its own), on a cluster of the suite's
 * own otherwise; always on a nats-server of its own, so the machine's NATS is never touched.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import type { FaultRow } from "./verdict.js";

const root = fileURLToPath(new URL("../../", import.meta.url));
const dir = mkdtempSync(join(tmpdir(), "chaos-test-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** The rows every run has, by how their names start. */
const FAULTS = [
  "kill -9 every connector",
  "two connectors, kill -9 one",
  "restart NATS",
  "pg_terminate_backend",
  "stop PostgreSQL",
  "seeded fault rates 10/5/3 %, 40 commands, run 1",
  "seeded fault rates 10/5/3 %, 40 commands, run 2",
  "hostile input",
  "soak",
];

describe("npm run chaos -- --ci", () => {
  it("runs every fault under load and holds every invariant of the table", () => {
    const out = join(dir, "chaos.json");
    const run = spawnSync(process.execPath, ["--import", "tsx", "test/chaos/main.ts", "--ci", "--json", out], { cwd: root, env: process.env, encoding: "utf8", timeout: 170_000 });
    expect(run.error, run.stderr.slice(-3000)).toBeUndefined();
    expect(run.stdout).toMatch(/^\| fault \| commands \| completed \| failed \(by reason\) \| stuck \| chunks stored \/ seen \| gaps \| duplicates \| watchers not ended \| exits \| recovery \| verdict \|$/m);
    const { rows } = JSON.parse(readFileSync(out, "utf8")) as { rows: FaultRow[] };
    expect(rows.map((r) => FAULTS.find((f) => r.fault.startsWith(f)) ?? r.fault)).toEqual(FAULTS);
    const held: Record<string, unknown> = {};
    const expected: Record<string, unknown> = {};
    for (const r of rows) {
      if (r.notProduced) {
        // A fault this machine cannot produce says so; every other row is still judged.
        expect(r.notProduced, r.fault).not.toBe("");
        continue;
      }
      expect(r.commands, r.fault).toBeGreaterThan(0);
      const load = !r.fault.startsWith("hostile");
      if (load) expect(r.watchers, r.fault).toBe(2 * (r.commands - Object.entries(r.failed).filter(([k]) => k.startsWith("refused")).reduce((s, [, n]) => s + n, 0)));
      held[r.fault] = { stuck: r.stuck, lost: r.lost, unseen: r.unseen, gaps: r.gaps, duplicates: r.duplicates, watchersNotEnded: r.watchersNotEnded, exits: r.exits, problems: r.problems };
      expected[r.fault] = { stuck: 0, lost: 0, unseen: 0, gaps: 0, duplicates: 0, watchersNotEnded: 0, exits: 0, problems: [] };
    }
    // Every row at once, so a failure shows all that broke.
    expect(held, run.stdout.slice(-6000)).toEqual(expected);
    expect(run.status, run.stdout.slice(-4000)).toBe(0);
  }, 180_000);
});
