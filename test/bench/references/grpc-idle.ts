/**
 * Reference: a bare grpc-js server holding many idle bidi streams, each from a client on its
 * own connection, as real vehicles would be. Each client sends one message ("hello") and
 * the server answers one ("welcome"); then each stream sends one small heartbeat message
 * per heartbeat interval (the connector's default, 10 s), spread over the interval by one
 * timer per process as the fleet does, and the server reads and drops them.
 */
import * as grpc from "@grpc/grpc-js";
import { monoMs, waitFor } from "../stats.js";
import { bindInsecure, MESSAGE, openStream, ownConnectionClient, REFERENCE_GRPC_SERVICE, REFERENCE_METHODS, type RawStream } from "./grpc-definitions.js";
import { openOwnInspector } from "./inspector-self.js";

export async function grpcIdleServer() {
  const server = new grpc.Server();
  const calls = new Set<grpc.ServerDuplexStream<Buffer, Buffer>>();
  server.addService(REFERENCE_GRPC_SERVICE, {
    pingPong: (call: grpc.ServerDuplexStream<Buffer, Buffer>) => call.end(),
    oneWay: (call: grpc.ServerDuplexStream<Buffer, Buffer>) => call.end(),
    link: (call: grpc.ServerDuplexStream<Buffer, Buffer>) => {
      calls.add(call);
      let welcomed = false;
      call.on("data", () => {
        if (welcomed) return;
        welcomed = true;
        call.write(MESSAGE);
      });
      call.on("error", () => undefined);
      call.on("cancelled", () => calls.delete(call));
      call.on("end", () => {
        calls.delete(call);
        call.end();
      });
    },
  });
  const port = await bindInsecure(server);
  return {
    port: () => port,
    inspectorUrl: () => openOwnInspector(),
    count: () => calls.size,
    close: () => new Promise<void>((resolve) => server.tryShutdown(() => resolve())),
  };
}

/** A heartbeat: about the size of the simulator's. */
const HEARTBEAT = Buffer.alloc(24, 0x68);
const HEARTBEAT_TICK_MS = 100;

export function grpcIdleClients(params: { address: string }) {
  const clients: grpc.Client[] = [];
  const streams: RawStream[] = [];
  let wheel: NodeJS.Timeout | undefined;
  /** One timer walks the streams, so each sends one heartbeat per `intervalMs`. */
  const startHeartbeats = (intervalMs: number): void => {
    const perTick = Math.max(1, Math.ceil((streams.length * HEARTBEAT_TICK_MS) / intervalMs));
    let next = 0;
    wheel = setInterval(() => {
      for (let i = 0; i < perTick; i++) streams[next++ % streams.length]!.write(HEARTBEAT);
    }, HEARTBEAT_TICK_MS);
  };
  return {
    /** Opens `count` clients (one connection each) and a stream on each; resolves when every welcome arrived, then heartbeats begin. */
    async open(arg: { count: number; timeoutMs: number; heartbeatMs: number }): Promise<{ welcomed: number; ms: number; t0: number; t1: number }> {
      const t0 = monoMs();
      let welcomed = 0;
      for (let i = 0; i < arg.count; i++) {
        const client = ownConnectionClient(params.address);
        const stream = openStream(client, REFERENCE_METHODS.link);
        stream.on("error", () => undefined);
        stream.once("data", () => welcomed++);
        stream.write(MESSAGE);
        clients.push(client);
        streams.push(stream);
      }
      await waitFor(`${arg.count} grpc-js streams to be welcomed`, arg.timeoutMs, () => (welcomed >= arg.count ? true : undefined), 10);
      const t1 = monoMs();
      startHeartbeats(arg.heartbeatMs);
      return { welcomed, ms: t1 - t0, t0, t1 };
    },
    close() {
      clearInterval(wheel);
      for (const s of streams) s.cancel();
      for (const c of clients) c.close();
    },
  };
}
