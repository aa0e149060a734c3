import { existsSync, readFileSync } from "node:fs";
import { posix } from "node:path";
import { describe, expect, it } from "vitest";
import { listFiles, readRepoFile, readYaml, repoPath } from "./ops-files.js";

// There is no Docker engine in CI: docker-compose.yml is checked structurally. Everything it
// points at must exist, it must come up in order (health checks + depends_on conditions),
// and the ports, URLs and secrets it hands each service must agree with each other, with
// Prometheus' scrape targets and with Grafana's provisioning.

interface ComposeService {
  image?: string;
  build?: { context: string; dockerfile?: string };
  command?: string[];
  environment?: Record<string, string>;
  ports?: string[];
  volumes?: string[];
  depends_on?: Record<string, { condition: string }>;
  healthcheck?: { test: string[] };
}
interface ComposeFile {
  services: Record<string, ComposeService>;
  volumes?: Record<string, unknown>;
}

const compose = readYaml<ComposeFile>("docker-compose.yml");
const services = compose.services;
const APP_SERVICES = ["gateway", "connector", "fleet"] as const;

const env = (name: string): Record<string, string> => services[name]?.environment ?? {};
const healthcheckText = (name: string): string => (services[name]?.healthcheck?.test ?? []).join(" ");
/** Container ports a service publishes ("127.0.0.1:9091:9091" -> 9091). */
const containerPorts = (name: string): number[] => (services[name]?.ports ?? []).map((p) => Number(p.split(":").at(-1)));
/** Bind mounts of a service: host path (relative to the repo) -> container path. */
const bindMounts = (name: string): Map<string, string> =>
  new Map(
    (services[name]?.volumes ?? [])
      .filter((v) => v.startsWith("./"))
      .map((v) => {
        const [host, container] = v.split(":");
        return [posix.normalize(host!), container!];
      }),
  );

/** Every string literal of a workspace's sources (where its config reads env vars). */
function sourceText(...dirs: string[]): string {
  return dirs
    .flatMap((d) => listFiles(repoPath(d), (n) => n.endsWith(".ts") && !n.endsWith(".test.ts")))
    .map((f) => readFileSync(f, "utf8"))
    .join("\n");
}

