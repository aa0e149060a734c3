/**
 * The suite's client side: commands submitted and followed over the public API only, as
 * engineers' clients do, each with two watchers: its Connect stream (SubmitAndWatch, or
 * SubmitCommand then WatchCommand, in turn) on one gateway and a WebSocket bridge watcher
 * on another. A watcher behaves as a good client: when its stream breaks or ends without
 * the terminal status it follows again from the last sequence it delivered, until its
 * bound. Everything it saw is recorded for the verdict: sequences in arrival order, error
 * codes, whether it saw the end.
 */
import { Agent } from "node:http";
import { Code, ConnectError, createClient, type Client } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";
import { AuthService, CommandService, CommandStatus, type CommandEvent } from "@sovd/proto";
import { WebSocket } from "ws";
import { monoMs, sleep } from "../bench/stats.js";

export interface WatcherRecord {
  readonly kind: "connect" | "ws";
  /** Sequence numbers delivered, in arrival order (across reconnects). */
  readonly seqs: number[];
  duplicates: number;
  gaps: number;
  /** The terminal status it saw (stored spelling), if it saw one. */
  terminal?: string;
  reconnects: number;
  /** Streams that ended cleanly without the terminal status (a server bug: a good client resumes). */
  endsWithoutTerminal: number;
  /** Why its streams broke: RPC codes, WebSocket close codes. */
  readonly errors: string[];
}

export interface CommandRecord {
  readonly n: number;
  readonly vehicleId: string;
  readonly api: "one-call" | "two-calls";
  readonly submittedAt: number;
  commandId?: string;
  /** The submit was refused (no command id): why. */
  refused?: string;
  readonly watchers: WatcherRecord[];
  settledAt?: number;
}

export interface LoadOptions {
  readonly gateways: readonly string[];
  readonly username: string;
  readonly password: string;
  /** How long a watcher keeps following past the command's deadline. */
  readonly commandTimeoutMs: number;
  readonly watchGraceMs: number;
}

interface Session {
  readonly url: string;
  readonly headers: Record<string, string>;
  readonly auth: Client<typeof AuthService>;
  readonly commands: Client<typeof CommandService>;
}

const STORED: Record<number, string> = {
  [CommandStatus.COMPLETED]: "completed",
  [CommandStatus.FAILED]: "failed",
  [CommandStatus.CANCELLED]: "cancelled",
};

export const codeName = (err: unknown): string => {
  if (err instanceof ConnectError) return Code[err.code] ?? String(err.code);
  return (err as Error)?.name === "AbortError" || (err as Error)?.name === "TimeoutError" ? "aborted" : "network";
};

const lastDelivered = (w: WatcherRecord): number => (w.seqs.length ? Math.max(...w.seqs) : 0);

function deliver(w: WatcherRecord, seq: number): void {
  const max = lastDelivered(w);
  if (w.seqs.includes(seq)) w.duplicates++;
  else if (seq > max + 1) w.gaps += seq - max - 1;
  w.seqs.push(seq);
}

/** A command mix: ReadDTC (3 chunks) and ReadDataByID with 5 samples (6 chunks), in turn. */
const COMMANDS = [
  { commandName: "ReadDTC", params: {} },
  { commandName: "ReadDataByID", params: { dataId: "0xF40D", samples: 5 } },
] as const;

export class Load {
  readonly records: CommandRecord[] = [];
  private sessions: Session[] = [];
  private readonly agent = new Agent({ keepAlive: true, maxSockets: Infinity });
  private readonly live = new Set<Promise<void>>();
  private stopping = false;
  private loops: Promise<void> | undefined;
  private n = 0;

  private constructor(private readonly opts: LoadOptions) {}

  static async open(opts: LoadOptions): Promise<Load> {
    const l = new Load(opts);
    l.sessions = await Promise.all(opts.gateways.map((url) => l.login(url)));
    return l;
  }

  private async login(url: string): Promise<Session> {
    const transport = createConnectTransport({ baseUrl: url, httpVersion: "1.1", useBinaryFormat: false, nodeOptions: { agent: this.agent } });
    const auth = createClient(AuthService, transport);
    const { accessToken } = await auth.login({ username: this.opts.username, password: this.opts.password });
    return { url, headers: { authorization: `Bearer ${accessToken}` }, auth, commands: createClient(CommandService, transport) };
  }

  /** The engineer's access token at the first gateway (the hostile phase uses it). */
  get token(): string {
    return this.sessions[0]!.headers.authorization!.slice("Bearer ".length);
  }

