import { randomUUID } from "node:crypto";
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { LinkError, type VehicleLink } from "@sovd/link";
import {
  currentSessionId,
  markOffline,
  markOnline,
  markStaleOffline,
  recordSightings,
  registerVehicle,
  VinTakenError,
  type Sighting,
  type VehicleRow,
} from "@sovd/domain";
import { BusClosedError, type Bus, type BusMessage, type BusSubscription, type Logger, type Pool } from "@sovd/platform";
import { ConnectorMessageSchema, SessionClaimSchema, cancelSubject, executeSubject, sessionSubject, type ConnectorMessage } from "@sovd/proto";
import type { CommandEngine } from "../commands/command-engine.js";
import { ConcurrencyLimit } from "../concurrency-limit.js";
import type { ConnectorMetrics } from "../metrics.js";
import { authenticateVehicle } from "./authenticate.js";
import { requireRegistrationFields, validateHello, type ValidHello } from "./hello.js";
import { publishPresence } from "./presence.js";
import type { VehicleSession } from "./session.js";

/** Holds the vehicle sessions of one connector; see createSessionManager. */
export interface SessionManager {
  /** Runs one vehicle stream from authentication to disconnect (the link server's onLink). */
  handle(link: VehicleLink): Promise<void>;
  count(): number;
  /** Shutdown, step 1: stop answering dispatches (gateways then see no responders). */
  stopDispatch(): void;
  /** Shutdown, last step: close every stream and wait until each session is cleaned up. */
  closeAll(): Promise<void>;
  /** Stops at once, writing nothing: what a killed process leaves behind. */
  abort(): Promise<void>;
}

interface LiveSession extends VehicleSession {
  readonly link: VehicleLink;
  readonly subscriptions: AbortController;
  executeSub: BusSubscription | undefined;
  open: boolean;
  /** Counted in vehicle_connections_active (set once the hello was accepted). */
  counted: boolean;
}

/** A stream being watched for idleness (before and after its hello). */
interface Watched {
  lastMessageAt: number;
}

/** Session opens (database + subscriptions) running at once; the rest wait their turn. */
export const OPEN_CONCURRENCY = 32;

/** Idle sessions are closed after this many heartbeat intervals without a message. */
export const IDLE_INTERVALS = 3;

/**
 * An online vehicle whose last_seen_at is older than this many intervals has no live session
 * anywhere: a live one had a message within IDLE_INTERVALS (+1 for the check period) and it was
 * flushed within one more interval. One more interval of margin.
 */
export const STALE_INTERVALS = IDLE_INTERVALS + 3;

/**
 * Vehicle sessions (architecture §3 "Vehicle sessions"): authenticates each stream before reading it,
 * takes the Hello, marks the vehicle online under a fresh session id, claims the vehicle on
 * the bus so an older session anywhere closes, subscribes the vehicle's execute and cancel
 * subjects, and undoes all of it on disconnect. One connector-wide timer flushes sightings
 * (`last_seen_at`, batched) and closes idle streams: no per-vehicle timers.
 */
