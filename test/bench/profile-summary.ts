/**
 * Summarises the CPU profiles of a `npm run bench -- --cpu-prof DIR` run: for each service,
 * where its CPU went, by package or workspace (self time) and by function. This is how the
 * profile findings of docs/performance.md were read.
 *
 *   npx tsx test/bench/profile-summary.ts DIR [--top N]
 */
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";

interface ProfileNode {
  readonly id: number;
  readonly callFrame: { readonly functionName: string; readonly url: string; readonly lineNumber: number };
  readonly children?: readonly number[];
}

interface CpuProfile {
  readonly nodes: readonly ProfileNode[];
  readonly samples: readonly number[];
  readonly timeDeltas: readonly number[];
}

/** Where a function lives: an npm package, a workspace of this repository, node itself, or V8. */
function owner(url: string, functionName: string): string {
  if (url === "") return functionName.startsWith("(") ? functionName : "(native)";
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (pkg) return pkg[1]!;
  if (url.startsWith("node:")) return `node:${url.slice(5).split("/")[0]}`;
  const ws = /\/(gateway|connector|platform|proto|vehicle-sim|scripts|test)\//.exec(url);
  return ws ? `@sovd/${ws[1]}` : url;
}

/** Node internals, natives and V8 are charged to whoever called them. */
const isLibraryOrOwn = (o: string): boolean => !o.startsWith("node:") && !o.startsWith("(");

function summarise(profile: CpuProfile, top: number): string[] {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const charged = new Map<number, string>();
  const chargedTo = (id: number): string => {
    const known = charged.get(id);
    if (known !== undefined) return known;
    const { url, functionName } = byId.get(id)!.callFrame;
    const o = owner(url, functionName);
    const up = parent.get(id);
    const result = isLibraryOrOwn(o) || up === undefined ? o : chargedTo(up);
    charged.set(id, result);
    return result;
  };
  const selfUs = new Map<number, number>();
  profile.samples.forEach((id, i) => selfUs.set(id, (selfUs.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0)));
  const byOwner = new Map<string, number>();
  const byCaller = new Map<string, number>();
  const byFunction = new Map<string, number>();
  let busy = 0;
  for (const [id, us] of selfUs) {
    const { functionName, url, lineNumber } = byId.get(id)!.callFrame;
    if (functionName === "(idle)") continue;
    busy += us;
    const o = owner(url, functionName);
    byOwner.set(o, (byOwner.get(o) ?? 0) + us);
    const c = chargedTo(id);
    byCaller.set(c, (byCaller.get(c) ?? 0) + us);
    const f = `${functionName || "(anonymous)"} ${o}${url ? `:${lineNumber + 1}` : ""}`;
    byFunction.set(f, (byFunction.get(f) ?? 0) + us);
  }
  const pct = (us: number): string => `${((100 * us) / busy).toFixed(1).padStart(5)} %`;
  const list = (m: Map<string, number>): string[] =>
    [...m]
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([k, us]) => `    ${pct(us)}  ${k}`);
  return [
    `  busy ${(busy / 1e6).toFixed(1)} s of CPU; self time by package or workspace:`,
    ...list(byOwner),
    "  the same with node internals, natives and GC charged to the package that called them:",
    ...list(byCaller),
    "  by function:",
    ...list(byFunction),
  ];
}

const { values, positionals } = parseArgs({ allowPositionals: true, options: { top: { type: "string", default: "12" } } });
const dir = positionals[0];
if (!dir) {
  console.error("usage: npx tsx test/bench/profile-summary.ts DIR [--top N]");
  process.exit(2);
}
let names: Record<string, string> = {};
try {
  names = JSON.parse(readFileSync(join(dir, "processes.json"), "utf8")) as Record<string, string>;
} catch {
  // Profiles of another run: named by pid only.
}
for (const file of readdirSync(dir).filter((f) => f.endsWith(".cpuprofile")).sort()) {
  const pid = /^CPU\.\d+\.\d+\.(\d+)\./.exec(file)?.[1] ?? "?";
  console.log(`${names[pid] ?? `pid ${pid}`} (${file})`);
  for (const line of summarise(JSON.parse(readFileSync(join(dir, file), "utf8")) as CpuProfile, Number(values.top))) console.log(line);
}
