import { create } from "@bufbuild/protobuf";
import { LinkError, type VehicleLink } from "@sovd/link";
import {
  markOfflineMany,
  markOnlineMany,
  registerVehicles,
  vehiclesWithQueuedCommands,
  VinTakenError,
  type Registration,
  type SessionOfVehicle,
  type VehicleRow,
} from "@sovd/domain";
import { BusClosedError, createBatcher, type Bus, type Logger, type Pool } from "@sovd/platform";
import { ConnectorMessageSchema, executeSubject, type VehicleMessage } from "@sovd/proto";
import type { CommandEngine } from "../commands/command-engine.js";
import { ConcurrencyLimit } from "../concurrency-limit.js";
import type { ConnectorMetrics } from "../metrics.js";
import { authenticateVehicle } from "./authenticate.js";
import { requireRegistrationFields, validateHello, type ValidHello } from "./hello.js";
import type { Housekeeping } from "./housekeeping.js";
import { publishPresence, publishPresenceSafely } from "./presence.js";
import { createLiveSession, type LiveSession } from "./session.js";
import type { SessionRegistry } from "./session-registry.js";
import type { SessionActivity } from "./session-activity.js";
import { handleSubscription } from "./subscription.js";

/**
 * Session opens under way at once; the rest wait their turn. Their writes are batched (one
 * statement for many vehicles), so this bounds memory and bus work, not database round trips.
 */
const OPEN_CONCURRENCY = 256;

/** What handling a vehicle stream needs: the stores, the command engine and the other session parts. */
export interface VehicleStreamDeps {
  readonly pool: Pool;
  readonly bus: Bus;
  readonly logger: Logger;
  readonly metrics: ConnectorMetrics;
  readonly commands: CommandEngine;
  readonly registry: SessionRegistry;
  readonly housekeeping: Housekeeping;
  readonly activity: SessionActivity;
  readonly vehicleTokenSecret: string;
  /** Told to the vehicle in its Welcome. */
  readonly heartbeatIntervalMs: number;
}

/**
 * One vehicle stream from authentication to disconnect (architecture §3 "Vehicle sessions"),
 * the link server's onLink: the token is verified before any message is read; the first
 * message must be the token's Hello, which opens the session (vehicle online or registered,
 * execute subscribed, the vehicle claimed, presence, Welcome, the queued
 * commands delivered); every later message is a sighting, and its chunks and failures go to
 * the command engine. When the stream ends the session closes: its commands fail as
 * unreachable and the vehicle goes offline if the session is still its own.
 */
