import { spawnSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { describe, expect, it } from "vitest";
import { hasBinary, listFiles, parseYamlDocuments, readRepoFile, repoPath } from "./ops-files.js";

// deploy/ is kustomize: base + components + overlays. No cluster here, so the manifests are
// checked for what would break a rollout: files kustomize cannot find, probes not wired to
// the health endpoints, Services or PDBs selecting nothing, ports disagreeing with the
// ConfigMap, secrets an overlay does not provide, env vars no service reads. With kubectl
// installed (it carries kustomize) the rendered overlays are checked too.

interface Container {
  name: string;
  image: string;
  args?: string[];
  ports?: { name: string; containerPort: number }[];
  env?: { name: string; value?: string; valueFrom?: { secretKeyRef?: { name: string; key: string; optional?: boolean }; configMapKeyRef?: { name: string; key: string } } }[];
  envFrom?: { configMapRef?: { name: string } }[];
  livenessProbe?: Probe;
  readinessProbe?: Probe;
  startupProbe?: Probe;
  lifecycle?: { preStop?: { exec?: { command: string[] } } };
  securityContext?: { readOnlyRootFilesystem?: boolean; allowPrivilegeEscalation?: boolean };
  volumeMounts?: { name: string; mountPath: string }[];
}
interface Probe {
  httpGet?: { path: string; port: string | number };
}
interface Manifest {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string> };
  data?: Record<string, string>;
  stringData?: Record<string, string>;
  spec?: {
    replicas?: number;
    selector?: { matchLabels?: Record<string, string> } & Record<string, string>;
    template?: {
      metadata: { labels: Record<string, string>; annotations?: Record<string, string> };
      spec: {
        terminationGracePeriodSeconds?: number;
        securityContext?: { runAsNonRoot?: boolean };
        containers: Container[];
        volumes?: { name: string }[];
      };
    };
    ports?: { name: string; port: number; targetPort: string | number }[];
    scaleTargetRef?: { kind: string; name: string };
    metrics?: { type: string; resource?: { name: string }; pods?: { metric: { name: string } } }[];
    minReplicas?: number;
    maxReplicas?: number;
    minAvailable?: number;
    maxUnavailable?: number;
    rules?: { http: { paths: { backend: { service: { name: string; port: { name?: string; number?: number } } } }[] } }[];
  };
}

const DEPLOY = repoPath("deploy");
const OVERLAYS = ["production", "demo"] as const;

/** The raw manifests of the base and the fleet component, as kustomize would read them. */
function rawManifests(): Manifest[] {
  const files = [...listFiles(join(DEPLOY, "base"), (n) => n.endsWith(".yaml")), ...listFiles(join(DEPLOY, "components"), (n) => n.endsWith(".yaml"))];
  return files
    .filter((f) => !f.endsWith("kustomization.yaml"))
    .flatMap((f) => parseYamlDocuments(readFileSync(f, "utf8")) as Manifest[]);
}

function render(overlay: string): Manifest[] {
  const run = spawnSync("kubectl", ["kustomize", join(DEPLOY, "overlays", overlay)], { encoding: "utf8", timeout: 60_000 });
  if (run.status !== 0) throw new Error(`kubectl kustomize ${overlay} failed: ${run.stderr}`);
  return parseYamlDocuments(run.stdout) as Manifest[];
}

const byKind = (manifests: Manifest[], kind: string): Manifest[] => manifests.filter((m) => m.kind === kind);
const find = (manifests: Manifest[], kind: string, name: string): Manifest | undefined =>
  manifests.find((m) => m.kind === kind && m.metadata.name === name);
const matches = (selector: Record<string, string>, labels: Record<string, string>): boolean =>
  Object.keys(selector).length > 0 && Object.entries(selector).every(([k, v]) => labels[k] === v);

/** Every string literal of the services' sources, where their config reads env vars. */
const serviceSources = ["gateway/src", "connector/src", "vehicle-sim/src", "platform/src"]
  .flatMap((d) => listFiles(repoPath(d), (n) => n.endsWith(".ts") && !n.endsWith(".test.ts")))
  .map((f) => readFileSync(f, "utf8"))
  .join("\n");

