/**
 * What the services need from a message bus (architecture §6 "The bus"): publish, subscribe
 * with wildcards and queue groups, request/reply that reports "no responders", headers. Two
 * implementations pass one contract suite: NATS (`nats-bus.ts`) and in-process
 * (`memory-bus.ts`, the embedded default only).
 */

export type BusHeaders = Readonly<Record<string, string>>;

export interface BusMessage {
  readonly subject: string;
  readonly data: Uint8Array;
  readonly headers: BusHeaders;
  /** Answers a request; false when this message expects no reply. */
  respond(data: Uint8Array, headers?: BusHeaders): boolean;
}

/** Messages of one subscription, read with `for await`; ends on unsubscribe, abort or bus close. */
export interface BusSubscription extends AsyncIterable<BusMessage> {
  readonly subject: string;
  unsubscribe(): void;
}

export interface SubscribeOptions {
  /** Queue group: each message goes to one member of the group. */
  queue?: string;
  /** Unsubscribes when aborted. */
  signal?: AbortSignal;
}

export interface RequestOptions {
  timeoutMs: number;
  headers?: BusHeaders;
  signal?: AbortSignal;
}

export interface Bus {
  readonly kind: "nats" | "memory";
  publish(subject: string, data: Uint8Array, headers?: BusHeaders): void;
  /**
   * Resolves once the subscription is registered with the server, so anything published
   * after that is delivered to it (WatchCommand subscribes, then replays: no gap).
   */
  subscribe(subject: string, opts?: SubscribeOptions): Promise<BusSubscription>;
  /** Rejects with NoRespondersError at once when nobody listens, BusTimeoutError after `timeoutMs`. */
  request(subject: string, data: Uint8Array, opts: RequestOptions): Promise<BusMessage>;
  /** Makes sure everything published so far has reached the server. */
  flush(): Promise<void>;
  /** A round trip to the server; rejects when it is unreachable. Readiness uses it. */
  ping(): Promise<void>;
  /** Subscriptions open on this client, for leak checks. */
  subscriptionCount(): number;
  /**
   * Calls `listener` each time the connection is back after an outage: subscriptions are in
   * place again, but what was published meanwhile may never have reached them. Returns the
   * unsubscribe. (The in-process bus has no outages.)
   */
  onReconnect(listener: () => void): () => void;
  /** Delivers what is pending, then closes every subscription and the connection. */
  close(): Promise<void>;
}

/** Nobody subscribes to the subject of a request (no connector holds that vehicle). */
export class NoRespondersError extends Error {
  override readonly name = "NoRespondersError";
  constructor(readonly subject: string, options?: ErrorOptions) {
    super(`no responders on ${subject}`, options);
  }
}

/** A request got no reply in time. */
export class BusTimeoutError extends Error {
  override readonly name = "BusTimeoutError";
  constructor(readonly subject: string, options?: ErrorOptions) {
    super(`request on ${subject} timed out`, options);
  }
}

/** The bus was closed or its connection is gone. */
export class BusClosedError extends Error {
  override readonly name = "BusClosedError";
}

/** NATS subject matching: `*` matches one token, `>` one or more trailing tokens. */
export function subjectMatches(pattern: string, subject: string): boolean {
  const p = pattern.split(".");
  const s = subject.split(".");
  for (let i = 0; i < p.length; i++) {
    if (p[i] === ">") return s.length > i;
    if (i >= s.length) return false;
    if (p[i] !== "*" && p[i] !== s[i]) return false;
  }
  return p.length === s.length;
}
