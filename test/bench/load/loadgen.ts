/**
 * The load generator: a process of its own that speaks only the public surfaces a client
 * has, the Connect API over HTTP/1.1 with the JSON format (as the web app does) and the
 * WebSocket bridge. It logs in like an engineer, submits and watches commands, and opens
 * fan-out watchers; the orchestrator reads the figures through calls.
 */
import { Agent } from "node:http";
import type { JsonObject } from "@bufbuild/protobuf";
import { ConnectError } from "@connectrpc/connect";
import { CommandStatus, type CommandEvent } from "@sovd/proto";
import { monoMs, sleep } from "../stats.js";
import { openConnectWatchers } from "./connect-watchers.js";
import { openSession, type GatewaySession } from "./session.js";
import type { WatchTally } from "./watch-tally.js";
import { openWsWatchers } from "./ws-watchers.js";

export interface LoadParams {
  /** Gateway base URLs; the command loops take them in turn. */
  readonly gateways: readonly string[];
  readonly username: string;
  readonly password: string;
}

export interface CommandRun {
  readonly vehicleIds: readonly string[];
  readonly inFlight: number;
  readonly commandName: string;
  readonly params?: JsonObject;
  readonly maxCommands: number;
  readonly maxMs: number;
  /**
   * How a client asks: `one-call` is SubmitAndWatch (submit and follow in one stream, the
   * API's fast path); `two-calls` is SubmitCommand then WatchCommand, as the web app does.
   */
  readonly api?: ClientApi;
}

/** The two ways a client can run a command and follow it. */
export type ClientApi = "one-call" | "two-calls";

/** The events of a command, asked for the way `api` says. */
async function* commandEvents(s: GatewaySession, vehicleId: string, run: CommandRun): AsyncGenerator<CommandEvent> {
  const submit = { vehicleId, commandName: run.commandName, params: run.params };
  const signal = AbortSignal.timeout(COMMAND_WATCH_LIMIT_MS);
  if ((run.api ?? process.env.BENCH_CLIENT_API ?? "one-call") === "one-call") {
    for await (const m of s.commands.submitAndWatch({ submit }, { headers: s.headers, signal })) if (m.kind.case === "event") yield m.kind.value;
    return;
  }
  const { command } = await s.commands.submitCommand(submit, { headers: s.headers });
  yield* s.commands.watchCommand({ commandId: command!.commandId }, { headers: s.headers, signal });
}

/** Counters at one instant (monotonic ms), so the orchestrator can cut a window out of a run. */
export interface Mark {
  readonly t: number;
  readonly completed: number;
  readonly failed: number;
  readonly chunks: number;
}

export interface RunResult extends Mark {
  /** [when it ended (monotonic ms), submit -> final chunk in ms] of every completed command. */
  readonly samples: ReadonlyArray<readonly [number, number]>;
  /** Failure reasons and how often each happened. */
  readonly failures: Record<string, number>;
  readonly submitted: number;
}

/** Each watch is bounded: a command that never ends is a failure, not a hang. */
export const COMMAND_WATCH_LIMIT_MS = 60_000;

const reasonOf = (err: unknown): string =>
  err instanceof ConnectError ? `rpc ${err.code}: ${err.rawMessage.slice(0, 80)}` : err instanceof Error ? err.message.slice(0, 80) : String(err);

