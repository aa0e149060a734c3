import { create, type MessageInitShape } from "@bufbuild/protobuf";
import { timestampNow } from "@bufbuild/protobuf/wkt";
import { connectVehicleLink, LinkError, signVehicleToken, type LinkErrorCode } from "@sovd/link";
import type { VehicleIdentity } from "@sovd/platform";
import { VehicleMessageSchema, type ConnectorMessage, type Execute, type Welcome } from "@sovd/proto";

/**
 * How a raw vehicle's stream ended: `ok`, or the LinkError code of the status the connector
 * sent (or the client saw), with its details.
 */
export interface LinkStatus {
  readonly code: "ok" | LinkErrorCode;
  readonly details: string;
}

/**
 * A vehicle that speaks VehicleLinkService directly through the link client and does only
 * what the test says: no automatic hello, heartbeats or answers. So a test can send exactly
 * the bad inputs (no hello, hello twice, wrong token, chunks out of sequence or unparsable,
 * frames that are no message at all) and read exactly what the connector sent back.
 */
export interface RawVehicle extends AsyncDisposable {
  readonly identity: VehicleIdentity;
  /** Every message the connector sent, in order. */
  readonly received: readonly ConnectorMessage[];
  /** Settles when the stream is over, with its status. */
  readonly status: Promise<LinkStatus>;
  send(message: MessageInitShape<typeof VehicleMessageSchema>): void;
  /** Bytes sent as one frame without encoding, so the frame itself can be garbage. */
  sendFrame(bytes: Uint8Array): void;
  hello(overrides?: Partial<{ vehicleId: string; vin: string; make: string; model: string; year: number }>): void;
  /** A chunk; an object payload is sent as JSON, a string or bytes as they are. */
  chunk(commandId: string, sequenceNumber: number, isFinal: boolean, payload: object | string | Uint8Array): void;
  failure(commandId: string, message: string): void;
  heartbeat(): void;
  /** Waits for the first (not yet consumed) message the predicate accepts. */
  next<T>(pick: (m: ConnectorMessage) => T | undefined, timeoutMs?: number): Promise<T>;
  welcome(timeoutMs?: number): Promise<Welcome>;
  execute(commandId?: string, timeoutMs?: number): Promise<Execute>;
  /** Half-closes: the vehicle says it is done. */
  end(): void;
  /** Drops the link at once (cancels the call), like a vehicle that lost coverage. */
  drop(): void;
}

/** Where a raw vehicle dials, as whom, and with which token. */
export interface RawVehicleOptions {
  port: number;
  identity: VehicleIdentity;
  /** Signs a valid token for `identity` with it, unless `token` is given. */
  secret: string;
  /** A token to send as it is; null sends no authorization metadata at all. */
  token?: string | null;
}

/** Opens the stream (no message sent yet); dispose it to close the client. */
export async function connectRawVehicle(opts: RawVehicleOptions): Promise<RawVehicle> {
  const token = opts.token === undefined ? await signVehicleToken(opts.identity.vehicleId, opts.secret) : opts.token;
  const link = connectVehicleLink({ address: `127.0.0.1:${opts.port}`, token: token ?? undefined });
  const received: ConnectorMessage[] = [];
  const consumed = new Set<ConnectorMessage>();
  const listeners = new Set<() => void>();
  const notify = (): void => {
    for (const l of [...listeners]) l();
  };
  let ended: LinkStatus | undefined;
  const read = async (): Promise<LinkStatus> => {
    try {
      for await (const m of link.messages) {
        received.push(m);
        notify();
      }
      return { code: "ok", details: "" };
    } catch (err) {
      return err instanceof LinkError ? { code: err.code, details: err.message } : { code: "unknown", details: String(err) };
    }
  };
  const status = read().then((s) => {
    ended = s;
    notify();
    return s;
  });

  const send = (message: MessageInitShape<typeof VehicleMessageSchema>): void => {
    link.send(create(VehicleMessageSchema, message));
  };

  const next = <T>(pick: (m: ConnectorMessage) => T | undefined, timeoutMs = 5000): Promise<T> =>
    new Promise<T>((resolve, reject) => {
      const check = (): boolean => {
        for (const m of received) {
          if (consumed.has(m)) continue;
          const v = pick(m);
          if (v !== undefined) {
            consumed.add(m);
            finish();
            resolve(v);
            return true;
          }
        }
        if (ended) {
          finish();
          reject(new Error(`stream ended (${ended.code}: ${ended.details}) before the expected message`));
          return true;
        }
        return false;
      };
      const timer = setTimeout(() => {
        finish();
        reject(new Error(`no matching message from the connector within ${timeoutMs} ms`));
      }, timeoutMs);
      const listener = (): void => void check();
      const finish = (): void => {
        clearTimeout(timer);
        listeners.delete(listener);
      };
      listeners.add(listener);
      check();
    });

  const close = async (): Promise<void> => {
    if (!ended) link.close();
    await Promise.race([status, new Promise((r) => setTimeout(r, 1000))]);
  };

  return {
    identity: opts.identity,
    received,
    status,
    send,
    sendFrame(bytes) {
      link.sendFrame(bytes);
    },
    hello(o = {}) {
      const id = opts.identity;
      send({
        kind: {
          case: "hello",
          value: {
            vehicleId: o.vehicleId ?? id.vehicleId,
            vin: o.vin ?? id.vin,
            make: o.make ?? id.make,
            model: o.model ?? id.model,
            year: o.year ?? id.year,
            softwareVersion: "raw-test-1",
          },
        },
      });
    },
    chunk(commandId, sequenceNumber, isFinal, payload) {
      const bytes =
        payload instanceof Uint8Array
          ? payload
          : new TextEncoder().encode(typeof payload === "string" ? payload : JSON.stringify(payload));
      send({ kind: { case: "chunk", value: { commandId, sequenceNumber, isFinal, payload: bytes } } });
    },
    failure(commandId, message) {
      send({ kind: { case: "failure", value: { commandId, message } } });
    },
    heartbeat() {
      send({ kind: { case: "heartbeat", value: { sentAt: timestampNow() } } });
    },
    next,
    welcome: (timeoutMs) => next((m) => (m.kind.case === "welcome" ? m.kind.value : undefined), timeoutMs),
    execute: (commandId, timeoutMs) =>
      next((m) => (m.kind.case === "execute" && (!commandId || m.kind.value.commandId === commandId) ? m.kind.value : undefined), timeoutMs),
    end() {
      link.end();
    },
    drop() {
      link.close();
    },
    [Symbol.asyncDispose]: close,
  };
}
