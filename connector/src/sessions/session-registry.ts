import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { currentSessionId } from "@sovd/domain";
import { LinkError } from "@sovd/link";
import type { Bus, BusMessage, BusSubscription, Logger, Pool } from "@sovd/platform";
import { allSessionSubject, SessionClaimSchema, sessionSubject, vehicleIdOfSubject } from "@sovd/proto";
import type { ConnectorMetrics } from "../metrics.js";
import type { LiveSession } from "./session.js";
import type { SessionActivity } from "./session-activity.js";

/**
 * The sessions one connector holds, one per vehicle, and who wins when a vehicle connects
 * again (architecture §3 "Vehicle sessions"): a newer session here replaces the older one
 * at once; a claim from elsewhere closes ours only when the database says the vehicle's
 * session is no longer ours. The claims and cancels of every vehicle arrive on one
 * connector-wide subscription each, routed here to the vehicle's session: a session costs one
 * subscription of its own (execute, whose request needs "no responders" when nobody holds
 * the vehicle).
 */
export interface SessionRegistry {
  /**
   * Holds `session` as its vehicle's session here (counted in vehicle_connections_active); an
   * older session of the vehicle on this connector is replaced.
   */
  hold(session: LiveSession): void;
  /** Lets go of a closing session; a newer session of its vehicle stays held. */
  release(session: LiveSession): void;
  /**
   * Subscribes the connector-wide claims (`sovd.v1.vehicle.*.session`) and, when given, hands
   * each message of `also` (another `sovd.v1.vehicle.*.…` subject) to its vehicle's session.
   * Before the first session opens.
   */
  listen(also?: { subject: string; handle: (session: LiveSession, message: BusMessage) => void }): Promise<void>;
  /**
   * Publishes this session's claim on `sovd.v1.vehicle.{id}.session`, so an older session of
   * the vehicle on another connector closes.
   */
  claim(session: LiveSession): void;
  /** Vehicles with a session here. */
  count(): number;
  /** Shutdown, step 1: stop answering dispatches (gateways then see no responders). */
  stopDispatch(): void;
  /** Ends the subscriptions of every held session, and the connector-wide ones, at once (abort: nothing more is handled). */
  unsubscribeAll(): void;
}

/** One registry per connector; claims being handled are part of the sessions' activity, which shutdown waits for. */
export function createSessionRegistry(deps: {
  readonly pool: Pool;
  readonly bus: Bus;
  readonly metrics: ConnectorMetrics;
  readonly activity: SessionActivity;
  readonly logger: Logger;
  /** Names this connector in its claims. */
  readonly connectorId: string;
}): SessionRegistry {
  const { pool, bus, metrics } = deps;
  /** The session of each vehicle, by vehicle id. */
  const sessions = new Map<string, LiveSession>();
  /** Sessions counted in vehicle_connections_active: held once, until released (a replaced one too). */
  const counted = new Set<LiveSession>();
  const shared = new AbortController();

  /** Each message of a connector-wide subscription, to the open session of its subject's vehicle (none: dropped). */
  const route = (subscription: BusSubscription, handle: (session: LiveSession, message: BusMessage) => void): void => {
    void (async () => {
      try {
        for await (const message of subscription) {
          const vehicleId = vehicleIdOfSubject(message.subject);
          const session = vehicleId === undefined ? undefined : sessions.get(vehicleId);
          if (session?.open) handle(session, message);
        }
      } catch (err) {
        metrics.busErrors.inc();
        deps.logger.error({ err, subject: subscription.subject }, "subscription failed");
      }
    })();
  };

  const replace = (session: LiveSession, why: string): void => {
    if (!session.open) return;
    session.open = false;
    metrics.sessionsReplaced.inc();
    session.logger.info({ why }, "session replaced by a newer session of this vehicle");
    session.link.close(new LinkError("aborted", "replaced by a newer session of this vehicle"));
  };

  const onClaim = async (session: LiveSession, message: BusMessage): Promise<void> => {
    let claim;
    try {
      claim = fromBinary(SessionClaimSchema, message.data);
    } catch (err) {
      metrics.busErrors.inc();
      session.logger.error({ err }, "undecodable session claim");
      return;
    }
    if (claim.sessionId === session.sessionId || !session.open) return;
    // The database decides which session is newest; two claims that cross settle the same way everywhere.
    const owner = await currentSessionId(pool, session.vehicleId);
    if (owner !== session.sessionId) replace(session, `claimed by ${claim.connectorId}`);
  };

  return {
    hold(session) {
      const older = sessions.get(session.vehicleId);
      sessions.set(session.vehicleId, session);
      counted.add(session);
      metrics.connectionsActive.inc();
      if (older) replace(older, "same connector");
    },
    release(session) {
      if (sessions.get(session.vehicleId) === session) sessions.delete(session.vehicleId);
      if (counted.delete(session)) metrics.connectionsActive.dec();
    },
    async listen(also) {
      const claims = await bus.subscribe(allSessionSubject, { signal: shared.signal });
      route(claims, (session, message) => {
        const handled = onClaim(session, message).catch((err: unknown) => {
          metrics.databaseErrors.inc();
          session.logger.error({ err }, "session claim handling failed");
        });
        deps.activity.shutdownAwaits(handled);
      });
      if (also) route(await bus.subscribe(also.subject, { signal: shared.signal }), also.handle);
    },
    claim(session) {
      const claim = create(SessionClaimSchema, { vehicleId: session.vehicleId, sessionId: session.sessionId, connectorId: deps.connectorId });
      bus.publish(sessionSubject(session.vehicleId), toBinary(SessionClaimSchema, claim));
    },
    count: () => sessions.size,
    stopDispatch() {
      for (const s of sessions.values()) s.executeSub?.unsubscribe();
    },
    unsubscribeAll() {
      shared.abort();
      for (const s of sessions.values()) s.subscriptions.abort();
    },
  };
}