export function createVehicleStreamHandler(deps: VehicleStreamDeps): (link: VehicleLink) => Promise<void> {
  const { pool, bus, metrics, commands, registry, housekeeping, activity } = deps;
  const admission = new ConcurrencyLimit(OPEN_CONCURRENCY);
  // Group commit of session opens and closes (architecture §3 "Vehicle sessions"): a storm of
  // thousands of vehicles is a few statements, not one per vehicle, and never drains the pool.
  const byVehicle = { key: (s: SessionOfVehicle) => s.vehicleId, maxItems: 1000, concurrency: 2 };
  const onlines = createBatcher({ ...byVehicle, run: (items: SessionOfVehicle[]) => markOnlineMany(pool, items) });
  const registrations = createBatcher({
    key: (r: Registration) => r.vehicle.vehicleId,
    maxItems: 500,
    concurrency: 1,
    run: (items: Registration[]) => registerVehicles(pool, items),
  });
  const offlines = createBatcher({ ...byVehicle, run: (items: SessionOfVehicle[]) => markOfflineMany(pool, items) });
  const queuedChecks = createBatcher({
    maxItems: 1000,
    concurrency: 1,
    run: async (vehicleIds: string[]) => {
      const waiting = await vehiclesWithQueuedCommands(pool, vehicleIds);
      return vehicleIds.map((id) => waiting.has(id));
    },
  });

  /** The first message: the Hello of the token's vehicle, or the stream is refused. */
  const acceptHello = (message: VehicleMessage, tokenVehicleId: string): ValidHello => {
    if (message.kind.case !== "hello") {
      if (message.kind.case === "chunk") metrics.chunksDropped.inc({ reason: "before_hello" });
      throw new LinkError("failed_precondition", "the first message on the stream must be a Hello");
    }
    const hello = validateHello(message.kind.value, tokenVehicleId);
    if (activity.abandoned) throw new LinkError("unavailable", "connector is shutting down");
    return hello;
  };

  /** Marks the vehicle online; a vehicle the database does not know is registered (fleet onboarding). */
  const markVehicleOnline = async (hello: ValidHello, session: LiveSession): Promise<VehicleRow> => {
    const known = await onlines.push({ vehicleId: hello.vehicleId, sessionId: session.sessionId });
    if (known) return known;
    requireRegistrationFields(hello);
    const outcome = await registrations.push({ vehicle: hello, sessionId: session.sessionId });
    if (outcome instanceof VinTakenError) throw new LinkError("already_exists", "hello.vin is registered to another vehicle", { cause: outcome });
    if (outcome.registered) session.logger.info({ vin: outcome.row.vin }, "new vehicle registered");
    return outcome.row;
  };

  const openSession = async (session: LiveSession, hello: ValidHello): Promise<void> => {
    const { link, sessionId, vehicleId } = session;
    const row = await markVehicleOnline(hello, session);
    registry.hold(session);
    // Before this session takes dispatches: what an earlier session left running ends now.
    await commands.endInterrupted(session).catch((err: unknown) => {
      metrics.databaseErrors.inc();
      session.logger.error({ err }, "could not end the commands of the vehicle's earlier sessions; their deadlines will");
    });
    const signal = session.subscriptions.signal;
    session.executeSub = await bus.subscribe(executeSubject(vehicleId), { signal });
    handleSubscription(deps, session, session.executeSub, (m) => commands.dispatch.onExecute(session, m));
    registry.claim(session);
    publishPresence(bus, row);
    link.send(
      create(ConnectorMessageSchema, {
        kind: { case: "welcome", value: { sessionId, heartbeatIntervalMs: deps.heartbeatIntervalMs } },
      }),
    );
    session.logger.info({ peer: link.peer, softwareVersion: hello.softwareVersion }, "vehicle online");
    // Checked after the execute subscription is in place: a command queued before it is found
    // here, one dispatched after it reaches this session.
    activity.shutdownAwaits(
      queuedChecks
        .push(vehicleId)
        .then((waiting) => (waiting ? commands.deliverQueued(session) : undefined))
        .catch((err: unknown) => {
          metrics.databaseErrors.inc();
          session.logger.error({ err }, "could not deliver queued commands");
        }),
    );
  };

  /** Opens the session when admission control lets it (unless the stream ended meanwhile). */
  const admitSession = async (session: LiveSession, hello: ValidHello): Promise<void> => {
    await admission.run(() => (session.link.signal.aborted ? Promise.resolve() : openSession(session, hello))).catch((err: unknown) => {
      if (err instanceof LinkError) throw err;
      (err instanceof BusClosedError ? metrics.busErrors : metrics.databaseErrors).inc();
      session.logger.error({ err }, "could not open the session");
      // The vehicle should simply retry later; the cause stays in our log.
      throw new LinkError("unavailable", "the connector cannot take the session now; retry later", { cause: err });
    });
  };

  /** A message after the Hello: a sighting; chunks and failures go to the command engine. */
  const handleVehicleMessage = (session: LiveSession, message: VehicleMessage, at: Date): void => {
    housekeeping.sighted(session, at);
    const kind = message.kind;
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
  };

  /** Undoes the session: released, unsubscribed, its commands failed, the vehicle offline if still its own. */
  const closeSession = async (session: LiveSession): Promise<void> => {
    session.open = false;
    registry.release(session);
    session.subscriptions.abort();
    housekeeping.forget(session);
    if (activity.abandoned) return;
    await commands.linkLost(session);
    try {
      const row = await offlines.push({ vehicleId: session.vehicleId, sessionId: session.sessionId });
      if (row) publishPresenceSafely(bus, row, metrics, session.logger);
      session.logger.info({ offline: row !== undefined }, "vehicle session closed");
    } catch (err) {
      metrics.databaseErrors.inc();
      session.logger.error({ err }, "could not mark the vehicle offline");
    }
  };

  return async function handleStream(link: VehicleLink): Promise<void> {
    const tokenVehicleId = await authenticateVehicle(link.metadata("authorization"), deps.vehicleTokenSecret);
    const stream = activity.streamOpened(link);
    let session: LiveSession | undefined;
    try {
      for await (const message of link.messages) {
        stream.lastMessageAt = Date.now();
        if (session) {
          handleVehicleMessage(session, message, new Date(stream.lastMessageAt));
          continue;
        }
        const hello = acceptHello(message, tokenVehicleId);
        activity.helloReceived(link);
        session = createLiveSession(link, hello.vehicleId, deps.logger);
        await admitSession(session, hello);
      }
    } finally {
      if (session) await closeSession(session);
      activity.streamEnded(link);
    }
  };
}
