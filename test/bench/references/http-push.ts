/**
 * Reference: HTTP/1.1 streaming push with node:http alone. One chunked response per client,
 * kept open; the server writes event lines to them. Latency: one write to one client;
 * throughput: a burst of events written to each of 1,000 streams.
 */
import { Agent, createServer, get, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { monoMs, sleep } from "../stats.js";
import { eventLine, EventCounter } from "./fanout-clients.js";

export async function pushServer() {
  const streams = new Set<ServerResponse>();
  const server = createServer((req, res) => {
    res.writeHead(200, { "content-type": "text/plain", "cache-control": "no-store" });
    res.flushHeaders();
    streams.add(res);
    req.on("close", () => streams.delete(res));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    port: () => (server.address() as AddressInfo).port,
    streams: () => streams.size,
    /** `count` events to every stream, `gapMs` apart (the latency run, one stream). */
    async paced(arg: { count: number; gapMs: number }): Promise<void> {
      for (let i = 0; i < arg.count; i++) {
        for (const res of streams) res.write(eventLine());
        await sleep(arg.gapMs);
      }
    },
    /** `events` events to each stream, as fast as they can be written; when the first was written (monotonic ms). */
    burst(arg: { events: number }): number {
      const t0 = monoMs();
      for (let e = 0; e < arg.events; e++) for (const res of streams) res.write(eventLine());
      return t0;
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const res of streams) res.end();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

export function pushClients(params: { port: number }) {
  const agent = new Agent({ keepAlive: true, maxSockets: Infinity });
  const counter = new EventCounter();
  let hopsWanted = false;
  return {
    /** Opens `streams` streaming GETs; resolves once all have their response headers. */
    async open(arg: { streams: number; measureHops: boolean }): Promise<void> {
      hopsWanted = arg.measureHops;
      await Promise.all(
        Array.from(
          { length: arg.streams },
          () =>
            new Promise<void>((resolve, reject) => {
              const req = get({ host: "127.0.0.1", port: params.port, path: "/stream", agent }, (res) => {
                res.setEncoding("utf8");
                let partial = "";
                res.on("data", (chunk: string) => {
                  let start = 0;
                  for (let nl = chunk.indexOf("\n"); nl !== -1; nl = chunk.indexOf("\n", start)) {
                    const line = partial + chunk.slice(start, nl);
                    partial = "";
                    start = nl + 1;
                    counter.add(1, hopsWanted ? Number(line.slice(0, line.indexOf("|"))) : undefined);
                  }
                  partial += chunk.slice(start);
                });
                resolve();
              });
              req.on("error", reject);
            }),
        ),
      );
    },
    reset: () => counter.reset(),
    hops: () => counter.hops,
    waitEvents: (arg: { events: number; timeoutMs: number }) => counter.waitFor(arg.events, arg.timeoutMs),
    close() {
      agent.destroy();
    },
  };
}
