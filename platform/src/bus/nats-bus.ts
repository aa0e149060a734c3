import {
  connect,
  ErrorCode,
  headers as natsHeaders,
  type MsgHdrs,
  type Msg,
  type NatsConnection,
  type NatsError,
  type Subscription,
} from "nats";
import {
  BusClosedError,
  BusTimeoutError,
  NoRespondersError,
  type Bus,
  type BusHeaders,
  type BusMessage,
  type BusSubscription,
} from "./bus.js";

export interface NatsBusOptions {
  url: string;
  /** Shown in the NATS server's connection list. */
  name: string;
  /** Called on disconnects and reconnects, for logs and metrics. */
  onStatus?: (event: { type: string; data?: unknown }) => void;
}

const toNatsHeaders = (h: BusHeaders | undefined): MsgHdrs | undefined => {
  if (!h || Object.keys(h).length === 0) return undefined;
  const out = natsHeaders();
  for (const [k, v] of Object.entries(h)) out.set(k, v);
  return out;
};

const fromNatsHeaders = (h: MsgHdrs | undefined): BusHeaders => {
  const out: Record<string, string> = {};
  if (!h) return out;
  for (const k of h.keys()) out[k.toLowerCase()] = h.get(k);
  return out;
};

const toMessage = (m: Msg): BusMessage => ({
  subject: m.subject,
  data: m.data,
  headers: fromNatsHeaders(m.headers),
  respond: (data, headers) => (m.reply ? m.respond(data, { headers: toNatsHeaders(headers) }) : false),
});

const isNatsError = (e: unknown): e is NatsError => e instanceof Error && "code" in e;

/** The NATS client's errors that mean "no connection to the server" (disconnected, reconnecting, closed). */
const CONNECTION_LOST: ReadonlySet<string> = new Set([
  ErrorCode.Disconnect,
  ErrorCode.ConnectionClosed,
  ErrorCode.ConnectionDraining,
  ErrorCode.ConnectionRefused,
  ErrorCode.ConnectionTimeout,
]);

/**
 * A NATS connection failure as the Bus's BusClosedError, so callers tell a bus outage from
 * their own failures (the gateway answers `unavailable`, architecture §4 "RPC errors");
 * anything else unchanged.
 */
function busError(e: unknown): unknown {
  return isNatsError(e) && CONNECTION_LOST.has(e.code) ? new BusClosedError(`NATS connection lost (${e.code})`, { cause: e }) : e;
}

/** Runs a round trip to the server, reporting a lost connection as BusClosedError. */
async function roundTrip<T>(run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (e) {
    throw busError(e);
  }
}

/**
 * The bus on a real NATS server. Reconnects forever (`maxReconnectAttempts: -1`; the NATS
 * client's default gives up after 10 attempts); subscriptions survive reconnects.
 */
export async function createNatsBus(opts: NatsBusOptions): Promise<Bus> {
  const nc: NatsConnection = await connect({
    servers: opts.url,
    name: opts.name,
    maxReconnectAttempts: -1,
    reconnectTimeWait: 1000,
    pingInterval: 10_000,
  });
  const subs = new Set<Subscription>();
  /**
   * One PING for every subscription made in the same turn: the server has a subscription
   * once a round trip after its SUB, and a PING sent after many SUBs answers for all of them
   * (a vehicle storm opens thousands of sessions in a few turns).
   */
  let nextFlush: Promise<void> | undefined;
  const flushAfterThisTurn = (): Promise<void> =>
    (nextFlush ??= new Promise<void>((resolve) => setImmediate(resolve)).then(() => {
      nextFlush = undefined;
      return nc.flush();
    }));
  const reconnected = new Set<() => void>();
  void (async () => {
    for await (const s of nc.status()) {
      opts.onStatus?.({ type: s.type, data: s.data });
      if (s.type === "reconnect") for (const listener of [...reconnected]) listener();
    }
  })();

  return {
    kind: "nats",
    publish(subject, data, headers) {
      if (nc.isClosed()) throw new BusClosedError("NATS connection is closed");
      nc.publish(subject, data, { headers: toNatsHeaders(headers) });
    },
    async subscribe(subject, subOpts = {}) {
      if (nc.isClosed()) throw new BusClosedError("NATS connection is closed");
      const sub = nc.subscribe(subject, { queue: subOpts.queue });
      subs.add(sub);
      const release = (): void => {
        subOpts.signal?.removeEventListener("abort", release);
        if (subs.delete(sub) && !sub.isClosed()) sub.unsubscribe();
      };
      void sub.closed.finally(release);
      if (subOpts.signal?.aborted) release();
      else subOpts.signal?.addEventListener("abort", release, { once: true });
      try {
        await flushAfterThisTurn();
      } catch (e) {
        release();
        throw busError(e);
      }
      const subscription: BusSubscription = {
        subject,
        unsubscribe: release,
        async *[Symbol.asyncIterator]() {
          try {
            for await (const m of sub) yield toMessage(m);
          } finally {
            release();
          }
        },
      };
      return subscription;
    },
    async request(subject, data, reqOpts) {
      if (nc.isClosed()) throw new BusClosedError("NATS connection is closed");
      reqOpts.signal?.throwIfAborted();
      try {
        const m = await nc.request(subject, data, { timeout: reqOpts.timeoutMs, headers: toNatsHeaders(reqOpts.headers) });
        return toMessage(m);
      } catch (e) {
        if (isNatsError(e) && e.code === ErrorCode.NoResponders) throw new NoRespondersError(subject, { cause: e });
        if (isNatsError(e) && e.code === ErrorCode.Timeout) throw new BusTimeoutError(subject, { cause: e });
        throw busError(e);
      }
    },
    flush: () => roundTrip(() => nc.flush()),
    async ping() {
      if (nc.isClosed()) throw new BusClosedError("NATS connection is closed");
      let timer: NodeJS.Timeout | undefined;
      try {
        await Promise.race([
          roundTrip(() => nc.rtt()),
          new Promise((_, reject) => {
            timer = setTimeout(() => reject(new BusTimeoutError("PING")), 2000);
          }),
        ]);
      } finally {
        clearTimeout(timer);
      }
    },
    subscriptionCount: () => subs.size,
    onReconnect(listener) {
      reconnected.add(listener);
      return () => void reconnected.delete(listener);
    },
    async close() {
      if (nc.isClosed()) return;
      await nc.drain();
    },
  };
}
