/**
 * The deployed system the faults run against, one process per service: gateways and
 * connectors through the bench's launchers (their npm scripts' entry files, environment
 * only), a fleet simulator dialling the connectors through a balancer, the suite's own
 * nats-server and its own PostgreSQL database. The topology notices a service that exits
 * without being told to, counts it, and can start it again.
 */
import { fleetIdentity } from "@sovd/platform";
import { progress } from "../bench/log.js";
import { rssBytes } from "../bench/proc-stats.js";
import { monoMs, sleep, waitFor } from "../bench/stats.js";
import { startConnector, startFleet, startGateway, waitSessions, type RunningConnector, type RunningFleet, type RunningGateway, type StackContext } from "../bench/system/stack.js";
import { startBalancer, type Balancer } from "./balancer.js";
import { startOwnNats, type OwnNats } from "./nats-server.js";
import type { ChaosDatabase } from "./postgres.js";

/** Settings of every service of the suite on top of the bench's (`baseEnv`). */
export interface Timing {
  /** Each command's deadline (the command types' timeouts). */
  readonly commandTimeoutMs: number;
  readonly sweepIntervalMs: number;
  /** Spacing of a simulated answer's chunks. */
  readonly chunkIntervalMs: number;
  /** The gateways' circuit-breaker cooldown; undefined keeps the default. */
  readonly breakerCooldownMs?: number;
}

function serviceEnv(t: Timing): Record<string, string> {
  const timeout = String(t.commandTimeoutMs);
  return {
    COMMAND_TIMEOUT_READDTC_MS: timeout,
    COMMAND_TIMEOUT_READDATABYID_MS: timeout,
    COMMAND_TIMEOUT_CLEARDTC_MS: timeout,
    SWEEP_INTERVAL_MS: String(t.sweepIntervalMs),
    SIM_CHUNK_INTERVAL_MS: String(t.chunkIntervalMs),
    SIM_RECONNECT_INITIAL_MS: "200",
    SIM_RECONNECT_MAX_MS: "1500",
    SIM_HELLO_TIMEOUT_MS: "3000",
    SIM_CONNECT_STAGGER_MS: "2",
    HEARTBEAT_INTERVAL_MS: "2000",
    ACCESS_TOKEN_TTL_SECONDS: "7200",
    SHUTDOWN_GRACE_MS: "2000",
    DRAIN_TIMEOUT_MS: "2000",
    ...(t.breakerCooldownMs === undefined ? {} : { BREAKER_COOLDOWN_MS: String(t.breakerCooldownMs) }),
  };
}

interface Supervised {
  readonly name: string;
  pid(): number;
  exited(): boolean;
  tail(): string;
}

/** A service that ended without the suite asking: what the table reports as a process exit. */
export interface UnexpectedExit {
  readonly name: string;
  readonly at: number;
  readonly tail: string;
}

export class Topology {
  readonly connectors = new Map<string, RunningConnector>();
  readonly gateways: RunningGateway[] = [];
  fleet!: RunningFleet;
  readonly vehicleIds: string[] = [];
  readonly unexpectedExits: UnexpectedExit[] = [];
  private readonly meant = new Set<number>();
  private readonly restarts = new Map<string, number>();
  private watchTimer: NodeJS.Timeout | undefined;
  private balancer!: Balancer;
  private readonly reported = new Set<number>();
  private connectorEnv: Record<string, string> = {};
  private gatewayEnv: Record<string, string> = {};

  private constructor(
    readonly stack: StackContext,
    readonly nats: OwnNats,
    readonly db: ChaosDatabase,
    readonly timing: Timing,
    private readonly firstIndex: number,
  ) {}

  static async start(opts: { db: ChaosDatabase; logDir: string; timing: Timing; gateways: number; connectors: number; vehicles: number; gatewayEnv?: Record<string, string> }): Promise<Topology> {
    const nats = await startOwnNats();
    progress(`own nats-server at ${nats.url}`);
    const stack: StackContext = { databaseUrl: opts.db.url, natsUrl: nats.url, logDir: opts.logDir, nodeFlags: [] };
    const firstIndex = 2_000_000 + Math.floor(Math.random() * 1_000_000_000);
    const t = new Topology(stack, nats, opts.db, opts.timing, firstIndex);
    t.gatewayEnv = opts.gatewayEnv ?? {};
    t.balancer = await startBalancer([]);
    // One connector first: it migrates the database, so the others start on a migrated schema.
    await t.startConnector("connector-1");
    const rest = Array.from({ length: opts.connectors - 1 }, (_, i) => t.startConnector(`connector-${i + 2}`));
    const gws = Array.from({ length: opts.gateways }, (_, i) => t.startGateway(i));
    await Promise.all([...rest, ...gws]);
    t.fleet = startFleet(stack, { name: "fleet", connector: t.balancer.address, vehicles: opts.vehicles, firstIndex, env: serviceEnv(opts.timing) });
    for (let i = 0; i < opts.vehicles; i++) t.vehicleIds.push(fleetIdentity(firstIndex + i).vehicleId);
    await t.waitFleetOnline(120_000);
    t.watchTimer = setInterval(() => t.noticeExits(), 200);
    return t;
  }

  private env(): Record<string, string> {
    return serviceEnv(this.timing);
  }

  private logName(base: string): string {
    const n = (this.restarts.get(base) ?? 0) + 1;
    this.restarts.set(base, n);
    return n === 1 ? base : `${base}.${n}`;
  }