  /**
   * Closed loops: `inFlight` commands at a time until `stop()`, `maxCommands` or `maxMs`;
   * or, with `perSecond`, a steady open-loop rate.
   */
  start(run: { vehicleIds: readonly string[]; inFlight: number; maxCommands?: number; maxMs?: number; perSecond?: number }): void {
    this.stopping = false;
    const deadline = monoMs() + (run.maxMs ?? Infinity);
    const max = run.maxCommands ?? Infinity;
    let issued = 0;
    const more = (): boolean => !this.stopping && issued < max && monoMs() < deadline;
    if (run.perSecond) {
      const every = 1000 / run.perSecond;
      this.loops = (async () => {
        let next = monoMs();
        while (more()) {
          issued++;
          void this.track(this.command(run.vehicleIds));
          next += every;
          await sleep(Math.max(0, next - monoMs()));
        }
      })();
      return;
    }
    const loop = async (): Promise<void> => {
      while (more()) {
        issued++;
        await this.track(this.command(run.vehicleIds));
      }
    };
    this.loops = Promise.all(Array.from({ length: run.inFlight }, loop)).then(() => undefined);
  }

  private track(p: Promise<void>): Promise<void> {
    this.live.add(p);
    void p.finally(() => this.live.delete(p));
    return p;
  }

  /** Stops issuing and waits until every command's watchers are done (each is bounded). */
  async stop(): Promise<void> {
    this.stopping = true;
    await this.drain();
  }

  /** Waits until the run has issued all it was asked to and every command is done. */
  async drain(): Promise<void> {
    await this.loops;
    while (this.live.size > 0) await Promise.allSettled([...this.live]);
  }

  /** Records from index `from` on (a fault's share of the run). */
  since(from: number): CommandRecord[] {
    return this.records.slice(from);
  }

  private async command(vehicleIds: readonly string[]): Promise<void> {
    const n = this.n++;
    const rec: CommandRecord = { n, vehicleId: vehicleIds[n % vehicleIds.length]!, api: n % 2 === 0 ? "one-call" : "two-calls", submittedAt: monoMs(), watchers: [] };
    this.records.push(rec);
    const connectSession = this.sessions[n % this.sessions.length]!;
    const wsSession = this.sessions[(n + 1) % this.sessions.length]!;
    const bound = rec.submittedAt + this.opts.commandTimeoutMs + this.opts.watchGraceMs;
    const { commandName, params } = COMMANDS[Math.floor(n / 2) % COMMANDS.length]!;
    const submit = { vehicleId: rec.vehicleId, commandName, params };
    const connect: WatcherRecord = { kind: "connect", seqs: [], duplicates: 0, gaps: 0, reconnects: 0, endsWithoutTerminal: 0, errors: [] };
    const watchers: Array<Promise<void>> = [];
    const withWs = (): void => {
      const ws: WatcherRecord = { kind: "ws", seqs: [], duplicates: 0, gaps: 0, reconnects: 0, endsWithoutTerminal: 0, errors: [] };
      rec.watchers.push(ws);
      watchers.push(this.followWs(wsSession, rec.commandId!, ws, bound));
    };
    if (rec.api === "one-call") {
      // SubmitAndWatch: the first message names the command; the rest is a watch.
      const signal = AbortSignal.timeout(Math.ceil(Math.max(1, bound - monoMs())));
      const stream = connectSession.commands.submitAndWatch({ submit }, { headers: connectSession.headers, signal })[Symbol.asyncIterator]();
      try {
        const first = await stream.next();
        if (first.done || first.value.kind.case !== "submitted") throw new Error("SubmitAndWatch did not answer with the submitted command first");
        rec.commandId = first.value.kind.value.command!.commandId;
      } catch (err) {
        rec.refused = `rpc ${codeName(err)}${err instanceof ConnectError ? `: ${err.rawMessage.slice(0, 50)}` : ""}`;
        rec.settledAt = monoMs();
        return;
      }
      rec.watchers.push(connect);
      withWs();
      const events = (async function* () {
        for (;;) {
          const r = await stream.next();
          if (r.done) return;
          if (r.value.kind.case === "event") yield r.value.kind.value;
        }
      })();
      watchers.push(this.followConnect(connectSession, rec.commandId, connect, bound, events));
    } else {
      try {
        const { command } = await connectSession.commands.submitCommand(submit, { headers: connectSession.headers, signal: AbortSignal.timeout(15_000) });
        rec.commandId = command!.commandId;
      } catch (err) {
        rec.refused = `rpc ${codeName(err)}${err instanceof ConnectError ? `: ${err.rawMessage.slice(0, 50)}` : ""}`;
        rec.settledAt = monoMs();
        return;
      }
      rec.watchers.push(connect);
      withWs();
      watchers.push(this.followConnect(connectSession, rec.commandId, connect, bound));
    }
    await Promise.all(watchers);
    rec.settledAt = monoMs();
  }