describe("docker-compose.yml", () => {
  it("runs the whole topology", () => {
    expect(Object.keys(services).sort()).toEqual(
      expect.arrayContaining(["connector", "fleet", "gateway", "grafana", "nats", "postgres", "prometheus"]),
    );
    expect(services.nats!.command).toContain("-js");
    expect(services.postgres!.image).toMatch(/^postgres:16/);
    expect(services.fleet!.command).toEqual(expect.arrayContaining(["--vehicles"]));
  });

  it("builds one image from the repository's Dockerfile for gateway, connector and fleet", () => {
    const images = new Set(APP_SERVICES.map((s) => services[s]!.image));
    expect(images.size).toBe(1);
    for (const s of APP_SERVICES) {
      const build = services[s]!.build!;
      expect(existsSync(repoPath(build.context, build.dockerfile ?? "Dockerfile")), s).toBe(true);
    }
  });

  it("starts each app service from an entry point that exists", () => {
    for (const s of APP_SERVICES) {
      const entry = services[s]!.command![0]!;
      expect(entry, s).toMatch(/\/src\/main\.ts$/);
      expect(existsSync(repoPath(entry)), `${s}: ${entry}`).toBe(true);
    }
  });

  it("mounts only files and folders that exist, and declares its named volumes", () => {
    for (const [name, service] of Object.entries(services)) {
      for (const host of bindMounts(name).keys()) expect(existsSync(repoPath(host)), `${name}: ${host}`).toBe(true);
      for (const v of service.volumes ?? []) {
        if (v.startsWith("./") || v.startsWith("/")) continue;
        expect(Object.keys(compose.volumes ?? {}), `${name}: volume ${v}`).toContain(v.split(":")[0]);
      }
    }
  });

  it("comes up in order: every service has a health check or waits for healthy dependencies", () => {
    for (const [name, service] of Object.entries(services)) {
      const deps = Object.entries(service.depends_on ?? {});
      expect(service.healthcheck !== undefined || deps.length > 0, `${name} has neither`).toBe(true);
      for (const [dep, { condition }] of deps) {
        expect(services[dep], `${name} depends on unknown ${dep}`).toBeDefined();
        expect(condition, `${name} -> ${dep}`).toBe("service_healthy");
        expect(services[dep]!.healthcheck, `${dep} has no health check but ${name} waits for it`).toBeDefined();
      }
    }
    // No cycles: a topological order exists.
    const order: string[] = [];
    const visit = (name: string, path: string[]): void => {
      expect(path, `cycle through ${name}`).not.toContain(name);
      if (order.includes(name)) return;
      for (const dep of Object.keys(services[name]!.depends_on ?? {})) visit(dep, [...path, name]);
      order.push(name);
    };
    for (const name of Object.keys(services)) visit(name, []);
    expect(order.indexOf("postgres")).toBeLessThan(order.indexOf("connector"));
    expect(order.indexOf("connector")).toBeLessThan(order.indexOf("fleet"));
  });

  it("probes the services' readiness endpoints on the ports they listen on", () => {
    expect(healthcheckText("gateway")).toContain(`127.0.0.1:${env("gateway").GATEWAY_PORT}/health/ready`);
    expect(healthcheckText("connector")).toContain(`127.0.0.1:${env("connector").CONNECTOR_HTTP_PORT}/health/ready`);
    expect(healthcheckText("postgres")).toContain("pg_isready");
    const monitor = services.nats!.command![services.nats!.command!.indexOf("-m") + 1];
    expect(healthcheckText("nats")).toContain(`127.0.0.1:${monitor}/healthz`);
  });

  it("publishes the ports the services are configured to listen on", () => {
    expect(containerPorts("gateway")).toContain(Number(env("gateway").GATEWAY_PORT));
    expect(containerPorts("connector")).toEqual(
      expect.arrayContaining([Number(env("connector").CONNECTOR_GRPC_PORT), Number(env("connector").CONNECTOR_HTTP_PORT)]),
    );
  });

  it("points every service at the compose PostgreSQL and NATS with matching credentials", () => {
    const pg = env("postgres");
    for (const s of ["gateway", "connector"]) {
      const db = new URL(env(s).DATABASE_URL!);
      expect(db.hostname, s).toBe("postgres");
      expect(decodeURIComponent(db.username)).toBe(pg.POSTGRES_USER);
      expect(decodeURIComponent(db.password)).toBe(pg.POSTGRES_PASSWORD);
      expect(db.pathname).toBe(`/${pg.POSTGRES_DB}`);
      const nats = new URL(env(s).NATS_URL!);
      expect(`${nats.protocol}//${nats.host}`, s).toBe("nats://nats:4222");
    }
    expect(healthcheckText("postgres")).toContain(pg.POSTGRES_USER);
  });

  it("gives the fleet the connector's gRPC address and the connector's fleet key", () => {
    expect(env("fleet").CONNECTOR_URL).toBe(`connector:${env("connector").CONNECTOR_GRPC_PORT}`);
    expect(env("fleet").VEHICLE_TOKEN_SECRET).toBeTruthy();
    expect(env("fleet").VEHICLE_TOKEN_SECRET).toBe(env("connector").VEHICLE_TOKEN_SECRET);
    expect(env("gateway").JWT_SECRET).toBeTruthy();
  });

  it("marks its secrets as development-only", () => {
    const text = readRepoFile("docker-compose.yml");
    expect(text).toMatch(/DEVELOPMENT ONLY/);
    for (const s of APP_SERVICES) expect(env(s).NODE_ENV, s).toBe("development");
    expect(env("gateway").JWT_SECRET).toMatch(/dev-only/);
    expect(env("connector").VEHICLE_TOKEN_SECRET).toMatch(/dev-only/);
  });

  it("sets only environment variables the services read", () => {
    const known = sourceText("gateway/src", "connector/src", "vehicle-sim/src", "platform/src");
    for (const s of APP_SERVICES) {
      for (const name of Object.keys(env(s))) expect(known, `${s}: ${name} is read nowhere`).toContain(`"${name}"`);
    }
  });
});

