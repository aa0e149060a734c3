import { existsSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { readRepoFile, repoPath } from "./ops-files.js";

// The image is built where there is a Docker engine (not here), so the Dockerfile is checked
// against the repository it builds: every workspace's manifest reaches `npm ci`, the runtime
// stage carries every server workspace and its dependencies, tsx (a root devDependency) is
// copied together with its whole dependency closure from package-lock.json, and
// .dockerignore keeps out nothing the build needs.

interface Instruction {
  op: string;
  args: string;
}
interface Stage {
  name: string;
  from: string;
  instructions: Instruction[];
}

function parseDockerfile(text: string): { args: Map<string, string>; stages: Stage[] } {
  const lines = text
    .replace(/\\\n/g, " ")
    .split("\n")
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith("#"));
  const args = new Map<string, string>();
  const stages: Stage[] = [];
  for (const line of lines) {
    const [op, ...rest] = line.split(/\s+/);
    const instruction = { op: op!.toUpperCase(), args: rest.join(" ") };
    if (instruction.op === "FROM") {
      const m = /^(\S+)(?:\s+AS\s+(\S+))?$/i.exec(instruction.args)!;
      stages.push({ from: m[1]!, name: m[2] ?? String(stages.length), instructions: [] });
    } else if (stages.length === 0 && instruction.op === "ARG") {
      const [k, v] = instruction.args.split("=");
      args.set(k!, v ?? "");
    } else {
      stages.at(-1)?.instructions.push(instruction);
    }
  }
  return { args, stages };
}

/** `COPY [--from=x] [--chown=...] src... dest` -> { from, sources, dest }. */
function parseCopy(args: string): { from?: string; sources: string[]; dest: string } {
  const words = args.split(/\s+/);
  const flags = words.filter((w) => w.startsWith("--"));
  const paths = words.filter((w) => !w.startsWith("--"));
  const from = flags.find((f) => f.startsWith("--from="))?.slice("--from=".length);
  return { from, sources: paths.slice(0, -1), dest: paths.at(-1)! };
}

/** Whether .dockerignore keeps `path` out of the build context (last matching rule wins). */
function ignored(path: string, rules: string[]): boolean {
  let out = false;
  for (const raw of rules) {
    const negate = raw.startsWith("!");
    const pattern = negate ? raw.slice(1) : raw;
    const re = new RegExp(
      `^${pattern
        .replace(/[.+^${}()|[\]\\]/g, "\\$&")
        .split("**/")
        .map((part) => part.split("**").map((p) => p.replace(/\*/g, "[^/]*")).join(".*"))
        .join("(?:.*/)?")}(?:/.*)?$`,
    );
    if (re.test(path)) out = !negate;
  }
  return out;
}

interface LockPackage {
  dev?: boolean;
  devOptional?: boolean;
  optional?: boolean;
  os?: string[];
  dependencies?: Record<string, string>;
  optionalDependencies?: Record<string, string>;
}

const dockerfile = parseDockerfile(readRepoFile("Dockerfile"));
const stage = (name: string): Stage => dockerfile.stages.find((s) => s.name === name)!;
const copies = (s: Stage): ReturnType<typeof parseCopy>[] => s.instructions.filter((i) => i.op === "COPY").map((i) => parseCopy(i.args));
const runs = (s: Stage): string => s.instructions.filter((i) => i.op === "RUN").map((i) => i.args).join("\n");
const rootPackage = JSON.parse(readRepoFile("package.json")) as { workspaces: string[] };
const lock = JSON.parse(readRepoFile("package-lock.json")) as { packages: Record<string, LockPackage> };
const SERVER_WORKSPACES = ["proto", "platform", "domain", "link", "gateway", "connector", "vehicle-sim"];

