import { randomUUID } from "node:crypto";
import { AsyncQueue } from "../async-queue.js";
import {
  BusClosedError,
  BusTimeoutError,
  NoRespondersError,
  subjectMatches,
  type Bus,
  type BusHeaders,
  type BusMessage,
  type BusSubscription,
  type RequestOptions,
  type SubscribeOptions,
} from "./bus.js";

interface MemorySub {
  readonly subject: string;
  readonly queue: string | undefined;
  readonly messages: AsyncQueue<BusMessage>;
}

/**
 * The in-process bus of the embedded default (`npm start` with no NATS_URL): one process,
 * NATS semantics. Delivery is asynchronous like a network hop, in publish order per
 * subscription. Exact subjects are indexed, so 10,000 vehicle subscriptions cost a map
 * lookup per message, not a scan.
 */
export function createMemoryBus(): Bus {
  const exact = new Map<string, Set<MemorySub>>();
  const wildcard = new Set<MemorySub>();
  let closed = false;

  const matching = (subject: string): MemorySub[] => {
    const found = [...(exact.get(subject) ?? [])];
    for (const sub of wildcard) if (subjectMatches(sub.subject, subject)) found.push(sub);
    // Queue groups: one member per group gets the message.
    const groups = new Map<string, MemorySub[]>();
    const out: MemorySub[] = [];
    for (const sub of found) {
      if (sub.queue === undefined) out.push(sub);
      else groups.set(sub.queue, [...(groups.get(sub.queue) ?? []), sub]);
    }
    for (const members of groups.values()) out.push(members[Math.floor(Math.random() * members.length)]!);
    return out;
  };

  const remove = (sub: MemorySub): void => {
    if (wildcard.delete(sub)) return;
    const set = exact.get(sub.subject);
    set?.delete(sub);
    if (set?.size === 0) exact.delete(sub.subject);
  };

  const deliver = (subject: string, data: Uint8Array, headers: BusHeaders, reply: string | undefined): number => {
    const targets = matching(subject);
    for (const sub of targets) {
      const message: BusMessage = {
        subject,
        data,
        headers,
        respond: (replyData, replyHeaders = {}) => {
          if (reply === undefined) return false;
          deliver(reply, replyData, replyHeaders, undefined);
          return true;
        },
      };
      // A network hop: the publisher's synchronous code finishes first.
      queueMicrotask(() => sub.messages.push(message));
    }
    return targets.length;
  };

  const subscribeSync = (subject: string, opts: SubscribeOptions = {}): BusSubscription => {
    if (closed) throw new BusClosedError("bus is closed");
    const sub: MemorySub = {
      subject,
      queue: opts.queue,
      messages: new AsyncQueue<BusMessage>(() => {
        remove(sub);
        opts.signal?.removeEventListener("abort", onAbort);
      }),
    };
    const onAbort = (): void => sub.messages.end();
    if (subject.includes("*") || subject.includes(">")) wildcard.add(sub);
    else exact.set(subject, (exact.get(subject) ?? new Set()).add(sub));
    if (opts.signal?.aborted) sub.messages.end();
    else opts.signal?.addEventListener("abort", onAbort, { once: true });
    return {
      subject,
      unsubscribe: () => sub.messages.end(),
      [Symbol.asyncIterator]: () => sub.messages,
    };
  };

  return {
    kind: "memory",
    publish(subject, data, headers = {}) {
      if (closed) throw new BusClosedError("bus is closed");
      deliver(subject, data, headers, undefined);
    },
    subscribe(subject, opts) {
      return Promise.resolve().then(() => subscribeSync(subject, opts));
    },
    async request(subject: string, data: Uint8Array, opts: RequestOptions): Promise<BusMessage> {
      if (closed) throw new BusClosedError("bus is closed");
      opts.signal?.throwIfAborted();
      const inbox = `_INBOX.${randomUUID()}`;
      const replies = subscribeSync(inbox);
      let timer: NodeJS.Timeout | undefined;
      const onAbort = (): void => replies.unsubscribe();
      try {
        if (deliver(subject, data, opts.headers ?? {}, inbox) === 0) throw new NoRespondersError(subject);
        opts.signal?.addEventListener("abort", onAbort, { once: true });
        const iterator = replies[Symbol.asyncIterator]();
        const timeout = new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new BusTimeoutError(subject)), opts.timeoutMs);
        });
        const first = await Promise.race([iterator.next(), timeout]);
        if (first.done) throw opts.signal?.aborted ? opts.signal.reason : new BusClosedError("bus is closed");
        return first.value;
      } finally {
        clearTimeout(timer);
        opts.signal?.removeEventListener("abort", onAbort);
        replies.unsubscribe();
      }
    },
    flush: () => new Promise((resolve) => setImmediate(resolve)),
    ping: () => (closed ? Promise.reject(new BusClosedError("bus is closed")) : Promise.resolve()),
    // One process has no connection to lose.
    onReconnect: () => () => undefined,
    subscriptionCount: () => wildcard.size + [...exact.values()].reduce((n, s) => n + s.size, 0),
    async close() {
      if (closed) return;
      await new Promise((resolve) => setImmediate(resolve));
      closed = true;
      for (const sub of [...wildcard, ...[...exact.values()].flatMap((s) => [...s])]) sub.messages.end();
    },
  };
}
