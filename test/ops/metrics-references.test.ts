import { existsSync } from "node:fs";
import { COMMAND_DURATION_BUCKETS } from "@sovd/platform";
import { beforeAll, describe, expect, it } from "vitest";
import {
  alertRules,
  allPanels,
  baseMetricNames,
  dashboards,
  defaultMetricNames,
  EXTERNAL_METRICS,
  headingAnchor,
  markdownHeadings,
  promqlMetricNames,
  readRepoFile,
  readYaml,
  repoPath,
  serviceStringLiterals,
} from "./ops-files.js";

// Dashboards and alert rules are only worth something if they query series the services
// really export. The names come from the services' sources at test time, so renaming a
// metric in gateway/ or connector/ without updating ops/ fails here.

let exported: Map<string, string>;
let defaults: Set<string>;

beforeAll(async () => {
  exported = serviceStringLiterals();
  defaults = await defaultMetricNames();
});

/** Names in `names` that no service exports (recording rules of alerts.yml excepted). */
function unknownMetrics(names: Iterable<string>, recorded: ReadonlySet<string> = new Set()): string[] {
  return [...names].filter(
    (name) => !recorded.has(name) && !baseMetricNames(name).some((n) => exported.has(n) || defaults.has(n) || EXTERNAL_METRICS.has(n)),
  );
}

function anchorsOf(markdownPath: string): Set<string> {
  return new Set(markdownHeadings(readRepoFile(markdownPath)).map(headingAnchor));
}

describe("promqlMetricNames", () => {
  it("finds the series of an expression and nothing else", () => {
    expect(
      promqlMetricNames(
        'histogram_quantile(0.95, sum by (le, command) (rate(command_execution_duration_seconds_bucket{status="failed"}[$__rate_interval]))) > 20 and on (job) up{job="x"} == 0',
      ),
    ).toEqual(new Set(["command_execution_duration_seconds_bucket", "up"]));
    expect(promqlMetricNames('sum(rate(a_total[5m])) / sum(rate(b_total{code!~"ok|x"}[5m])) or vector(0)')).toEqual(
      new Set(["a_total", "b_total"]),
    );
    expect(promqlMetricNames("max_over_time(sum(vehicle_connections_active)[1h:1m]) * 0.5")).toEqual(new Set(["vehicle_connections_active"]));
  });
});

describe("services export the metrics ops/ relies on", () => {
  it("finds the metric names of both services in their sources", () => {
    // Guards the extraction itself: if these vanish, every later check would pass vacuously.
    for (const name of ["commands_executed_total", "command_execution_duration_seconds", "vehicle_connections_active", "rpc_requests_total"]) {
      expect(exported.has(name), `${name} not found in the services' sources`).toBe(true);
    }
    expect(defaults.has("process_cpu_seconds_total")).toBe(true);
    expect(defaults.has("nodejs_eventloop_lag_p99_seconds")).toBe(true);
  });
});