describe("Dockerfile", () => {
  it("is multi-stage on node:20-bookworm-slim and runs as a non-root user without HEALTHCHECK", () => {
    expect(dockerfile.stages.map((s) => s.name)).toEqual(["deps", "build", "prod-deps", "runtime"]);
    expect(dockerfile.args.get("NODE_IMAGE")).toBe("node:20-bookworm-slim");
    const runtime = stage("runtime");
    expect(runtime.from).toBe("${NODE_IMAGE}");
    expect(runtime.instructions.find((i) => i.op === "USER")?.args).toBe("node");
    expect(dockerfile.stages.flatMap((s) => s.instructions).some((i) => i.op === "HEALTHCHECK")).toBe(false);
    expect(runtime.instructions.find((i) => i.op === "ENTRYPOINT")?.args).toBe('["node", "--import", "tsx"]');
    const cmd = JSON.parse(runtime.instructions.find((i) => i.op === "CMD")!.args) as string[];
    expect(existsSync(repoPath(cmd[0]!)) || cmd[0] === "gateway/src/main.ts").toBe(true);
  });

  it("installs from the lock file with every workspace manifest present", () => {
    expect(runs(stage("deps"))).toMatch(/\bnpm ci\b/);
    const manifests = copies(stage("deps")).flatMap((c) => c.sources);
    for (const ws of rootPackage.workspaces) expect(manifests, ws).toContain(`${ws}/package.json`);
    expect(manifests).toEqual(expect.arrayContaining(["package.json", "package-lock.json"]));
    expect(runs(stage("build"))).toContain("npm run build -w web");
  });

  it("installs production dependencies of exactly the server workspaces and everything they import", () => {
    const prod = runs(stage("prod-deps"));
    expect(prod).toMatch(/npm ci --omit=dev/);
    const selected = [...prod.matchAll(/-w (\S+)/g)].map((m) => m[1]);
    expect(selected.sort()).toEqual([...SERVER_WORKSPACES].sort());
    for (const ws of SERVER_WORKSPACES) {
      const pkg = JSON.parse(readRepoFile(ws, "package.json")) as { dependencies?: Record<string, string> };
      for (const dep of Object.keys(pkg.dependencies ?? {}).filter((d) => d.startsWith("@sovd/"))) {
        expect(SERVER_WORKSPACES, `${ws} needs ${dep}`).toContain(dep.slice("@sovd/".length));
      }
    }
    const manifests = copies(stage("prod-deps")).flatMap((c) => c.sources.map((s) => s.replace(/^\/app\//, "")));
    for (const ws of rootPackage.workspaces) expect(manifests, ws).toContain(`${ws}/package.json`);
  });

  it("copies tsx with its whole dependency closure from package-lock.json", () => {
    const copied = copies(stage("prod-deps"))
      .filter((c) => c.from === "deps")
      .flatMap((c) => c.sources)
      .filter((s) => s.startsWith("/app/node_modules/"))
      .map((s) => s.slice("/app/".length));
    const needed = new Set<string>();
    const visit = (name: string): void => {
      const entry = lock.packages[`node_modules/${name}`];
      if (!entry || needed.has(name)) return; // an optional platform package not in the lock
      if (entry.os && !entry.os.includes("linux")) return; // never installed in a Linux image
      if (entry.dev || entry.devOptional) needed.add(name);
      for (const dep of [...Object.keys(entry.dependencies ?? {}), ...Object.keys(entry.optionalDependencies ?? {})]) visit(dep);
    };
    visit("tsx");
    expect(needed.has("tsx")).toBe(true);
    for (const name of needed) {
      const dir = name.startsWith("@") ? name.split("/")[0]! : name;
      expect(
        copied.some((c) => c === `node_modules/${name}` || c === `node_modules/${dir}`),
        `node_modules/${name} (needed by tsx) is not copied into the image`,
      ).toBe(true);
    }
  });

  it("ships the sources, migrations and built web app the services load at run time", () => {
    const runtime = copies(stage("runtime"));
    const sources = runtime.filter((c) => c.from === undefined).flatMap((c) => c.sources);
    for (const ws of SERVER_WORKSPACES) expect(sources).toEqual(expect.arrayContaining([`${ws}/package.json`, `${ws}/src`]));
    expect(sources).toContain("platform/migrations");
    for (const s of sources) expect(existsSync(repoPath(s)), s).toBe(true);
    expect(runtime.find((c) => c.from === "build")?.sources).toEqual(["/app/web/dist"]);
    expect(runtime.find((c) => c.from === "prod-deps")?.sources).toEqual(["/app/node_modules"]);
  });

  it("has a .dockerignore that keeps out local state but nothing the build copies", () => {
    const rules = readRepoFile(".dockerignore")
      .split("\n")
      .map((l) => l.trim())
      .filter((l) => l && !l.startsWith("#"));
    for (const p of ["node_modules", "web/node_modules", ".git", ".data", "web/dist", "gateway/src/x.test.ts"]) {
      expect(ignored(p, rules), p).toBe(true);
    }
    const needed = dockerfile.stages.flatMap((s) => copies(s).filter((c) => c.from === undefined).flatMap((c) => c.sources)).filter((s) => s !== ".");
    for (const p of [...needed, "web/src/main.tsx", "web/index.html", "proto/src/gen/sovd/v1/command_pb.ts"]) {
      expect(ignored(p, rules), `${p} is needed by the build`).toBe(false);
    }
  });
});
