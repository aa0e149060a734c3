import * as grpc from "@grpc/grpc-js";
import { AsyncQueue } from "@sovd/platform";
import type { ConnectorMessage, VehicleMessage } from "@sovd/proto";
import { VEHICLE_AUTH_METADATA, vehicleLinkDefinition } from "./definition.js";
import { LinkError, linkErrorOfStatus } from "./link-error.js";

/**
 * One vehicle's bidi stream, as the vehicle sees it: the mirror of the connector's
 * VehicleLink (server.ts). Messages as an async iterable, an AbortSignal that fires when the
 * stream is over, and send / end / close. How the stream ended arrives as a LinkError, mapped
 * from the gRPC status by the table in link-error.ts.
 */
export interface ConnectorLink {
  /**
   * Messages from the connector, in order. Ends when the connector closes the stream with OK;
   * throws the LinkError of any other status: what the connector refused (`unauthenticated`,
   * `aborted`, ...), `unavailable` when it cannot be reached, `cancelled` after close() or an
   * aborted signal. Leaving the loop early (break) cancels the stream.
   */
  readonly messages: AsyncIterable<ConnectorMessage>;
  /**
   * Aborted once the stream is over, whoever ended it. The reason is the LinkError it ended
   * with; after an OK end, `unavailable` ("the connector closed the link"), which is what
   * anything waiting on the link should fail with.
   */
  readonly signal: AbortSignal;
  /** Sends a message up the stream; false once the stream is over or half-closed. */
  send(message: VehicleMessage): boolean;
  /**
   * Sends `bytes` as one message frame without encoding them; false once the stream is over.
   * Exists so tests can check that the connector survives a frame that is not a
   * VehicleMessage at all; vehicles never need it.
   */
  sendFrame(bytes: Uint8Array): boolean;
  /** Half-closes: the vehicle is done sending; the connector decides how the stream ends. */
  end(): void;
  /** Cancels the stream at once, as a vehicle losing coverage would (the same as aborting the signal given to connect). */
  close(): void;
}

/** How one stream is opened: who the vehicle says it is, and what cancels it. */
export interface ConnectorLinkOptions {
  /** The vehicle token (see signVehicleToken), sent as `authorization: Bearer <token>`; without it no authorization is sent. */
  readonly token?: string;
  /** Cancels the stream when aborted. */
  readonly signal?: AbortSignal;
}

/** Where and how a channel to the connector dials. */
export interface VehicleLinkChannelOptions {
  /** `host:port` of the connector's vehicle link (plaintext HTTP/2, as the connector serves it). */
  readonly address: string;
  /**
   * How the channel redials a connector it lost: `initialMs`, doubling up to `maxMs`, so a
   * restarted connector is found again in the time the caller expects. grpc-js's own
   * defaults (1 s up to 120 s) without it.
   */
  readonly reconnect?: { readonly initialMs: number; readonly maxMs: number };
}

/**
 * One HTTP/2 connection to the connector that many vehicle streams share, so a fleet of
 * thousands needs a handful of sockets, not one per vehicle.
 */
export interface VehicleLinkChannel {
  /** Opens a stream on this channel (no message sent yet). */
  connect(options?: ConnectorLinkOptions): ConnectorLink;
  /** Closes the channel; close the streams on it first. */
  close(): void;
}

/** A frame the client writes: a message to encode, or bytes sent as they are (sendFrame). */
type OutgoingFrame = VehicleMessage | Uint8Array;

interface LinkClient extends grpc.Client {
  connect(metadata: grpc.Metadata): grpc.ClientDuplexStream<OutgoingFrame, ConnectorMessage>;
}

const LinkClient = grpc.makeGenericClientConstructor(
  {
    connect: {
      ...vehicleLinkDefinition.connect,
      requestSerialize: (frame: OutgoingFrame): Buffer =>
        frame instanceof Uint8Array ? Buffer.from(frame) : vehicleLinkDefinition.connect.requestSerialize(frame),
    },
  },
  "VehicleLinkService",
) as unknown as new (address: string, credentials: grpc.ChannelCredentials, options?: grpc.ClientOptions) => LinkClient;

function openLink(client: LinkClient, options: ConnectorLinkOptions, onOver?: () => void): ConnectorLink {
  const metadata = new grpc.Metadata();
  if (options.token !== undefined) metadata.set(VEHICLE_AUTH_METADATA, `Bearer ${options.token}`);
  const call = client.connect(metadata);
  const controller = new AbortController();
  let over = false;
  const cancel = (): void => {
    if (!over) call.cancel();
  };
  // Not paused when the reader falls behind (unlike the server side): grpc-js reports the
  // status once every message is pushed, so a paused stream could end before its last
  // messages were read. A vehicle reads the few messages it gets at once.
  const queue = new AsyncQueue<ConnectorMessage>(cancel);
  call.on("data", (message: ConnectorMessage) => queue.push(message));
  // Every end of the call is handled once, from its status; the error event repeats it.
  call.on("error", () => undefined);
  call.on("status", (status: grpc.StatusObject) => {
    if (over) return;
    over = true;
    options.signal?.removeEventListener("abort", cancel);
    const error = linkErrorOfStatus(status);
    queue.end(error);
    controller.abort(error ?? new LinkError("unavailable", "the connector closed the link"));
    onOver?.();
  });
  if (options.signal?.aborted) cancel();
  else options.signal?.addEventListener("abort", cancel, { once: true });

  const write = (frame: OutgoingFrame): boolean => {
    if (over || call.writableEnded || call.destroyed) return false;
    call.write(frame);
    return true;
  };
  return {
    messages: queue,
    signal: controller.signal,
    send: write,
    sendFrame: write,
    end() {
      if (!over && !call.writableEnded) call.end();
    },
    close: cancel,
  };
}

/**
 * A client with a connection of its own (not grpc-js's process-wide subchannel pool) and
 * keepalive pings, so a dead connection on a cellular link is noticed at the transport too.
 */
function newClient(options: VehicleLinkChannelOptions): LinkClient {
  return new LinkClient(options.address, grpc.credentials.createInsecure(), {
    "grpc.use_local_subchannel_pool": 1,
    ...(options.reconnect && {
      "grpc.initial_reconnect_backoff_ms": options.reconnect.initialMs,
      "grpc.max_reconnect_backoff_ms": options.reconnect.maxMs,
    }),
    "grpc.keepalive_time_ms": 30_000,
    "grpc.keepalive_timeout_ms": 10_000,
  });
}

/** Opens a channel to the connector for many vehicle streams (a fleet shares a few). */
export function createVehicleLinkChannel(options: VehicleLinkChannelOptions): VehicleLinkChannel {
  const client = newClient(options);
  return {
    connect: (linkOptions = {}) => openLink(client, linkOptions),
    close: () => client.close(),
  };
}

/**
 * One stream on a channel of its own, closed when the stream is over: for a single vehicle
 * (tests, tools) that has no channel to share.
 */
export function connectVehicleLink(options: VehicleLinkChannelOptions & ConnectorLinkOptions): ConnectorLink {
  const client = newClient(options);
  return openLink(client, options, () => client.close());
}