/** The checks every set of manifests (raw base or a rendered overlay) must pass. */
function checkManifests(manifests: Manifest[], label: string): void {
  const deployments = byKind(manifests, "Deployment");
  const config = byKind(manifests, "ConfigMap").find((c) => c.metadata.name === "sovd-config");
  expect(config, `${label}: ConfigMap sovd-config`).toBeDefined();
  const cfg = config!.data ?? {};

  const gateway = find(manifests, "Deployment", "gateway");
  const connector = find(manifests, "Deployment", "connector");
  expect(gateway, `${label}: gateway`).toBeDefined();
  expect(connector, `${label}: connector`).toBeDefined();

  for (const d of deployments) {
    const where = `${label}: Deployment ${d.metadata.name}`;
    const pod = d.spec!.template!;
    expect(matches(d.spec!.selector!.matchLabels!, pod.metadata.labels), `${where} selector`).toBe(true);
    expect(pod.spec.securityContext?.runAsNonRoot, where).toBe(true);
    const volumes = new Set((pod.spec.volumes ?? []).map((v) => v.name));
    for (const c of pod.spec.containers) {
      expect(c.image.split(":")[0]!.split("/").at(-1), where).toBe("sovd-fleet-gateway");
      expect(existsSync(repoPath(c.args![0]!)), `${where}: entry ${c.args![0]}`).toBe(true);
      expect(c.securityContext?.allowPrivilegeEscalation, where).toBe(false);
      if (c.securityContext?.readOnlyRootFilesystem) {
        expect(c.volumeMounts?.map((m) => m.mountPath), `${where}: tsx needs a writable /tmp`).toContain("/tmp");
      }
      for (const m of c.volumeMounts ?? []) expect(volumes.has(m.name), `${where}: volume ${m.name}`).toBe(true);
      for (const ref of c.envFrom ?? []) {
        if (ref.configMapRef) expect(find(manifests, "ConfigMap", ref.configMapRef.name), `${where}: ${ref.configMapRef.name}`).toBeDefined();
      }
      const names = [...(c.env ?? []).map((e) => e.name), ...Object.keys(cfg)];
      for (const name of names) expect(serviceSources, `${where}: ${name} is read by no service`).toContain(`"${name}"`);
      for (const e of c.env ?? []) {
        const cm = e.valueFrom?.configMapKeyRef;
        if (cm) expect(Object.keys(find(manifests, "ConfigMap", cm.name)?.data ?? {}), `${where}: ${cm.key}`).toContain(cm.key);
      }
      // Processes with an HTTP port are probed on the health endpoints (ARCHITECTURE §12).
      const http = c.ports?.find((p) => p.name === "http");
      if (http) {
        expect(c.livenessProbe?.httpGet, `${where}: liveness`).toEqual({ path: "/health/live", port: "http" });
        expect(c.readinessProbe?.httpGet, `${where}: readiness`).toEqual({ path: "/health/ready", port: "http" });
        expect(pod.metadata.annotations?.["prometheus.io/port"], `${where}: scrape port`).toBe(String(http.containerPort));
        expect(pod.metadata.annotations?.["prometheus.io/path"]).toBe("/metrics");
      }
    }
  }

  const port = (d: Manifest, name: string): number | undefined =>
    d.spec!.template!.spec.containers[0]!.ports?.find((p) => p.name === name)?.containerPort;
  expect(port(gateway!, "http"), `${label}: GATEWAY_PORT`).toBe(Number(cfg.GATEWAY_PORT));
  expect(port(connector!, "grpc"), `${label}: CONNECTOR_GRPC_PORT`).toBe(Number(cfg.CONNECTOR_GRPC_PORT));
  expect(port(connector!, "http"), `${label}: CONNECTOR_HTTP_PORT`).toBe(Number(cfg.CONNECTOR_HTTP_PORT));

  // The connector drains before Kubernetes kills it: preStop pause + DRAIN_TIMEOUT_MS fit in the grace period.
  const connectorPod = connector!.spec!.template!.spec;
  const preStop = Number(connectorPod.containers[0]!.lifecycle?.preStop?.exec?.command.at(-1) ?? 0);
  expect(Number(cfg.DRAIN_TIMEOUT_MS) / 1000 + preStop, `${label}: drain within grace`).toBeLessThan(connectorPod.terminationGracePeriodSeconds!);
  expect(connectorPod.terminationGracePeriodSeconds!).toBeGreaterThanOrEqual(30);

  for (const svc of byKind(manifests, "Service")) {
    const target = deployments.filter((d) => matches(svc.spec!.selector as Record<string, string>, d.spec!.template!.metadata.labels));
    expect(target.length, `${label}: Service ${svc.metadata.name} selects no pod`).toBe(1);
    const portNames = target[0]!.spec!.template!.spec.containers.flatMap((c) => (c.ports ?? []).map((p) => p.name));
    for (const p of svc.spec!.ports!) expect(portNames, `${label}: Service ${svc.metadata.name} port ${p.name}`).toContain(p.targetPort);
  }
  expect(find(manifests, "Service", "connector")!.spec!.ports!.map((p) => p.port).sort()).toEqual(
    [Number(cfg.CONNECTOR_GRPC_PORT), Number(cfg.CONNECTOR_HTTP_PORT)].sort(),
  );

  for (const pdb of byKind(manifests, "PodDisruptionBudget")) {
    const selected = deployments.filter((d) => matches(pdb.spec!.selector!.matchLabels!, d.spec!.template!.metadata.labels));
    expect(selected.length, `${label}: PDB ${pdb.metadata.name}`).toBe(1);
  }
  expect(find(manifests, "PodDisruptionBudget", "gateway")).toBeDefined();
  expect(find(manifests, "PodDisruptionBudget", "connector")).toBeDefined();

  for (const hpa of byKind(manifests, "HorizontalPodAutoscaler")) {
    expect(find(manifests, hpa.spec!.scaleTargetRef!.kind, hpa.spec!.scaleTargetRef!.name), `${label}: HPA ${hpa.metadata.name}`).toBeDefined();
    expect(hpa.spec!.minReplicas!).toBeLessThanOrEqual(hpa.spec!.maxReplicas!);
  }
  const gatewayHpa = find(manifests, "HorizontalPodAutoscaler", "gateway");
  expect(gatewayHpa?.spec!.metrics?.map((m) => m.resource?.name), `${label}: gateway scales on CPU`).toEqual(["cpu"]);
}