  /** Starts (or starts again) connector `name` with `extra` environment on top of the suite's. */
  async startConnector(name: string, extra: Record<string, string> = {}): Promise<RunningConnector> {
    const c = await startConnector(this.stack, { name: this.logName(name), env: { ...this.env(), ...this.connectorEnv, ...extra, CONNECTOR_ID: name } });
    this.connectors.set(name, c);
    this.balancer.setUpstreams([...this.connectors.values()].filter((x) => !x.proc.exited).map((x) => x.grpcPort));
    return c;
  }

  /** Environment every connector started from now on gets (the fault-rate runs). */
  setConnectorEnv(env: Record<string, string>): void {
    this.connectorEnv = env;
  }

  private async startGateway(i: number): Promise<void> {
    const g = await startGateway(this.stack, { name: this.logName(`gateway-${i + 1}`), env: { ...this.env(), ...this.gatewayEnv } });
    this.gateways[i] = g;
  }

  get gatewayUrls(): string[] {
    return this.gateways.map((g) => g.url);
  }

  /** SIGKILL, as a crash: the suite meant it, so it is no unexpected exit. */
  async killConnector(name: string): Promise<void> {
    const c = this.connectors.get(name)!;
    this.meant.add(c.proc.pid);
    await c.proc.kill();
    this.balancer.setUpstreams([...this.connectors.values()].filter((x) => !x.proc.exited).map((x) => x.grpcPort));
  }

  /** Every vehicle has a session on some connector (sum of the connectors' gauges). */
  async waitFleetOnline(timeoutMs: number): Promise<number> {
    const live = [...this.connectors.values()].filter((c) => !c.proc.exited);
    if (live.length === 1) return waitSessions(live[0]!, this.vehicleIds.length || this.fleet.vehicles, timeoutMs);
    const { readMetric } = await import("../bench/system/stack.js");
    await waitFor(`${this.fleet.vehicles} vehicles online`, timeoutMs, async () => {
      let sum = 0;
      for (const c of live) sum += await readMetric(`http://127.0.0.1:${c.httpPort}/metrics`, "vehicle_connections_active").catch(() => 0);
      return sum >= this.fleet.vehicles ? true : undefined;
    }, 250);
    return monoMs();
  }

  private services(): Supervised[] {
    const wrap = (name: string, p: { pid: number; exited: boolean; tail(): string }): Supervised => ({ name, pid: () => p.pid, exited: () => p.exited, tail: () => p.tail() });
    return [
      ...[...this.connectors.entries()].map(([n, c]) => wrap(n, c.proc)),
      ...this.gateways.map((g, i) => wrap(`gateway-${i + 1}`, g.proc)),
      ...(this.fleet ? [wrap("fleet", this.fleet.proc)] : []),
    ];
  }

  private noticeExits(): void {
    for (const s of this.services()) {
      const pid = s.pid();
      if (!s.exited() || this.meant.has(pid) || this.reported.has(pid)) continue;
      this.reported.add(pid);
      this.unexpectedExits.push({ name: s.name, at: monoMs(), tail: s.tail() });
      progress(`!! ${s.name} (pid ${pid}) exited on its own\n${s.tail()}`);
    }
  }

  /** Starts again every service that died, so the next fault finds the whole system. */
  async heal(): Promise<string[]> {
    this.noticeExits();
    const restarted: string[] = [];
    for (const [name, c] of [...this.connectors.entries()]) {
      if (!c.proc.exited || this.meant.has(c.proc.pid)) continue;
      await this.startConnector(name);
      restarted.push(name);
    }
    for (let i = 0; i < this.gateways.length; i++) {
      if (!this.gateways[i]!.proc.exited) continue;
      await this.startGateway(i);
      restarted.push(`gateway-${i + 1}`);
    }
    if (this.fleet.proc.exited) {
      this.fleet = startFleet(this.stack, { name: this.logName("fleet"), connector: this.balancer.address, vehicles: this.fleet.vehicles, firstIndex: this.firstIndex, env: this.env() });
      restarted.push("fleet");
    }
    return restarted;
  }

  /** The readiness of every gateway and connector: names of those not answering 200. */
  async notReady(): Promise<string[]> {
    const urls: Array<[string, string]> = [
      ...[...this.connectors.entries()].filter(([, c]) => !c.proc.exited).map(([n, c]): [string, string] => [n, `http://127.0.0.1:${c.httpPort}/health/ready`]),
      ...this.gateways.map((g, i): [string, string] => [`gateway-${i + 1}`, `${g.url}/health/ready`]),
    ];
    const out: string[] = [];
    await Promise.all(
      urls.map(async ([name, url]) => {
        try {
          const res = await fetch(url, { signal: AbortSignal.timeout(2000) });
          await res.arrayBuffer();
          if (res.status !== 200) out.push(name);
        } catch {
          out.push(name);
        }
      }),
    );
    return out;
  }

  async waitAllReady(timeoutMs: number): Promise<void> {
    await waitFor("every service ready", timeoutMs, async () => ((await this.notReady()).length === 0 ? true : undefined), 200);
  }

  /** RSS in bytes of every running service by name. */
  rss(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const s of this.services()) {
      if (s.exited()) continue;
      const r = rssBytes(s.pid());
      if (r !== undefined) out[s.name] = r;
    }
    return out;
  }

  async close(): Promise<void> {
    if (this.watchTimer) clearInterval(this.watchTimer);
    for (const s of this.services()) this.meant.add(s.pid());
    await this.fleet?.proc.stop(5000);
    await Promise.all(this.gateways.map((g) => g.proc.stop(5000)));
    await Promise.all([...this.connectors.values()].map((c) => c.proc.stop(5000)));
    await this.balancer.close();
    await this.nats.stop();
    await sleep(0);
  }
}
