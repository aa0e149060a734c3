/**
 * What one run measures and how big: the scenarios picked on the command line and the
 * sizes of `--tiny` (the smoke test), `--quick` and the full run, each overridable.
 */
import { parseArgs } from "node:util";

export const SCENARIOS = ["noise", "S1", "S2", "S3", "S2e", "multi", "S4", "S5"] as const;
export type ScenarioId = (typeof SCENARIOS)[number];

export interface Plan {
  readonly scenarios: ReadonlySet<ScenarioId>;
  readonly size: "tiny" | "quick" | "full";
  /** Bare references: samples of a latency run, and warm-up and window of a throughput run. */
  readonly ref: { readonly samples: number; readonly warmupMs: number; readonly windowMs: number; readonly natsBurst: number };
  /** Simulated vehicles of the S1/S2/S3 fleet. */
  readonly vehicles: number;
  readonly s1: { readonly warmupMs: number; readonly windowMs: number };
  readonly s2: { readonly inFlight: number; readonly warmupMs: number; readonly windowMs: number };
  readonly s3: { readonly inFlight: number; readonly samples: number; readonly warmupMs: number; readonly windowMs: number };
  /** `sessions` as run; `asked` as requested (more than the open-file limit allows one process is capped). */
  readonly s4: { readonly sessions: readonly number[]; readonly asked: readonly number[]; readonly perFleetProcess: number; readonly idleMs: number };
  readonly s5: { readonly watchers: number; readonly samples: number; readonly rounds: number };
  /** Drive already running services at this gateway URL instead of starting any (S1 and S2 only). */
  readonly gateway: string | undefined;
  /** With --gateway: the fleet index of the first vehicle to address. */
  readonly firstIndex: number;
  readonly out: string | undefined;
  /** Profile the services (node --cpu-prof) into this directory. */
  readonly cpuProfDir: string | undefined;
  /** How the load generator runs a command: SubmitAndWatch (`one-call`) or SubmitCommand + WatchCommand (`two-calls`). */
  readonly api: "one-call" | "two-calls";
}

const USAGE = `usage: npm run bench -- [--quick | --tiny] [--scenarios ${SCENARIOS.join(",")}] [--out FILE]
       [--vehicles N] [--inflight N] [--duration S] [--sessions N,N] [--watchers N] [--cpu-prof DIR]
       [--gateway URL [--first-index N]] [--api one-call|two-calls]`;

function int(name: string, raw: string | undefined, fallback: number, min: number, max: number): number {
  if (raw === undefined) return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min || n > max) throw new Error(`--${name} must be an integer from ${min} to ${max}, got "${raw}"\n${USAGE}`);
  return n;
}

/**
 * One process holds every session of S4 (the connector, the bare servers), so a size is
 * capped below the open-file hard limit, leaving room for the process's other descriptors.
 */
export function capSessions(plan: Plan, hardLimit: number): Plan {
  const cap = Math.floor((hardLimit - 500) / 500) * 500;
  if (plan.s4.sessions.every((n) => n <= cap)) return plan;
  return { ...plan, s4: { ...plan.s4, sessions: plan.s4.asked.map((n) => Math.min(n, cap)) } };
}

export function parsePlan(argv: readonly string[]): Plan {
  const { values } = parseArgs({
    args: [...argv],
    strict: true,
    options: {
      quick: { type: "boolean", default: false },
      tiny: { type: "boolean", default: false },
      scenarios: { type: "string" },
      out: { type: "string" },
      vehicles: { type: "string" },
      inflight: { type: "string" },
      duration: { type: "string" },
      sessions: { type: "string" },
      watchers: { type: "string" },
      "cpu-prof": { type: "string" },
      gateway: { type: "string" },
      "first-index": { type: "string" },
      api: { type: "string", default: "one-call" },
      help: { type: "boolean", default: false },
    },
  });
  if (values.help) throw new Error(USAGE);
  if (values.api !== "one-call" && values.api !== "two-calls") throw new Error(`--api is one-call (SubmitAndWatch) or two-calls (SubmitCommand + WatchCommand)\n${USAGE}`);
  const size = values.tiny ? "tiny" : values.quick ? "quick" : "full";
  const defaults: readonly ScenarioId[] = values.gateway ? ["S1", "S2"] : size === "full" ? SCENARIOS : ["S1", "S2", "S2e"];
  const picked = values.scenarios?.split(",").map((s) => s.trim()) ?? defaults;
  for (const s of picked) if (!(SCENARIOS as readonly string[]).includes(s)) throw new Error(`unknown scenario "${s}"\n${USAGE}`);
  const k = { tiny: 0.1, quick: 0.5, full: 1 }[size];
  const ms = (fullSeconds: number): number => Math.round(fullSeconds * 1000 * k);
  const window = values.duration === undefined ? undefined : int("duration", values.duration, 10, 1, 600) * 1000;
  const sessions = values.sessions?.split(",").map((s) => int("sessions", s, 0, 1, 100_000)) ?? (size === "full" ? [10_000, 20_000] : [size === "tiny" ? 100 : 2000]);
  return {
    scenarios: new Set(picked as ScenarioId[]),
    size,
    ref: { samples: size === "tiny" ? 50 : size === "quick" ? 400 : 1000, warmupMs: ms(1), windowMs: ms(5), natsBurst: size === "tiny" ? 5000 : 100_000 },
    vehicles: int("vehicles", values.vehicles, 64, 1, 10_000),
    s1: { warmupMs: ms(3), windowMs: window ?? ms(20) },
    s2: { inFlight: int("inflight", values.inflight, 64, 1, 1000), warmupMs: ms(5), windowMs: window ?? ms(30) },
    s3: { inFlight: int("inflight", values.inflight, 64, 1, 1000), samples: 20, warmupMs: ms(3), windowMs: window ?? ms(20) },
    s4: { sessions, asked: sessions, perFleetProcess: 5000, idleMs: ms(20) },
    s5: { watchers: int("watchers", values.watchers, 1000, 1, 10_000), samples: 20, rounds: size === "full" ? 3 : 1 },
    gateway: values.gateway,
    firstIndex: int("first-index", values["first-index"], 0, 0, 999_000_000),
    out: values.out,
    cpuProfDir: values["cpu-prof"],
    api: values.api,
  };
}