export async function loadgen(params: LoadParams) {
  const agent = new Agent({ keepAlive: true, maxSockets: Infinity });
  const sessions = await Promise.all(params.gateways.map((url) => openSession(url, agent, params.username, params.password)));

  let stopping = false;
  let running: Promise<void> | undefined;
  let completed = 0;
  let failed = 0;
  let chunks = 0;
  let submitted = 0;
  let samples: Array<[number, number]> = [];
  let failures: Record<string, number> = {};
  const fail = (reason: string): void => {
    failed++;
    failures[reason] = (failures[reason] ?? 0) + 1;
  };

  /** One command, submitted and watched to its end, as an engineer's client would. */
  async function oneCommand(s: GatewaySession, vehicleId: string, run: CommandRun): Promise<void> {
    const t0 = monoMs();
    submitted++;
    let finalAt: number | undefined;
    let status: CommandStatus | undefined;
    let error = "";
    try {
      for await (const e of commandEvents(s, vehicleId, run)) {
        if (e.event.case === "response") {
          chunks++;
          if (e.event.value.isFinal) finalAt = monoMs();
        } else if (e.event.case === "status") {
          status = e.event.value.status;
          error = e.event.value.errorMessage;
        }
      }
    } catch (err) {
      fail(reasonOf(err));
      return;
    }
    if (status === CommandStatus.COMPLETED && finalAt !== undefined) {
      completed++;
      samples.push([finalAt, finalAt - t0]);
    } else fail(`ended ${CommandStatus[status ?? CommandStatus.UNSPECIFIED]}${error ? `: ${error.slice(0, 60)}` : ""}`);
  }

  const mark = (): Mark => ({ t: monoMs(), completed, failed, chunks });
  let tally: WatchTally | undefined;

  return {
    /** Starts `inFlight` command loops in the background; bounded by `maxCommands` and `maxMs`. */
    start(run: CommandRun): Mark {
      if (running) throw new Error("a command run is already going");
      stopping = false;
      completed = failed = chunks = submitted = 0;
      samples = [];
      failures = {};
      const deadline = monoMs() + run.maxMs;
      let next = 0;
      const loop = async (n: number): Promise<void> => {
        const s = sessions[n % sessions.length]!;
        while (!stopping && next < run.maxCommands && monoMs() < deadline) {
          const vehicleId = run.vehicleIds[next++ % run.vehicleIds.length]!;
          await oneCommand(s, vehicleId, run);
        }
      };
      running = Promise.all(Array.from({ length: run.inFlight }, (_, n) => loop(n))).then(() => undefined);
      return mark();
    },
    mark,
    /** Stops issuing, lets the commands in flight end (bounded), and returns the whole run. */
    async stop(arg: { timeoutMs: number }): Promise<RunResult> {
      stopping = true;
      const done = await Promise.race([running?.then(() => true), sleep(arg.timeoutMs).then(() => false)]);
      running = undefined;
      if (!done) fail("still running when the run was stopped");
      return { ...mark(), samples, failures, submitted };
    },

    /** Submits one command with an offline queue TTL (it waits for its vehicle); its id. */
    async submitQueued(arg: { vehicleId: string; commandName: string; params?: JsonObject; queueTtlMs: number }): Promise<string> {
      const s = sessions[0]!;
      const { command } = await s.commands.submitCommand(
        {
          vehicleId: arg.vehicleId,
          commandName: arg.commandName,
          params: arg.params,
          queueTtl: { seconds: BigInt(Math.ceil(arg.queueTtlMs / 1000)), nanos: 0 },
        },
        { headers: s.headers },
      );
      return command!.commandId;
    },

    /**
     * Opens `count` watchers of one command over Connect (WatchCommand) or the WebSocket
     * bridge (a stream ticket each, as a non-browser client would); resolves once every
     * Connect watcher got its first (replayed) event, or every WebSocket is open.
     */
    async openWatchers(arg: { commandId: string; count: number; transport: "connect" | "ws"; timeoutMs: number }): Promise<void> {
      const s = sessions[0]!;
      tally = arg.transport === "connect" ? openConnectWatchers(s, arg.commandId, arg.count, COMMAND_WATCH_LIMIT_MS * 2) : await openWsWatchers(s, arg.commandId, arg.count);
      const timedOut = sleep(arg.timeoutMs).then(() => {
        throw new Error(`the ${arg.count} ${arg.transport} watchers did not all open in ${arg.timeoutMs} ms`);
      });
      await Promise.race([tally.opened, timedOut]);
    },
    /** Waits (bounded) until every watcher saw the command end; what arrived live and when. */
    async awaitWatchers(arg: { timeoutMs: number }): Promise<{ events: number; firstAt: number; lastAt: number; done: number; failed: number }> {
      const t = tally;
      if (!t) throw new Error("no watchers are open");
      const deadline = monoMs() + arg.timeoutMs;
      while (t.done + t.failed < t.count && monoMs() < deadline) await sleep(5);
      t.close();
      tally = undefined;
      return { events: t.events, firstAt: t.firstAt, lastAt: t.lastAt, done: t.done, failed: t.failed + (t.count - t.done - t.failed) };
    },
    close() {
      stopping = true;
      tally?.close();
      agent.destroy();
    },
  };
}
