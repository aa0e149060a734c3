/**
 * Reference: many raw TCP connections to one node:net server. Each client sends one byte
 * and the server answers one, so a client knows it was accepted; then the socket idles.
 * The client speaks first as every real protocol does: when a burst of connects overflows
 * the listen queue, the kernel may drop a handshake's last ACK, and only a client that
 * sends something gets it retransmitted (a silent one would wait forever).
 */
import { createServer, connect, type Socket } from "node:net";
import type { AddressInfo } from "node:net";
import { monoMs, waitFor } from "../stats.js";
import { openOwnInspector } from "./inspector-self.js";

export async function tcpServer() {
  const sockets = new Set<Socket>();
  const server = createServer((s) => {
    sockets.add(s);
    s.on("error", () => undefined);
    s.on("close", () => sockets.delete(s));
    s.once("data", () => s.write("k"));
  });
  await new Promise<void>((resolve) => server.listen({ port: 0, host: "127.0.0.1" }, resolve));
  return {
    port: () => (server.address() as AddressInfo).port,
    inspectorUrl: () => openOwnInspector(),
    count: () => sockets.size,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

export function tcpClients(params: { port: number }) {
  const sockets: Socket[] = [];
  return {
    /** Dials `count` connections at once; resolves when every one was accepted (its byte arrived), with the time that took. */
    async open(arg: { count: number; timeoutMs: number }): Promise<{ accepted: number; ms: number; t0: number; t1: number }> {
      const t0 = monoMs();
      let accepted = 0;
      for (let i = 0; i < arg.count; i++) {
        const s = connect({ port: params.port, host: "127.0.0.1" }, () => s.write("h"));
        s.on("error", () => undefined);
        s.once("data", () => accepted++);
        sockets.push(s);
      }
      await waitFor(`${arg.count} TCP connections to be accepted`, arg.timeoutMs, () => (accepted >= arg.count ? true : undefined), 10);
      const t1 = monoMs();
      return { accepted, ms: t1 - t0, t0, t1 };
    },
    close() {
      for (const s of sockets) s.destroy();
    },
  };
}
