/**
 * Reference: Connect unary over HTTP/1.1 against a trivial handler (echo), with the JSON
 * format a browser uses. Latency is one call at a time; throughput is 16 in flight.
 */
import { Agent, createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { createClient, type ConnectRouter } from "@connectrpc/connect";
import { connectNodeAdapter, createConnectTransport } from "@connectrpc/connect-node";
import { closedLoop, sequentialLatencies } from "../closed-loop.js";
import { PAYLOAD, ReferenceService } from "./bench-service.js";

/** The server side: one http1 server running connectNodeAdapter with the echo route. */
export async function connectServer() {
  const handler = connectNodeAdapter({
    routes: (router: ConnectRouter) => router.service(ReferenceService, { echo: (req) => ({ value: req.value }), async *push() {} }),
  });
  const server: Server = createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    port: () => (server.address() as AddressInfo).port,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** The client side: a Connect transport over HTTP/1.1 with the JSON format and the load generator's keep-alive agent. */
export function connectClient(params: { url: string }) {
  const agent = new Agent({ keepAlive: true, maxSockets: Infinity });
  const transport = createConnectTransport({ baseUrl: params.url, httpVersion: "1.1", useBinaryFormat: false, nodeOptions: { agent } });
  const client = createClient(ReferenceService, transport);
  const call = async (): Promise<void> => {
    await client.echo({ value: PAYLOAD });
  };
  return {
    latency: (arg: { count: number; warmup: number }) => sequentialLatencies({ ...arg, maxMs: 60_000, op: call }),
    throughput: (arg: { inFlight: number; warmupMs: number; durationMs: number }) => closedLoop({ ...arg, maxOps: 5_000_000, op: call }),
    close: () => agent.destroy(),
  };
}
