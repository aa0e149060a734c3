/**
 * Reference: `ws` broadcast. A WebSocketServer (no compression, as the gateway's bridge)
 * with 1,000 clients; the server sends a burst of text messages to every client.
 */
import type { AddressInfo } from "node:net";
import { WebSocket, WebSocketServer } from "ws";
import { monoMs, waitFor } from "../stats.js";
import { eventLine, EventCounter } from "./fanout-clients.js";

export async function wsServer() {
  const wss = new WebSocketServer({ host: "127.0.0.1", port: 0, perMessageDeflate: false });
  await new Promise<void>((resolve) => wss.once("listening", () => resolve()));
  return {
    port: () => (wss.address() as AddressInfo).port,
    clients: () => wss.clients.size,
    /** `events` messages to each client; when the first was sent (monotonic ms). */
    burst(arg: { events: number }): number {
      const t0 = monoMs();
      for (let e = 0; e < arg.events; e++) for (const ws of wss.clients) ws.send(eventLine());
      return t0;
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const ws of wss.clients) ws.terminate();
        wss.close(() => resolve());
      }),
  };
}

export function wsClients(params: { port: number }) {
  const counter = new EventCounter();
  const sockets: WebSocket[] = [];
  return {
    async open(arg: { clients: number }): Promise<void> {
      for (let i = 0; i < arg.clients; i++) {
        const ws = new WebSocket(`ws://127.0.0.1:${params.port}/`, { perMessageDeflate: false });
        ws.on("message", () => counter.add(1));
        ws.on("error", () => undefined);
        sockets.push(ws);
      }
      await waitFor("the WebSocket clients to connect", 60_000, () => (sockets.every((s) => s.readyState === WebSocket.OPEN) ? true : undefined), 20);
    },
    reset: () => counter.reset(),
    waitEvents: (arg: { events: number; timeoutMs: number }) => counter.waitFor(arg.events, arg.timeoutMs),
    close() {
      for (const ws of sockets) ws.terminate();
    },
  };
}