describe("deploy/ kustomizations", () => {
  const kustomizations = listFiles(DEPLOY, (n) => n === "kustomization.yaml");

  it("has a base, the fleet component and the production and demo overlays", () => {
    expect(kustomizations.map((k) => relative(DEPLOY, dirname(k))).sort()).toEqual([
      "base",
      "components/fleet-simulator",
      "overlays/demo",
      "overlays/production",
    ]);
  });

  it("refers only to files and folders that exist", () => {
    for (const k of kustomizations) {
      const doc = parseYamlDocuments(readFileSync(k, "utf8"))[0] as { resources?: string[]; components?: string[] };
      for (const entry of [...(doc.resources ?? []), ...(doc.components ?? [])]) {
        expect(existsSync(join(dirname(k), entry)), `${relative(DEPLOY, k)}: ${entry}`).toBe(true);
      }
    }
  });

  it("keeps production secrets out of the repository", () => {
    const production = readRepoFile("deploy", "overlays", "production", "kustomization.yaml");
    expect(production).not.toMatch(/secretGenerator/);
    for (const f of listFiles(DEPLOY, (n) => n.endsWith(".yaml"))) {
      const docs = parseYamlDocuments(readFileSync(f, "utf8")) as Manifest[];
      expect(docs.filter((d) => d?.kind === "Secret"), relative(DEPLOY, f)).toEqual([]);
    }
  });

  it("wires the base and the fleet component correctly (raw manifests)", () => {
    checkManifests(rawManifests(), "base");
  });
});

describe.skipIf(!hasBinary("kubectl"))("rendered overlays (kubectl kustomize)", () => {
  it.each(OVERLAYS)("%s renders into manifests that fit together", (overlay) => {
    const manifests = render(overlay);
    checkManifests(manifests, overlay);
    const namespaces = new Set(manifests.filter((m) => m.kind !== "Namespace").map((m) => m.metadata.namespace));
    expect(namespaces.size, `${overlay}: one namespace`).toBe(1);
    for (const d of byKind(manifests, "Deployment")) {
      expect(d.spec!.template!.spec.containers[0]!.image, `${overlay}: pinned image tag`).toMatch(/:[\w.-]+$/);
    }
  });

  it("production: vehicles get a load balancer, browsers an ingress, connectors scale by vehicles", () => {
    const manifests = render("production");
    const lb = find(manifests, "Service", "connector-vehicles");
    expect(lb?.spec).toMatchObject({ type: "LoadBalancer" });
    const ingress = find(manifests, "Ingress", "gateway");
    expect(ingress!.spec!.rules![0]!.http.paths[0]!.backend.service.name).toBe("gateway");
    const hpa = find(manifests, "HorizontalPodAutoscaler", "connector");
    expect(hpa!.spec!.metrics![0]!.pods!.metric.name).toBe("vehicle_connections_active");
    expect(serviceSources).toContain('"vehicle_connections_active"');
    expect(find(manifests, "Deployment", "fleet"), "no simulator in production").toBeUndefined();
    expect(byKind(manifests, "Secret")).toEqual([]);
    expect(find(manifests, "ConfigMap", "sovd-config")!.data!.NODE_ENV).toBe("production");
  });

  it("demo: runs the fleet and generates every secret key the pods need", () => {
    const manifests = render("demo");
    expect(find(manifests, "Deployment", "fleet")).toBeDefined();
    const secret = find(manifests, "Secret", "sovd-secrets");
    expect(secret).toBeDefined();
    const keys = Object.keys({ ...secret!.data, ...secret!.stringData });
    for (const d of byKind(manifests, "Deployment")) {
      for (const e of d.spec!.template!.spec.containers.flatMap((c) => c.env ?? [])) {
        const ref = e.valueFrom?.secretKeyRef;
        if (ref && !ref.optional) expect(keys, `${d.metadata.name}: ${ref.key}`).toContain(ref.key);
      }
    }
  });
});
