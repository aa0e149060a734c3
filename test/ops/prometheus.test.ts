import { spawnSync } from "node:child_process";
import { describe, expect, it } from "vitest";
import { hasBinary, repoPath } from "./ops-files.js";

// promtool (Debian package `prometheus`) is the authority on Prometheus files: the rules
// and config must load, and the rule unit tests (ops/prometheus/alerts.test.yml) must show
// the alerts firing on the failure they describe and staying quiet on a healthy system.

function promtool(...args: string[]): { status: number | null; output: string } {
  const run = spawnSync("promtool", args, { cwd: repoPath(), encoding: "utf8", timeout: 60_000 });
  return { status: run.status, output: `${run.stdout}${run.stderr}` };
}

describe.skipIf(!hasBinary("promtool"))("promtool", () => {
  it("accepts the alert rules", () => {
    const run = promtool("check", "rules", "ops/prometheus/alerts.yml");
    expect(run.output).toContain("SUCCESS");
    expect(run.status, run.output).toBe(0);
  });

  it("accepts the Prometheus configuration and the rule file it loads", () => {
    const run = promtool("check", "config", "ops/prometheus/prometheus.yml");
    expect(run.output).toMatch(/SUCCESS: 1 rule files found/);
    expect(run.status, run.output).toBe(0);
  });

  it("fires each alert on its failure and none on a healthy system", () => {
    const run = promtool("test", "rules", "ops/prometheus/alerts.test.yml");
    expect(run.status, run.output).toBe(0);
    expect(run.output).toContain("SUCCESS");
  });

  it("rejects a broken rule (the check is real)", () => {
    const run = spawnSync("promtool", ["check", "rules", "/dev/stdin"], {
      input: "groups:\n  - name: x\n    rules:\n      - alert: Broken\n        expr: sum(rate(x_total[5m]) >\n",
      encoding: "utf8",
    });
    expect(run.status).not.toBe(0);
  });
});
