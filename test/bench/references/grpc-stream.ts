/**
 * Reference: grpc-js bidi streams between two processes. Ping-pong latency (one message
 * out, its echo back, one at a time) and one-way messages/s over 16 streams on one channel,
 * the sender respecting backpressure.
 */
import * as grpc from "@grpc/grpc-js";
import { sequentialLatencies } from "../closed-loop.js";
import { monoMs } from "../stats.js";
import { setImmediate as yieldToLoop } from "node:timers/promises";
import { bindInsecure, MESSAGE, openStream, ownConnectionClient, REFERENCE_GRPC_SERVICE, REFERENCE_METHODS, type RawStream } from "./grpc-definitions.js";

export async function grpcServer() {
  const server = new grpc.Server();
  server.addService(REFERENCE_GRPC_SERVICE, {
    pingPong: (call: grpc.ServerDuplexStream<Buffer, Buffer>) => {
      call.on("data", (b: Buffer) => call.write(b));
      call.on("end", () => call.end());
      call.on("error", () => undefined);
    },
    oneWay: (call: grpc.ServerDuplexStream<Buffer, Buffer>) => {
      let count = 0;
      call.on("data", () => count++);
      call.on("end", () => {
        call.write(Buffer.from(String(count)));
        call.end();
      });
      call.on("error", () => undefined);
    },
    link: (call: grpc.ServerDuplexStream<Buffer, Buffer>) => call.end(),
  });
  const port = await bindInsecure(server);
  return {
    port: () => port,
    close: () => new Promise<void>((resolve) => server.tryShutdown(() => resolve())),
  };
}

function nextMessage(stream: RawStream): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const onData = (b: Buffer): void => {
      stream.off("error", onError);
      resolve(b);
    };
    const onError = (err: Error): void => {
      stream.off("data", onData);
      reject(err);
    };
    stream.once("data", onData);
    stream.once("error", onError);
  });
}

/** Sends as fast as the stream takes them until `until`, then ends; resolves with the count the server saw. */
async function pump(stream: RawStream, until: number): Promise<number> {
  const counted = nextMessage(stream);
  for (let n = 1; monoMs() < until; n++) {
    if (!stream.write(MESSAGE)) await new Promise((resolve) => stream.once("drain", resolve));
    else if (n % 64 === 0) await yieldToLoop();
  }
  stream.end();
  return Number((await counted).toString());
}

export function grpcClient(params: { address: string }) {
  const client = ownConnectionClient(params.address);
  return {
    async latency(arg: { count: number; warmup: number }): Promise<number[]> {
      const stream = openStream(client, REFERENCE_METHODS.pingPong);
      const samples = await sequentialLatencies({
        ...arg,
        maxMs: 60_000,
        op: async () => {
          const echo = nextMessage(stream);
          stream.write(MESSAGE);
          await echo;
        },
      });
      stream.end();
      return samples;
    },
    async oneWay(arg: { streams: number; durationMs: number }): Promise<{ messages: number; seconds: number }> {
      const t0 = monoMs();
      const counts = await Promise.all(
        Array.from({ length: arg.streams }, () => pump(openStream(client, REFERENCE_METHODS.oneWay), t0 + arg.durationMs)),
      );
      return { messages: counts.reduce((a, b) => a + b, 0), seconds: (monoMs() - t0) / 1000 };
    },
    close: () => client.close(),
  };
}
