import { spawnSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { createMetricsRegistry } from "@sovd/platform";
import { parse, parseAllDocuments } from "yaml";

/** The repository root, so the ops tests read the files an operator would use. */
export const REPO_ROOT = join(dirname(fileURLToPath(import.meta.url)), "..", "..");

/** Absolute path of a repository file. */
export const repoPath = (...parts: string[]): string => join(REPO_ROOT, ...parts);

/** Text of a repository file. */
export const readRepoFile = (...parts: string[]): string => readFileSync(repoPath(...parts), "utf8");

/** One YAML document, with `<<` merge keys resolved as docker compose resolves them. */
export function readYaml<T = unknown>(...parts: string[]): T {
  return parse(readRepoFile(...parts), { merge: true }) as T;
}

/** Every document of a multi-document YAML text (Kubernetes manifests). */
export function parseYamlDocuments(text: string): unknown[] {
  return parseAllDocuments(text, { merge: true }).map((doc) => {
    if (doc.errors.length > 0) throw new Error(doc.errors.map((e) => e.message).join("; "));
    return doc.toJS() as unknown;
  });
}

/** True when `name` is an executable on PATH (tests of promtool, plantuml, pg_dump skip without it). */
export function hasBinary(name: string): boolean {
  return spawnSync("sh", ["-c", `command -v ${name}`], { stdio: "ignore" }).status === 0;
}

/** Files under `dir` (recursively) whose names pass `keep`. */
export function listFiles(dir: string, keep: (name: string) => boolean): string[] {
  const out: string[] = [];
  if (!existsSync(dir)) return out;
  for (const entry of readdirSync(dir)) {
    const path = join(dir, entry);
    if (statSync(path).isDirectory()) out.push(...listFiles(path, keep));
    else if (keep(entry)) out.push(path);
  }
  return out.sort();
}

/** GitHub's anchor for a Markdown heading, so link checks resolve `#fragment`s as GitHub does. */
export const headingAnchor = (heading: string): string =>
  heading
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\s_-]/gu, "")
    .replace(/\s/g, "-");

/** The headings of a Markdown text, without their `#`s. */
export const markdownHeadings = (text: string): string[] =>
  text
    .split("\n")
    .filter((l) => /^#{1,6}\s/.test(l))
    .map((l) => l.replace(/^#+\s*/, ""));

/** The service source folders whose metrics dashboards and alerts may use. */
export const METRIC_SOURCE_DIRS = ["domain/src", "gateway/src", "connector/src"] as const;

/**
 * Every snake_case string literal in the gateway's and connector's (non-test) sources:
 * metric names are written there as literals (`new Counter({ name: "..." })` or passed to a
 * helper), so a metric a dashboard names must be among them. Renaming a metric in a service
 * makes the ops tests fail.
 */
export function serviceStringLiterals(): Map<string, string> {
  const found = new Map<string, string>();
  for (const dir of METRIC_SOURCE_DIRS) {
    for (const file of listFiles(repoPath(dir), (n) => n.endsWith(".ts") && !n.endsWith(".test.ts"))) {
      const text = readFileSync(file, "utf8");
      for (const m of text.matchAll(/["'`]([a-z][a-z0-9_]*_[a-z0-9_]+)["'`]/g)) {
        if (!found.has(m[1]!)) found.set(m[1]!, relative(REPO_ROOT, file));
      }
    }
  }
  return found;
}

/** The prom-client process defaults every service registry carries (createMetricsRegistry). */
export async function defaultMetricNames(): Promise<Set<string>> {
  const registry = createMetricsRegistry();
  const metrics = await registry.getMetricsAsJSON();
  registry.clear();
  return new Set(metrics.map((m) => m.name));
}

/** Series that Prometheus or the blackbox exporter produce themselves, not the services. */
export const EXTERNAL_METRICS = new Set(["up", "probe_success", "probe_duration_seconds", "probe_http_status_code"]);

/** The name a sample series belongs to: histogram/summary series carry a suffix. */
export function baseMetricNames(series: string): string[] {
  const m = /^(.*)_(bucket|count|sum)$/.exec(series);
  return m ? [series, m[1]!] : [series];
}

const PROMQL_WORDS = new Set([
  "by", "without", "on", "ignoring", "group_left", "group_right", "and", "or", "unless", "bool", "offset",
  "inf", "nan",
]);

/**
 * The metric (or recording rule) names a PromQL expression selects. Strips strings, label
 * matchers, range/subquery brackets, grouping clauses and function calls; what is left are
 * series selectors. Grafana variables ($__rate_interval) vanish with the brackets.
 */
export function promqlMetricNames(expr: string): Set<string> {
  let s = expr.replace(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'/g, '""');
  s = s.replace(/\{[^}]*\}/g, " ");
  s = s.replace(/\[[^\]]*\]/g, " ");
  s = s.replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, " ");
  const names = new Set<string>();
  for (const m of s.matchAll(/([A-Za-z_:][A-Za-z0-9_:]*)(\s*\()?/g)) {
    if (m[2] !== undefined) continue; // a function or aggregation
    const word = m[1]!;
    if (PROMQL_WORDS.has(word.toLowerCase())) continue;
    names.add(word);
  }
  return names;
}

/** One Prometheus rule from ops/prometheus/alerts.yml. */
export interface PrometheusRule {
  alert?: string;
  record?: string;
  expr: string;
  for?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}

/** The rule groups of ops/prometheus/alerts.yml. */
export function alertRules(): PrometheusRule[] {
  const file = readYaml<{ groups: { name: string; rules: PrometheusRule[] }[] }>("ops", "prometheus", "alerts.yml");
  return file.groups.flatMap((g) => g.rules);
}

/** A Grafana panel target, as stored in ops/grafana/dashboards/*.json. */
export interface DashboardTarget {
  expr: string;
  refId: string;
  datasource?: { type: string; uid: string };
}

/** A Grafana panel (rows included). */
export interface DashboardPanel {
  id: number;
  type: string;
  title: string;
  datasource?: { type: string; uid: string };
  targets?: DashboardTarget[];
  panels?: DashboardPanel[];
  gridPos: { x: number; y: number; w: number; h: number };
}

/** A provisioned Grafana dashboard. */
export interface Dashboard {
  uid: string;
  title: string;
  panels: DashboardPanel[];
}

/** The dashboards of ops/grafana/dashboards by file name. */
export function dashboards(): Map<string, Dashboard> {
  const dir = repoPath("ops", "grafana", "dashboards");
  return new Map(
    listFiles(dir, (n) => n.endsWith(".json")).map((file) => [relative(dir, file), JSON.parse(readFileSync(file, "utf8")) as Dashboard]),
  );
}

/** Every panel of a dashboard, rows' nested panels included. */
export function allPanels(dashboard: Dashboard): DashboardPanel[] {
  return dashboard.panels.flatMap((p) => [p, ...(p.panels ?? [])]);
}
