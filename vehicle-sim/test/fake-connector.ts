import { create, type MessageInitShape } from "@bufbuild/protobuf";
import { LinkError, startVehicleLinkServer, type LinkErrorCode, type VehicleLink } from "@sovd/link";
import { ConnectorMessageSchema, type ExecuteSchema, type VehicleMessage } from "@sovd/proto";

/** One vehicle stream as the fake connector saw it, for the test to drive and inspect. */
export interface FakeSession {
  /** First value of a call metadata key (lower-case), as the vehicle sent it. */
  metadata(key: string): string | undefined;
  /** Everything the vehicle sent on this stream, in order. */
  readonly received: VehicleMessage[];
  /** True once the stream is over (either side). */
  readonly ended: boolean;
  execute(init: MessageInitShape<typeof ExecuteSchema>): void;
  cancel(commandId: string): void;
  /** The connector drops this stream (ends it with status OK, as a restarting handler would). */
  drop(): void;
}

/** A stand-in for the connector's vehicle link, so the simulator is tested without a database or bus. */
export interface FakeConnector {
  readonly port: number;
  /** `127.0.0.1:<port>`, what CONNECTOR_URL would say. */
  readonly target: string;
  readonly sessions: readonly FakeSession[];
  close(): Promise<void>;
}

/**
 * A tiny VehicleLinkService server on loopback (port 0 unless given), on the same link server
 * the connector uses: answers each Hello with a Welcome, or refuses the stream with `refuse`,
 * or stays mute with `welcome: false`, and records every message and the call metadata. Test
 * support only, kept out of `src/` so it never ships; the real connector lives in
 * `connector/`.
 */
export async function startFakeConnector(
  opts: { port?: number; heartbeatIntervalMs?: number; refuse?: LinkErrorCode; welcome?: boolean } = {},
): Promise<FakeConnector> {
  const sessions: FakeSession[] = [];
  const links = new Set<VehicleLink>();

  const serve = async (link: VehicleLink): Promise<void> => {
    links.add(link);
    link.signal.addEventListener("abort", () => links.delete(link), { once: true });
    const received: VehicleMessage[] = [];
    const session: FakeSession = {
      metadata: (key) => link.metadata(key),
      received,
      get ended() {
        return link.signal.aborted;
      },
      execute: (init) => void link.send(create(ConnectorMessageSchema, { kind: { case: "execute", value: init } })),
      cancel: (commandId) => void link.send(create(ConnectorMessageSchema, { kind: { case: "cancel", value: { commandId } } })),
      drop: () => link.close(),
    };
    sessions.push(session);
    for await (const m of link.messages) {
      received.push(m);
      if (received.length !== 1 || m.kind.case !== "hello") continue;
      if (opts.refuse !== undefined) throw new LinkError(opts.refuse, "refused by the fake connector");
      if (opts.welcome === false) continue;
      link.send(
        create(ConnectorMessageSchema, {
          kind: { case: "welcome", value: { sessionId: `session-${sessions.length}`, heartbeatIntervalMs: opts.heartbeatIntervalMs ?? 0 } },
        }),
      );
    }
  };

  const server = await startVehicleLinkServer({ host: "127.0.0.1", port: opts.port ?? 0, onLink: serve });
  return {
    port: server.port,
    target: `127.0.0.1:${server.port}`,
    sessions,
    close: () => {
      for (const link of links) link.close();
      server.forceClose();
      return Promise.resolve();
    },
  };
}
