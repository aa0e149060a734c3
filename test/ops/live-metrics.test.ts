import { spawnSync } from "node:child_process";
import { ConnectError } from "@connectrpc/connect";
import { CommandStatus } from "@sovd/proto";
import { beforeAll, describe, expect, it } from "vitest";
import { finalStatus, useStack, watchToEnd } from "../src/index.js";
import { alertRules, allPanels, baseMetricNames, dashboards, EXTERNAL_METRICS, hasBinary, promqlMetricNames } from "./ops-files.js";

// The strongest form of "every dashboard and alert names a metric the services export": run
// the real gateway and connector, do what an engineer does (log in, a failed login, commands
// that complete), scrape both /metrics, and look every queried series up in what came back —
// with the labels the queries filter on. promtool then lints both scrapes.

/** One parsed exposition: metric families by name, with their type and sample label names. */
interface Scrape {
  text: string;
  types: Map<string, string>;
  /** sample name -> label names seen on its samples */
  labels: Map<string, Set<string>>;
}

function parseExposition(text: string): Scrape {
  const types = new Map<string, string>();
  const labels = new Map<string, Set<string>>();
  for (const line of text.split("\n")) {
    const type = /^# TYPE (\S+) (\S+)/.exec(line);
    if (type) {
      types.set(type[1]!, type[2]!);
      continue;
    }
    if (line.startsWith("#") || line.trim() === "") continue;
    const sample = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s/.exec(line);
    if (!sample) continue;
    const names = labels.get(sample[1]!) ?? new Set<string>();
    for (const m of (sample[2] ?? "").matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="/g)) names.add(m[1]!);
    labels.set(sample[1]!, names);
  }
  return { text, types, labels };
}

async function scrape(url: string): Promise<Scrape> {
  const res = await fetch(url);
  expect(res.status).toBe(200);
  expect(res.headers.get("content-type")).toMatch(/^text\/plain/);
  return parseExposition(await res.text());
}

/** Every PromQL expression of the dashboards and the alert rules, with where it comes from. */
function queries(): Array<{ where: string; expr: string }> {
  const out: Array<{ where: string; expr: string }> = [];
  for (const [file, board] of dashboards()) {
    for (const panel of allPanels(board)) for (const t of panel.targets ?? []) out.push({ where: `${file}: ${panel.title}`, expr: t.expr });
  }
  for (const r of alertRules()) out.push({ where: `alerts.yml: ${r.alert ?? r.record}`, expr: r.expr });
  return out;
}

/** `metric{label="x", other=~"y"}` -> [metric, [label, other]] for each selector of `expr`. */
function selectorLabels(expr: string): Array<[string, string[]]> {
  return [...expr.matchAll(/([a-zA-Z_:][a-zA-Z0-9_:]*)\{([^}]*)\}/g)].map((m) => [
    m[1]!,
    [...m[2]!.matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)\s*(?:=~|!~|!=|=)/g)].map((l) => l[1]!),
  ]);
}


/** Labels Prometheus attaches at scrape time, not the services. */
const TARGET_LABELS = new Set(["job", "instance"]);

describe("a live scrape of gateway and connector", () => {
  const stack = useStack({ vehicles: 1 });
  let gateway: Scrape;
  let connector: Scrape;

  beforeAll(async () => {
    const engineer = await stack.login("engineer");
    await expect(stack.login("engineer", { password: "not-the-password" })).rejects.toBeInstanceOf(ConnectError);
    for (const [commandName, params] of [
      ["ReadDTC", {}],
      ["ReadDataByID", { dataId: "0xF40D", samples: 2 }],
    ] as const) {
      const { command } = await engineer.commands.submitCommand({ vehicleId: stack.vehicleIds[0]!, commandName, params });
      expect(finalStatus(await watchToEnd(engineer, command!.commandId))).toBe(CommandStatus.COMPLETED);
    }
    gateway = await scrape(`${stack.baseUrl}/metrics`);
    connector = await scrape(`http://127.0.0.1:${stack.connectors[0]!.httpPort}/metrics`);
  });

  it("counts what just happened", () => {
    expect(gateway.text).toMatch(/^commands_submitted_total\{[^}]*command="ReadDTC"[^}]*\} 1$/m);
    expect(connector.text).toMatch(/^commands_executed_total\{[^}]*status="completed"[^}]*\} 1$/m);
    expect(connector.text).toMatch(/^vehicle_connections_active(\{[^}]*\})? 1$/m);
    expect(gateway.text).toMatch(/^auth_failures_total\{[^}]*reason="bad_credentials"[^}]*\} 1$/m);
  });

  it("exports every series a dashboard or alert queries, with the labels it filters on", () => {
    const recorded = new Set(alertRules().flatMap((r) => (r.record ? [r.record] : [])));
    const families = new Map([...connector.types, ...gateway.types]);
    const sampleLabels = (name: string): Set<string> | undefined => {
      const sets = [gateway.labels.get(name), connector.labels.get(name)].filter((s): s is Set<string> => s !== undefined);
      return sets.length ? new Set(sets.flatMap((s) => [...s])) : undefined;
    };
    for (const { where, expr } of queries()) {
      for (const name of promqlMetricNames(expr)) {
        if (recorded.has(name) || EXTERNAL_METRICS.has(name)) continue;
        const family = baseMetricNames(name).find((n) => families.has(n));
        expect(family, `${where}: ${name} is in neither scrape`).toBeDefined();
        if (name !== family) expect(families.get(family!), `${where}: ${name}`).toMatch(/histogram|summary/);
      }
      for (const [name, used] of selectorLabels(expr)) {
        if (recorded.has(name) || EXTERNAL_METRICS.has(name)) continue;
        const have = sampleLabels(name);
        if (!have) continue; // no sample yet (e.g. no chunk was dropped): the family check above holds
        for (const label of used.filter((l) => !TARGET_LABELS.has(l))) {
          expect([...have], `${where}: ${name} has no label "${label}"`).toContain(label);
        }
      }
    }
  });

  it.skipIf(!hasBinary("promtool"))("passes promtool check metrics (parse and lint)", () => {
    for (const [name, s] of [
      ["gateway", gateway],
      ["connector", connector],
    ] as const) {
      const run = spawnSync("promtool", ["check", "metrics"], { input: s.text, encoding: "utf8", timeout: 30_000 });
      const findings = `${run.stdout}${run.stderr}`.split("\n").filter((l) => l.trim() !== "");
      // Exit 1 is an unparsable exposition, 3 lint findings: both fail.
      expect(findings, name).toEqual([]);
      expect(run.status, `${name}: ${findings.join("; ")}`).toBe(0);
    }
  });
});