  private async followConnect(s: Session, commandId: string, w: WatcherRecord, bound: number, initial?: AsyncIterable<CommandEvent>): Promise<void> {
    let stream = initial;
    while (w.terminal === undefined && monoMs() < bound) {
      try {
        stream ??= s.commands.watchCommand({ commandId, afterSequence: lastDelivered(w) }, { headers: s.headers, signal: AbortSignal.timeout(Math.ceil(Math.max(1, bound - monoMs()))) });
        for await (const e of stream) {
          if (e.event.case === "response") deliver(w, e.event.value.sequenceNumber);
          else if (e.event.case === "status" && STORED[e.event.value.status]) w.terminal = STORED[e.event.value.status];
        }
        if (w.terminal === undefined) w.endsWithoutTerminal++;
      } catch (err) {
        const code = codeName(err);
        // Our own bound ended the call (connect reports the abort as canceled or deadline_exceeded).
        if (code === "aborted" || monoMs() >= bound - 5) break;
        w.errors.push(code);
      }
      stream = undefined;
      if (w.terminal === undefined && monoMs() < bound) {
        w.reconnects++;
        await sleep(250);
      }
    }
  }

  private async followWs(s: Session, commandId: string, w: WatcherRecord, bound: number): Promise<void> {
    const base = s.url.replace(/^http/, "ws");
    while (w.terminal === undefined && monoMs() < bound) {
      let ticket: string;
      try {
        ({ ticket } = await s.auth.createStreamTicket({ commandId }, { headers: s.headers, signal: AbortSignal.timeout(5000) }));
      } catch (err) {
        w.errors.push(`ticket ${codeName(err)}`);
        w.reconnects++;
        await sleep(250);
        continue;
      }
      await new Promise<void>((resolve) => {
        const ws = new WebSocket(`${base}/ws/responses/${commandId}?ticket=${encodeURIComponent(ticket)}&after_sequence=${lastDelivered(w)}`, { perMessageDeflate: false });
        let timedOut = false;
        const timer = setTimeout(() => ((timedOut = true), ws.terminate()), Math.max(1, bound - monoMs()));
        ws.on("message", (data) => {
          let m: { event?: string; sequence_number?: number; status?: string; error_message?: string };
          try {
            m = JSON.parse(data.toString()) as typeof m;
          } catch {
            w.errors.push("ws unparsable message");
            return;
          }
          if (m.event === "response" && typeof m.sequence_number === "number") deliver(w, m.sequence_number);
          else if (m.event === "error" && m.error_message === "internal error") w.errors.push("ws error event: internal error");
          else if (m.event === "status" && m.status && ["completed", "failed", "cancelled"].includes(m.status)) {
            w.terminal = m.status;
            ws.close();
          }
        });
        ws.on("error", () => undefined);
        ws.once("close", (code) => {
          clearTimeout(timer);
          if (w.terminal === undefined && !timedOut) w.errors.push(`ws close ${code}`);
          resolve();
        });
      });
      if (w.terminal === undefined && monoMs() < bound) {
        w.reconnects++;
        await sleep(250);
      }
    }
  }

  /** One round: a ReadDTC on each of `vehicleIds` at once; true when every one completed. */
  async probe(vehicleIds: readonly string[], timeoutMs: number): Promise<boolean> {
    const s = this.sessions[0]!;
    const results = await Promise.all(
      vehicleIds.map(async (vehicleId) => {
        try {
          let status: CommandStatus | undefined;
          const signal = AbortSignal.timeout(timeoutMs);
          for await (const m of s.commands.submitAndWatch({ submit: { vehicleId, commandName: "ReadDTC" } }, { headers: s.headers, signal })) {
            if (m.kind.case === "event" && m.kind.value.event.case === "status") status = m.kind.value.event.value.status;
          }
          return status === CommandStatus.COMPLETED;
        } catch {
          return false;
        }
      }),
    );
    return results.every(Boolean);
  }

  close(): void {
    this.stopping = true;
    this.agent.destroy();
  }
}