export function createSessionManager(deps: {
  pool: Pool;
  bus: Bus;
  logger: Logger;
  metrics: ConnectorMetrics;
  commands: CommandEngine;
  vehicleTokenSecret: string;
  heartbeatIntervalMs: number;
  connectorId: string;
}): SessionManager {
  const { pool, bus, metrics, commands } = deps;
  const sessions = new Map<string, LiveSession>();
  const watched = new Map<VehicleLink, Watched>();
  const handlers = new Set<Promise<void>>();
  /** Bus handlers and queued deliveries under way; shutdown waits for them before the pool goes. */
  const work = new Set<Promise<void>>();
  const track = (p: Promise<void>): void => {
    work.add(p);
    void p.finally(() => work.delete(p));
  };
  let sightings = new Map<string, Sighting>();
  let flushing: Promise<void> | undefined;
  let aborted = false;
  const opening = new ConcurrencyLimit(OPEN_CONCURRENCY);

  const busError = (logger: Logger, err: unknown, what: string): void => {
    metrics.busErrors.inc();
    logger.error({ err }, what);
  };

  const replace = (session: LiveSession, why: string): void => {
    if (!session.open) return;
    session.open = false;
    metrics.sessionsReplaced.inc();
    session.logger.info({ why }, "session replaced by a newer session of this vehicle");
    session.link.close(new LinkError("aborted", "replaced by a newer session of this vehicle"));
  };

  const serve = (session: LiveSession, sub: BusSubscription, handler: (m: BusMessage) => Promise<void>): void => {
    void (async () => {
      try {
        for await (const m of sub) {
          const handled = handler(m).catch((err: unknown) => {
            metrics.databaseErrors.inc();
            session.logger.error({ err, subject: m.subject }, "bus message handling failed");
          });
          track(handled);
          await handled;
        }
      } catch (err) {
        busError(session.logger, err, "subscription failed");
      }
    })();
  };

  const onClaim = async (session: LiveSession, m: BusMessage): Promise<void> => {
    let claim;
    try {
      claim = fromBinary(SessionClaimSchema, m.data);
    } catch (err) {
      busError(session.logger, err, "undecodable session claim");
      return;
    }
    if (claim.sessionId === session.sessionId || !session.open) return;
    // The database decides which session is newest; two claims that cross settle the same way everywhere.
    const owner = await currentSessionId(pool, session.vehicleId);
    if (owner !== session.sessionId) replace(session, `claimed by ${claim.connectorId}`);
  };

  const createSession = (link: VehicleLink, vehicleId: string): LiveSession => {
    const sessionId = randomUUID();
    return {
      sessionId,
      vehicleId,
      logger: deps.logger.child({ vehicleId, sessionId }),
      link,
      subscriptions: new AbortController(),
      executeSub: undefined,
      open: true,
      counted: false,
      get isOpen() {
        return this.open;
      },
      send: (message: ConnectorMessage) => link.send(message),
    };
  };

  /** Marks the vehicle online; a vehicle the database does not know is registered (fleet onboarding). */
  const online = async (hello: ValidHello, sessionId: string, logger: Logger): Promise<VehicleRow> => {
    const known = await markOnline(pool, hello.vehicleId, sessionId);
    if (known) return known;
    requireRegistrationFields(hello);
    try {
      const { row, registered } = await registerVehicle(pool, hello, sessionId);
      if (registered) logger.info({ vin: row.vin }, "new vehicle registered");
      return row;
    } catch (err) {
      if (err instanceof VinTakenError) throw new LinkError("already_exists", "hello.vin is registered to another vehicle", { cause: err });
      throw err;
    }
  };

  const open = async (session: LiveSession, hello: ReturnType<typeof validateHello>): Promise<void> => {
    const { link, sessionId, subscriptions } = session;
    const row = await online(hello, sessionId, session.logger);
    const older = sessions.get(hello.vehicleId);
    sessions.set(hello.vehicleId, session);
    session.counted = true;
    metrics.connectionsActive.inc();
    if (older) replace(older, "same connector");
    const signal = subscriptions.signal;
    session.executeSub = await bus.subscribe(executeSubject(hello.vehicleId), { signal });
    serve(session, session.executeSub, (m) => commands.dispatch.onExecute(session, m));
    serve(session, await bus.subscribe(cancelSubject(hello.vehicleId), { signal }), async (m) => commands.dispatch.onCancel(session, m));
    serve(session, await bus.subscribe(sessionSubject(hello.vehicleId), { signal }), (m) => onClaim(session, m));
    const claim = create(SessionClaimSchema, { vehicleId: hello.vehicleId, sessionId, connectorId: deps.connectorId });
    bus.publish(sessionSubject(hello.vehicleId), toBinary(SessionClaimSchema, claim));
    publishPresence(bus, row);
    link.send(
      create(ConnectorMessageSchema, {
        kind: { case: "welcome", value: { sessionId, heartbeatIntervalMs: deps.heartbeatIntervalMs } },
      }),
    );
    session.logger.info({ peer: link.peer, softwareVersion: hello.softwareVersion }, "vehicle online");
    track(
      commands.deliverQueued(session).catch((err: unknown) => {
        metrics.databaseErrors.inc();
        session.logger.error({ err }, "could not deliver queued commands");
      }),
    );
  };

  const close = async (session: LiveSession): Promise<void> => {
    session.open = false;
    if (sessions.get(session.vehicleId) === session) sessions.delete(session.vehicleId);
    if (session.counted) metrics.connectionsActive.dec();
    session.counted = false;
    session.subscriptions.abort();
    if (sightings.get(session.vehicleId)?.sessionId === session.sessionId) sightings.delete(session.vehicleId);
    if (aborted) return;
    await commands.linkLost(session);
    try {
      const row = await markOffline(pool, session.vehicleId, session.sessionId);
      if (row) {
        try {
          publishPresence(bus, row);
        } catch (err) {
          busError(session.logger, err, "could not publish presence");
        }
      }
      session.logger.info({ offline: row !== undefined }, "vehicle session closed");
    } catch (err) {
      metrics.databaseErrors.inc();
      session.logger.error({ err }, "could not mark the vehicle offline");
    }
  };

  const run = async (link: VehicleLink): Promise<void> => {
    const tokenVehicleId = await authenticateVehicle(link.metadata("authorization"), deps.vehicleTokenSecret);
    const seen: Watched = { lastMessageAt: Date.now() };
    watched.set(link, seen);
    try {
      const messages = link.messages[Symbol.asyncIterator]();
      const first = await messages.next();
      if (first.done) return;
      seen.lastMessageAt = Date.now();
      if (first.value.kind.case !== "hello") {
        if (first.value.kind.case === "chunk") metrics.chunksDropped.inc({ reason: "before_hello" });
        throw new LinkError("failed_precondition", "the first message on the stream must be a Hello");
      }
      const hello = validateHello(first.value.kind.value, tokenVehicleId);
      if (aborted) throw new LinkError("unavailable", "connector is shutting down");
      const session = createSession(link, hello.vehicleId);
      try {
        await opening.run(() => (link.signal.aborted ? Promise.resolve() : open(session, hello))).catch((err: unknown) => {
          if (err instanceof LinkError) throw err;
          (err instanceof BusClosedError ? metrics.busErrors : metrics.databaseErrors).inc();
          session.logger.error({ err }, "could not open the session");
          // The vehicle should simply retry later; the cause stays in our log.
          throw new LinkError("unavailable", "the connector cannot take the session now; retry later", { cause: err });
        });
        for (;;) {
          const next = await messages.next();
          if (next.done) return;
          seen.lastMessageAt = Date.now();
          const at = new Date(seen.lastMessageAt);
          sightings.set(session.vehicleId, { vehicleId: session.vehicleId, sessionId: session.sessionId, at });
          const kind = next.value.kind;
          switch (kind.case) {
            case "hello":
              throw new LinkError("failed_precondition", "Hello already received on this stream");
            case "chunk":
              commands.answers.onChunk(session, kind.value, at);
              break;
            case "failure":
              commands.answers.onFailure(session, kind.value);
              break;
            case "heartbeat":
              break;
            default:
              session.logger.debug("empty message from vehicle ignored");
          }
        }
      } finally {
        await close(session);
      }
    } finally {
      watched.delete(link);
    }
  };

  /** Writes the batched sightings; true when the database has them all. */
  const flushSightings = async (): Promise<boolean> => {
    if (flushing || aborted) return false;
    if (sightings.size === 0) return true;
    const batch = [...sightings.values()];
    sightings = new Map();
    let ok = false;
    flushing = recordSightings(pool, batch)
      .then(() => {
        ok = true;
      })
      .catch((err: unknown) => {
        metrics.databaseErrors.inc();
        deps.logger.error({ err, vehicles: batch.length }, "could not record last_seen_at");
      })
      .finally(() => {
        flushing = undefined;
      });
    await flushing;
    return ok;
  };

  /** Presence sweep: only after our own sightings are in, so no live session here looks stale. */
  const sweepStalePresence = async (): Promise<void> => {
    const rows = await markStaleOffline(pool, STALE_INTERVALS * deps.heartbeatIntervalMs);
    for (const row of rows) {
      deps.logger.warn({ vehicleId: row.vehicle_id }, "vehicle marked offline: no live session anywhere");
      try {
        publishPresence(bus, row);
      } catch (err) {
        busError(deps.logger, err, "could not publish presence");
      }
    }
  };

  let housekeepingRun: Promise<void> | undefined;
  const housekeeping = setInterval(() => {
    const idleBefore = Date.now() - IDLE_INTERVALS * deps.heartbeatIntervalMs;
    for (const [link, w] of watched) {
      if (w.lastMessageAt < idleBefore) {
        deps.logger.warn({ peer: link.peer }, "vehicle stream idle; closing");
        link.close(new LinkError("deadline_exceeded", `no message for ${IDLE_INTERVALS} heartbeat intervals`));
      }
    }
    housekeepingRun ??= (async () => {
      if ((await flushSightings()) && !aborted) await sweepStalePresence();
    })()
      .catch((err: unknown) => {
        metrics.databaseErrors.inc();
        deps.logger.error({ err }, "presence sweep failed");
      })
      .finally(() => {
        housekeepingRun = undefined;
      });
  }, deps.heartbeatIntervalMs);
  housekeeping.unref();

  return {
    handle(link) {
      const done = run(link);
      const tracked = done.catch(() => undefined);
      handlers.add(tracked);
      void tracked.finally(() => handlers.delete(tracked));
      return done;
    },
    count: () => sessions.size,
    stopDispatch() {
      for (const s of sessions.values()) s.executeSub?.unsubscribe();
    },
    async closeAll() {
      clearInterval(housekeeping);
      for (const link of watched.keys()) link.close(new LinkError("unavailable", "connector is shutting down"));
      await Promise.all([...handlers]);
      while (work.size > 0) await Promise.all([...work]);
      await housekeepingRun;
      await flushSightings();
    },
    async abort() {
      aborted = true;
      clearInterval(housekeeping);
      for (const s of sessions.values()) s.subscriptions.abort();
      for (const link of watched.keys()) link.close(new LinkError("unavailable", "connector stopped"));
      await Promise.all([...handlers]);
      await Promise.all([...work]);
      await housekeepingRun;
    },
  };
}
