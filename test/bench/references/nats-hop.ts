/**
 * Reference: one NATS hop between two processes through the `nats` client alone. Latency:
 * publish -> subscriber callback, one message at a time, stamped with the machine-wide
 * monotonic clock; throughput: a burst published as fast as the client takes it.
 */
import { connect, type NatsConnection } from "nats";
import { monoMs, sleep } from "../stats.js";

/** A message of about the size of a command event (200 bytes); the first 8 hold the send time. */
const stamped = (): Uint8Array => {
  const buf = Buffer.alloc(200, 0x78);
  buf.writeDoubleLE(monoMs(), 0);
  return buf;
};

export async function natsSubscriber(params: { url: string; subject: string }) {
  const nc: NatsConnection = await connect({ servers: params.url, name: "bench-reference-sub" });
  let count = 0;
  let lastAt = 0;
  let hops: number[] = [];
  nc.subscribe(params.subject, {
    callback: (_err, msg) => {
      const now = monoMs();
      count++;
      lastAt = now;
      if (hops.length < 100_000) hops.push(now - Buffer.from(msg.data.buffer, msg.data.byteOffset, 8).readDoubleLE(0));
    },
  });
  await nc.flush();
  return {
    reset() {
      count = 0;
      hops = [];
    },
    hops: () => hops,
    /** When the n-th message since reset() arrived (monotonic ms); rejects after timeoutMs. */
    async waitCount(arg: { n: number; timeoutMs: number }): Promise<{ count: number; lastAt: number }> {
      const deadline = monoMs() + arg.timeoutMs;
      while (count < arg.n && monoMs() < deadline) await sleep(5);
      if (count < arg.n) throw new Error(`only ${count} of ${arg.n} NATS messages arrived`);
      return { count, lastAt };
    },
    close: () => nc.close(),
  };
}

export async function natsPublisher(params: { url: string; subject: string }) {
  const nc: NatsConnection = await connect({ servers: params.url, name: "bench-reference-pub" });
  return {
    /** `count` messages `gapMs` apart (the latency run). */
    async paced(arg: { count: number; gapMs: number }): Promise<void> {
      for (let i = 0; i < arg.count; i++) {
        nc.publish(params.subject, stamped());
        await sleep(arg.gapMs);
      }
      await nc.flush();
    },
    /** `count` messages as fast as possible; returns when the first was published (monotonic ms). */
    async burst(arg: { count: number }): Promise<number> {
      const t0 = monoMs();
      for (let i = 0; i < arg.count; i++) {
        nc.publish(params.subject, stamped());
        // Let the client write out every so often, as a busy service's event loop would.
        if (i % 1000 === 999) await nc.flush();
      }
      await nc.flush();
      return t0;
    },
    close: () => nc.close(),
  };
}
