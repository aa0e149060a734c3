import { create, type MessageInitShape } from "@bufbuild/protobuf";
import * as grpc from "@grpc/grpc-js";
import { ConnectorMessageSchema, type ExecuteSchema, type VehicleMessage } from "@sovd/proto";
import { vehicleLinkDefinition, type VehicleLinkServerStream } from "@sovd/platform";

/** One vehicle stream as the fake connector saw it. */
export interface FakeSession {
  readonly metadata: grpc.Metadata;
  /** Everything the vehicle sent on this stream, in order. */
  readonly received: VehicleMessage[];
  /** True once the stream is over (either side). */
  readonly ended: boolean;
  execute(init: MessageInitShape<typeof ExecuteSchema>): void;
  cancel(commandId: string): void;
  /** The connector drops this stream (ends it with status OK, as a restarting handler would). */
  drop(): void;
}

/** A stand-in for the connector's vehicle link, for the simulator's own tests. */
export interface FakeConnector {
  readonly port: number;
  /** `127.0.0.1:<port>`, what CONNECTOR_URL would say. */
  readonly target: string;
  readonly sessions: readonly FakeSession[];
  close(): Promise<void>;
}

/**
 * A tiny VehicleLinkService server on loopback (port 0 unless given): answers each Hello with
 * a Welcome, or refuses the stream with `refuse`, or stays mute with `welcome: false`, and
 * records every message and the call metadata. Test support only; the real connector lives
 * in `connector/`.
 */
export async function startFakeConnector(
  opts: { port?: number; heartbeatIntervalMs?: number; refuse?: grpc.status; welcome?: boolean } = {},
): Promise<FakeConnector> {
  const sessions: FakeSession[] = [];
  const calls = new Set<VehicleLinkServerStream>();
  const server = new grpc.Server();
  server.addService(vehicleLinkDefinition, {
    connect: (call: VehicleLinkServerStream) => {
      calls.add(call);
      const received: VehicleMessage[] = [];
      let ended = false;
      const finish = (): void => {
        ended = true;
        calls.delete(call);
      };
      call.on("end", finish);
      call.on("cancelled", finish);
      call.on("error", finish);
      const session: FakeSession = {
        metadata: call.metadata,
        received,
        get ended() {
          return ended;
        },
        execute: (init) => void call.write(create(ConnectorMessageSchema, { kind: { case: "execute", value: init } })),
        cancel: (commandId) => void call.write(create(ConnectorMessageSchema, { kind: { case: "cancel", value: { commandId } } })),
        drop: () => {
          finish();
          call.end();
        },
      };
      sessions.push(session);
      call.on("data", (m: VehicleMessage) => {
        received.push(m);
        if (received.length !== 1 || m.kind.case !== "hello") return;
        if (opts.refuse !== undefined) {
          finish();
          call.emit("error", { code: opts.refuse, details: "refused by the fake connector" });
          return;
        }
        if (opts.welcome === false) return;
        call.write(
          create(ConnectorMessageSchema, {
            kind: { case: "welcome", value: { sessionId: `session-${sessions.length}`, heartbeatIntervalMs: opts.heartbeatIntervalMs ?? 0 } },
          }),
        );
      });
    },
  });
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync(`127.0.0.1:${opts.port ?? 0}`, grpc.ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))),
  );
  return {
    port,
    target: `127.0.0.1:${port}`,
    sessions,
    close: () => {
      for (const call of calls) call.end();
      server.forceShutdown();
      return Promise.resolve();
    },
  };
}
