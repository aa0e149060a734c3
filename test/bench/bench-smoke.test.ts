/**
 * The bench starts, measures and reports: its smallest run (two bare references, measured
 * twice: the noise rows) must print the table and write JSON whose rows carry numeric
 * ratios. Nothing about the figures is asserted; without DATABASE_URL / NATS_URL nothing
 * here needs a server.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";

const root = fileURLToPath(new URL("../../", import.meta.url));
const dir = mkdtempSync(join(tmpdir(), "bench-smoke-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

interface JsonRow {
  scenario: string;
  ratio: number | null;
  reference: { value: number } | null;
  system: { value: number } | null;
}

describe("npm run bench", () => {
  it("prints the table and writes the same rows as JSON, with numeric ratios", () => {
    const out = join(dir, "bench.json");
    const env = { ...process.env };
    delete env.DATABASE_URL;
    delete env.NATS_URL;
    const run = spawnSync(process.execPath, ["--import", "tsx", "test/bench/main.ts", "--tiny", "--scenarios", "noise", "--out", out], {
      cwd: root,
      env,
      encoding: "utf8",
      timeout: 45_000,
    });
    expect(run.status, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/^\| scenario +\| reference +\| system +\| ratio +\| goal +\|$/m);
    const json = JSON.parse(readFileSync(out, "utf8")) as { rows: JsonRow[]; references: Record<string, unknown> };
    expect(json.rows.map((r) => r.scenario)).toEqual([
      "noise: Connect unary p50, measured again",
      "noise: Connect unary calls/s, measured again",
      "noise: grpc-js ping-pong p50, measured again",
    ]);
    for (const r of json.rows) {
      expect(r.ratio, r.scenario).toBeTypeOf("number");
      expect(r.ratio! > 0, r.scenario).toBe(true);
      expect(run.stdout).toContain(r.scenario);
    }
    expect(Object.keys(json.references).sort()).toEqual(["connect", "grpc"]);
  }, 60_000);
});