describe("Grafana dashboards", () => {
  const boards = dashboards();

  it("has the operations, commands and fleet dashboards with unique uids", () => {
    expect([...boards.keys()].sort()).toEqual(["commands.json", "fleet.json", "operations.json"]);
    const uids = [...boards.values()].map((d) => d.uid);
    expect(new Set(uids).size).toBe(uids.length);
  });

  it("queries only the provisioned Prometheus datasource", () => {
    const provisioned = readYaml<{ datasources: { uid: string; type: string }[] }>("ops", "grafana", "provisioning", "datasources", "prometheus.yml");
    const uid = provisioned.datasources[0]!.uid;
    for (const [file, board] of boards) {
      for (const panel of allPanels(board).filter((p) => p.type !== "row")) {
        expect(panel.datasource, `${file}: ${panel.title}`).toEqual({ type: "prometheus", uid });
        expect(panel.targets?.length ?? 0, `${file}: ${panel.title} has no query`).toBeGreaterThan(0);
        for (const t of panel.targets ?? []) expect(t.datasource?.uid ?? uid).toBe(uid);
      }
    }
  });

  it("lays panels out on Grafana's 24-column grid with unique ids", () => {
    for (const [file, board] of boards) {
      const panels = allPanels(board);
      expect(new Set(panels.map((p) => p.id)).size, file).toBe(panels.length);
      for (const p of panels) expect(p.gridPos.x + p.gridPos.w, `${file}: ${p.title}`).toBeLessThanOrEqual(24);
    }
  });

  it("names in every query a metric that the gateway or the connector exports", () => {
    for (const [file, board] of boards) {
      for (const panel of allPanels(board)) {
        for (const target of panel.targets ?? []) {
          const names = promqlMetricNames(target.expr);
          expect(names.size, `${file}: "${panel.title}" ${target.expr}`).toBeGreaterThan(0);
          expect(unknownMetrics(names), `${file}: "${panel.title}" ${target.expr}`).toEqual([]);
        }
      }
    }
  });

  it("shows what each dashboard promises", () => {
    const exprs = (file: string): string => allPanels(boards.get(file)!).flatMap((p) => (p.targets ?? []).map((t) => t.expr)).join("\n");
    const operations = exprs("operations.json");
    expect(operations).toContain("rpc_requests_total");
    expect(operations).toMatch(/code!="ok"/);
    expect(operations).toContain("rpc_request_duration_seconds_bucket");
    const commands = exprs("commands.json");
    expect(commands).toMatch(/sum by \(status\) \(rate\(commands_executed_total/);
    expect(commands).toContain('commands_executed_total{status="completed"}');
    for (const q of ["0.5", "0.95", "0.99"]) expect(commands).toContain(`histogram_quantile(${q}, sum by (le, command) (rate(command_execution_duration_seconds_bucket`);
    expect(commands).toContain("command_sweeps_total");
    const fleet = exprs("fleet.json");
    expect(fleet).toContain("vehicle_connections_active");
    expect(fleet).toContain("circuit_breakers_open");
  });

  it("uses only histogram buckets the services really have", () => {
    const les = [...boards.values()]
      .flatMap((b) => allPanels(b).flatMap((p) => (p.targets ?? []).map((t) => t.expr)))
      .concat(alertRules().map((r) => r.expr))
      .flatMap((e) => [...e.matchAll(/le=~?"([0-9.]+)/g)].map((m) => Number(m[1])));
    expect(les.length).toBeGreaterThan(0);
    for (const le of les) expect(COMMAND_DURATION_BUCKETS).toContain(le);
  });
});

describe("Prometheus alert rules", () => {
  const rules = alertRules();
  const alerts = rules.filter((r) => r.alert !== undefined);
  const recorded = new Set(rules.flatMap((r) => (r.record ? [r.record] : [])));

  it("covers the failure modes an on-call engineer must hear about", () => {
    const names = alerts.map((a) => a.alert);
    for (const name of [
      "GatewayDown",
      "ConnectorDown",
      "ServiceNotReady",
      "CommandFailureRatioHigh",
      "CommandTimeoutsRising",
      "CommandDurationP95High",
      "NoVehiclesConnected",
      "CircuitBreakersOpen",
      "DatabaseErrors",
      "BusErrors",
    ]) {
      expect(names).toContain(name);
    }
    expect(new Set(names).size).toBe(names.length);
  });

  it("names in every expression a metric that is exported or recorded", () => {
    for (const rule of rules) {
      const names = promqlMetricNames(rule.expr);
      expect(names.size, rule.alert ?? rule.record).toBeGreaterThan(0);
      expect(unknownMetrics(names, recorded), `${rule.alert ?? rule.record}: ${rule.expr}`).toEqual([]);
    }
  });

  it("gives every alert a severity, a summary and a runbook section that exists", () => {
    for (const a of alerts) {
      expect(["critical", "warning", "info"], a.alert).toContain(a.labels?.severity);
      expect(a.annotations?.summary, a.alert).toBeTruthy();
      const runbook = a.annotations?.runbook ?? "";
      const [file, anchor] = runbook.split("#");
      expect(existsSync(repoPath(file!)), `${a.alert}: ${runbook}`).toBe(true);
      expect(anchorsOf(file!), `${a.alert}: #${anchor} in ${file}`).toContain(anchor);
    }
  });

  it("is documented in docs/runbooks/monitoring.md, with every metric it and the dashboards use", () => {
    const doc = readRepoFile("docs", "runbooks", "monitoring.md");
    for (const a of alerts) expect(doc, `alert ${a.alert}`).toContain(a.alert!);
    const used = new Set<string>();
    for (const r of rules) for (const n of promqlMetricNames(r.expr)) used.add(n);
    for (const b of dashboards().values()) for (const p of allPanels(b)) for (const t of p.targets ?? []) for (const n of promqlMetricNames(t.expr)) used.add(n);
    for (const name of used) {
      if (recorded.has(name)) continue;
      const base = baseMetricNames(name).at(-1)!;
      expect(doc, `metric ${base}`).toContain(base);
    }
  });
});
