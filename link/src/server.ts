import * as grpc from "@grpc/grpc-js";
import { AsyncQueue } from "@sovd/platform";
import type { ConnectorMessage, VehicleMessage } from "@sovd/proto";
import { vehicleLinkDefinition, type VehicleLinkServerStream } from "./definition.js";
import { LinkError, statusOfError } from "./link-error.js";

/**
 * One vehicle's bidi stream, as the connector sees it: messages as an async iterable, an
 * AbortSignal that fires when the vehicle goes away, and send / close. The vehicle's side of
 * the same stream is a ConnectorLink (client.ts) of the same shape. No grpc-js type leaks
 * past this workspace.
 */
export interface VehicleLink {
  /** The peer address, for logs. */
  readonly peer: string;
  /** Messages from the vehicle; ends when the vehicle half-closes, cancels or the link breaks. */
  readonly messages: AsyncIterable<VehicleMessage>;
  /** Aborted once the stream is over, whoever ended it. */
  readonly signal: AbortSignal;
  /** First value of a metadata key (lower-case), if any. */
  metadata(key: string): string | undefined;
  /** Sends a message down the stream; false once the stream is over. */
  send(message: ConnectorMessage): boolean;
  /** Ends the stream: OK without an error, the error's status otherwise (see statusOfError). */
  close(error?: unknown): void;
}

/** The gRPC server vehicles dial; the connector's handle to start, drain and stop it. */
export interface VehicleLinkServer {
  readonly port: number;
  /** Stops taking new streams; open streams go on until they end. */
  stopAccepting(): void;
  /** Waits up to `graceMs` for open streams to end, then cuts what is left. */
  close(graceMs: number): Promise<void>;
  /** Cuts every stream at once. */
  forceClose(): void;
}

/** Read at most this many messages ahead of the handler before pausing the socket. */
const HIGH_WATER = 64;

/**
 * A frame that is no VehicleMessage. grpc-js answers INTERNAL when a deserializer throws; a
 * vehicle that sends garbage gets INVALID_ARGUMENT naming the problem instead.
 */
class UnreadableMessage {
  constructor(readonly reason: string) {}
}

const serverDefinition = {
  connect: {
    ...vehicleLinkDefinition.connect,
    requestDeserialize: (b: Buffer): VehicleMessage | UnreadableMessage => {
      try {
        return vehicleLinkDefinition.connect.requestDeserialize(b);
      } catch (err) {
        return new UnreadableMessage((err as Error).message);
      }
    },
  },
} satisfies grpc.ServiceDefinition;

function toLink(call: VehicleLinkServerStream): VehicleLink {
  const controller = new AbortController();
  let over = false;
  const finish = (): void => {
    if (over) return;
    over = true;
    queue.end();
    controller.abort(new LinkError("unavailable", "vehicle link closed"));
  };
  const queue = new AsyncQueue<VehicleMessage>(() => undefined);
  call.on("data", (m: VehicleMessage | UnreadableMessage) => {
    if (m instanceof UnreadableMessage) return close(new LinkError("invalid_argument", `unreadable message: ${m.reason}`));
    queue.push(m);
    if (queue.size >= HIGH_WATER) call.pause();
  });
  call.on("end", () => queue.end());
  call.on("cancelled", finish);
  call.on("close", finish);
  call.on("error", finish);
  call.on("finish", finish);

  async function* messages(): AsyncGenerator<VehicleMessage> {
    for (;;) {
      const next = await queue.next();
      if (next.done) return;
      if (call.isPaused() && queue.size < HIGH_WATER / 2) call.resume();
      yield next.value;
    }
  }

  function close(error?: unknown): void {
    if (over || call.writableEnded || call.destroyed) {
      finish();
      return;
    }
    if (error === undefined) call.end();
    else call.emit("error", { ...statusOfError(error), metadata: new grpc.Metadata() });
    finish();
  }

  return {
    peer: call.getPeer(),
    messages: messages(),
    signal: controller.signal,
    metadata(key) {
      const v = call.metadata.get(key)[0];
      return typeof v === "string" ? v : undefined;
    },
    send(message) {
      if (over || call.writableEnded || call.destroyed) return false;
      call.write(message);
      return true;
    },
    close,
  };
}

/**
 * Serves `VehicleLinkService.Connect` on `host:port` (0 = a free port). Each stream is handed
 * to `onLink`; when it settles the stream is closed (OK) if still open, or with the status
 * of the error it threw.
 */
export async function startVehicleLinkServer(opts: {
  host: string;
  port: number;
  onLink: (link: VehicleLink) => Promise<void>;
  onError?: (err: unknown) => void;
}): Promise<VehicleLinkServer> {
  const server = new grpc.Server({
    // Vehicles on cellular links: detect dead HTTP/2 connections at the transport too.
    "grpc.keepalive_time_ms": 30_000,
    "grpc.keepalive_timeout_ms": 10_000,
    "grpc.keepalive_permit_without_calls": 1,
    "grpc.http2.min_ping_interval_without_data_ms": 5_000,
  });
  let accepting = true;
  server.addService(serverDefinition, {
    connect: (call: VehicleLinkServerStream) => {
      const link = toLink(call);
      if (!accepting) {
        link.close(new LinkError("unavailable", "connector is shutting down"));
        return;
      }
      opts
        .onLink(link)
        .then(() => link.close())
        .catch((err: unknown) => {
          if (!(err instanceof LinkError)) opts.onError?.(err);
          link.close(err);
        });
    },
  });
  const port = await new Promise<number>((resolve, reject) => {
    server.bindAsync(`${opts.host}:${opts.port}`, grpc.ServerCredentials.createInsecure(), (err, bound) =>
      err ? reject(err) : resolve(bound),
    );
  });
  return {
    port,
    stopAccepting() {
      accepting = false;
    },
    async close(graceMs) {
      accepting = false;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(() => {
          server.forceShutdown();
          resolve();
        }, graceMs);
        server.tryShutdown(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    },
    forceClose() {
      accepting = false;
      server.forceShutdown();
    },
  };
}