describe("Prometheus in compose", () => {
  interface ScrapeConfig {
    job_name: string;
    metrics_path?: string;
    params?: Record<string, string[]>;
    static_configs: { targets: string[] }[];
    relabel_configs?: { replacement?: string; target_label?: string }[];
  }
  const prometheus = readYaml<{ rule_files: string[]; scrape_configs: ScrapeConfig[] }>("ops", "prometheus", "prometheus.yml");
  const job = (name: string): ScrapeConfig => prometheus.scrape_configs.find((j) => j.job_name === name)!;
  const targets = (name: string): string[] => job(name).static_configs.flatMap((c) => c.targets);

  it("loads its config and rules from the mounted files", () => {
    const mounts = bindMounts("prometheus");
    const configPath = mounts.get("ops/prometheus/prometheus.yml");
    expect(services.prometheus!.command).toContain(`--config.file=${configPath}`);
    for (const rules of prometheus.rule_files) {
      expect(existsSync(repoPath("ops", "prometheus", rules)), rules).toBe(true);
      expect(mounts.get(posix.join("ops/prometheus", rules))).toBe(posix.join(posix.dirname(configPath!), rules));
    }
  });

  it("scrapes both services on their metrics ports", () => {
    expect(targets("gateway")).toEqual([`gateway:${env("gateway").GATEWAY_PORT}`]);
    expect(targets("connector")).toEqual([`connector:${env("connector").CONNECTOR_HTTP_PORT}`]);
    expect(job("gateway").metrics_path).toBe("/metrics");
    expect(job("connector").metrics_path).toBe("/metrics");
  });

  it("probes both readiness endpoints through the blackbox exporter it runs", () => {
    expect(targets("readiness")).toEqual([
      `http://gateway:${env("gateway").GATEWAY_PORT}/health/ready`,
      `http://connector:${env("connector").CONNECTOR_HTTP_PORT}/health/ready`,
    ]);
    const address = job("readiness").relabel_configs!.find((r) => r.target_label === "__address__")!.replacement!;
    expect(services[address.split(":")[0]!]).toBeDefined();
    const blackbox = readYaml<{ modules: Record<string, unknown> }>("ops", "blackbox", "blackbox.yml");
    for (const m of job("readiness").params!.module!) expect(Object.keys(blackbox.modules)).toContain(m);
    expect([...bindMounts("blackbox").keys()]).toContain("ops/blackbox/blackbox.yml");
  });
});

describe("Grafana in compose", () => {
  const mounts = bindMounts("grafana");

  it("provisions the Prometheus datasource at the compose address", () => {
    expect(mounts.get("ops/grafana/provisioning/datasources")).toBe("/etc/grafana/provisioning/datasources");
    const ds = readYaml<{ datasources: { url: string; type: string }[] }>("ops", "grafana", "provisioning", "datasources", "prometheus.yml");
    expect(ds.datasources).toHaveLength(1);
    expect(ds.datasources[0]!.type).toBe("prometheus");
    const url = new URL(ds.datasources[0]!.url);
    expect(services[url.hostname]).toBe(services.prometheus);
    expect(services.prometheus!.ports!.some((p) => p.endsWith(`:${url.port}`))).toBe(true);
  });

  it("loads the dashboards from where it mounts them", () => {
    expect(mounts.get("ops/grafana/provisioning/dashboards")).toBe("/etc/grafana/provisioning/dashboards");
    const providers = readYaml<{ providers: { options: { path: string } }[] }>("ops", "grafana", "provisioning", "dashboards", "sovd.yml");
    const dashboardsAt = mounts.get("ops/grafana/dashboards");
    expect(providers.providers.map((p) => p.options.path)).toEqual([dashboardsAt]);
    const home = env("grafana").GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH!;
    expect(home.startsWith(`${dashboardsAt}/`)).toBe(true);
    expect(existsSync(repoPath("ops/grafana/dashboards", posix.relative(dashboardsAt!, home)))).toBe(true);
  });
});
