import { randomUUID } from "node:crypto";
import { expect, it } from "vitest";
import { NoRespondersError, BusTimeoutError, type Bus } from "../src/bus/bus.js";

const enc = (s: string): Uint8Array => new TextEncoder().encode(s);
const dec = (b: Uint8Array): string => new TextDecoder().decode(b);

async function collect(sub: AsyncIterable<{ subject: string; data: Uint8Array }>, n: number): Promise<string[]> {
  const out: string[] = [];
  for await (const m of sub) {
    out.push(`${m.subject}=${dec(m.data)}`);
    if (out.length === n) break;
  }
  return out;
}

/**
 * The assertions every Bus implementation must pass, so the in-process bus of the
 * embedded default behaves as NATS does where the services depend on it.
 */
export function busContract(makeBus: () => Promise<Bus>): void {
  const ns = (): string => `contract.${randomUUID().slice(0, 8)}`;

  it("delivers published messages in order, with headers", async () => {
    const bus = await makeBus();
    const s = ns();
    const sub = await bus.subscribe(`${s}.a`);
    const got: Array<{ data: string; headers: Record<string, string> }> = [];
    const done = (async () => {
      for await (const m of sub) {
        got.push({ data: dec(m.data), headers: { ...m.headers } });
        if (got.length === 3) break;
      }
    })();
    for (const n of ["1", "2", "3"]) bus.publish(`${s}.a`, enc(n), { "x-request-id": `r${n}` });
    await done;
    expect(got.map((g) => g.data)).toEqual(["1", "2", "3"]);
    expect(got[0]!.headers["x-request-id"]).toBe("r1");
    await bus.close();
  });

  it("matches * and > wildcards and not other subjects", async () => {
    const bus = await makeBus();
    const s = ns();
    const star = await bus.subscribe(`${s}.*.presence`);
    const tail = await bus.subscribe(`${s}.>`);
    bus.publish(`${s}.v1.presence`, enc("a"));
    bus.publish(`${s}.v1.execute`, enc("b"));
    bus.publish(`${s}.v2.presence`, enc("c"));
    expect(await collect(star, 2)).toEqual([`${s}.v1.presence=a`, `${s}.v2.presence=c`]);
    expect(await collect(tail, 3)).toEqual([`${s}.v1.presence=a`, `${s}.v1.execute=b`, `${s}.v2.presence=c`]);
    await bus.close();
  });

  it("answers a request through the responder", async () => {
    const bus = await makeBus();
    const s = ns();
    const responder = await bus.subscribe(`${s}.execute`);
    void (async () => {
      for await (const m of responder) m.respond(enc(`ok:${dec(m.data)}:${m.headers["x-request-id"]}`));
    })();
    const reply = await bus.request(`${s}.execute`, enc("cmd"), { timeoutMs: 2000, headers: { "x-request-id": "abc" } });
    expect(dec(reply.data)).toBe("ok:cmd:abc");
    responder.unsubscribe();
    await bus.close();
  });

  it("rejects a request with NoRespondersError at once when nobody listens", async () => {
    const bus = await makeBus();
    const started = Date.now();
    await expect(bus.request(`${ns()}.nobody`, enc("x"), { timeoutMs: 5000 })).rejects.toBeInstanceOf(NoRespondersError);
    expect(Date.now() - started).toBeLessThan(2000);
    await bus.close();
  });

  it("times out a request whose responder never answers", async () => {
    const bus = await makeBus();
    const s = ns();
    const silent = await bus.subscribe(`${s}.silent`);
    await expect(bus.request(`${s}.silent`, enc("x"), { timeoutMs: 100 })).rejects.toBeInstanceOf(BusTimeoutError);
    silent.unsubscribe();
    await bus.close();
  });

  it("gives each message to one member of a queue group", async () => {
    const bus = await makeBus();
    const s = ns();
    const a = await bus.subscribe(`${s}.work`, { queue: "q" });
    const b = await bus.subscribe(`${s}.work`, { queue: "q" });
    const seen: string[] = [];
    const read = (sub: AsyncIterable<{ data: Uint8Array }>): Promise<void> =>
      (async () => {
        for await (const m of sub) seen.push(dec(m.data));
      })();
    const readers = [read(a), read(b)];
    for (let i = 0; i < 20; i++) bus.publish(`${s}.work`, enc(String(i)));
    await bus.flush();
    await expect.poll(() => seen.length).toBe(20);
    expect(new Set(seen).size).toBe(20);
    a.unsubscribe();
    b.unsubscribe();
    await Promise.all(readers);
    await bus.close();
  });

  it("stops delivering after unsubscribe or abort and counts subscriptions back down", async () => {
    const bus = await makeBus();
    const s = ns();
    const before = bus.subscriptionCount();
    const controller = new AbortController();
    const sub1 = await bus.subscribe(`${s}.x`);
    const sub2 = await bus.subscribe(`${s}.y`, { signal: controller.signal });
    expect(bus.subscriptionCount()).toBe(before + 2);
    sub1.unsubscribe();
    controller.abort();
    const ended: boolean[] = [];
    for (const sub of [sub1, sub2]) {
      const it = sub[Symbol.asyncIterator]();
      ended.push((await it.next()).done === true);
    }
    expect(ended).toEqual([true, true]);
    expect(bus.subscriptionCount()).toBe(before);
    await bus.close();
  });

  it("delivers to a subscription everything published after subscribe resolved", async () => {
    const bus = await makeBus();
    const s = ns();
    const sub = await bus.subscribe(`${s}.events`);
    bus.publish(`${s}.events`, enc("first"));
    await bus.flush();
    expect(await collect(sub, 1)).toEqual([`${s}.events=first`]);
    await bus.close();
  });
}
