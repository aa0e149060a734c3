import { markStaleOffline, recordSightings, type Sighting } from "@sovd/domain";
import { LinkError } from "@sovd/link";
import type { Bus, Logger, Pool } from "@sovd/platform";
import type { ConnectorMetrics } from "../metrics.js";
import { publishPresenceSafely } from "./presence.js";
import type { VehicleSession } from "./session.js";
import type { SessionActivity } from "./session-activity.js";

/** Streams are closed after this many heartbeat intervals without a message. */
const IDLE_INTERVALS = 3;

/**
 * An online vehicle whose last_seen_at is older than this many intervals has no live session
 * anywhere: a live one had a message within IDLE_INTERVALS (+1 for the check period) and it was
 * flushed within one more interval. One more interval of margin.
 */
const STALE_INTERVALS = IDLE_INTERVALS + 3;

/**
 * The connector-wide timers of the vehicle sessions (architecture §3 "Vehicle sessions"),
 * every heartbeat interval: closes streams silent for 3 intervals, writes the sightings
 * (`last_seen_at`) in one batch, then marks offline the online vehicles nobody refreshed for
 * 6 intervals; and every half hello timeout: closes streams whose Hello is overdue. No
 * per-vehicle timers.
 */
export interface Housekeeping {
  /** The vehicle of `session` was heard from at `at`; written with the next batch. */
  sighted(session: VehicleSession, at: Date): void;
  /** Drops the unwritten sighting of a session that closes (the row is no longer its own). */
  forget(session: VehicleSession): void;
  /** Stops the timer (first step of shutdown and of abort). */
  stop(): void;
  /** Waits for a round under way, then writes the sightings still pending (none once abandoned). */
  finish(): Promise<void>;
}

/** Starts the one timer of a connector's sessions (unref'd, so it never keeps the process alive). */
export function startHousekeeping(deps: {
  readonly pool: Pool;
  readonly bus: Bus;
  readonly logger: Logger;
  readonly metrics: ConnectorMetrics;
  readonly activity: SessionActivity;
  readonly heartbeatIntervalMs: number;
  /** How long an authenticated stream may take to send its Hello (VEHICLE_HELLO_TIMEOUT_MS). */
  readonly helloTimeoutMs: number;
}): Housekeeping {
  const { pool, logger, metrics, activity, heartbeatIntervalMs, helloTimeoutMs } = deps;
  let sightings = new Map<string, Sighting>();
  let flushing: Promise<void> | undefined;
  let round: Promise<void> | undefined;

  const closeIdleStreams = (): void => {
    const idleBefore = Date.now() - IDLE_INTERVALS * heartbeatIntervalMs;
    for (const [link, stream] of activity.openStreams()) {
      if (stream.lastMessageAt < idleBefore) {
        logger.warn({ peer: link.peer }, "vehicle stream idle; closing");
        link.close(new LinkError("deadline_exceeded", `no message for ${IDLE_INTERVALS} heartbeat intervals`));
      }
    }
  };

  const closeStreamsWithoutHello = (): void => {
    const dueBefore = Date.now() - helloTimeoutMs;
    for (const [link, stream] of activity.streamsWithoutHello()) {
      if (stream.openedAt <= dueBefore) {
        logger.warn({ peer: link.peer }, "vehicle stream sent no Hello in time; closing");
        activity.helloReceived(link);
        link.close(new LinkError("deadline_exceeded", `no Hello within ${helloTimeoutMs} ms`));
      }
    }
  };
  // Closed between 1 and 1.5 hello timeouts after it opened.
  const helloTimer = setInterval(closeStreamsWithoutHello, Math.max(1, Math.floor(helloTimeoutMs / 2)));
  helloTimer.unref();

  /** Writes the batched sightings; true when the database has them all. */
  const flushSightings = async (): Promise<boolean> => {
    if (flushing || activity.abandoned) return false;
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
        logger.error({ err, vehicles: batch.length }, "could not record last_seen_at");
      })
      .finally(() => {
        flushing = undefined;
      });
    await flushing;
    return ok;
  };

  /** Only after our own sightings are in, so no live session here looks stale. */
  const sweepStalePresence = async (): Promise<void> => {
    const rows = await markStaleOffline(pool, STALE_INTERVALS * heartbeatIntervalMs);
    for (const row of rows) {
      logger.warn({ vehicleId: row.vehicle_id }, "vehicle marked offline: no live session anywhere");
      publishPresenceSafely(deps.bus, row, metrics, logger);
    }
  };

  const flushThenSweep = async (): Promise<void> => {
    if ((await flushSightings()) && !activity.abandoned) await sweepStalePresence();
  };

  const timer = setInterval(() => {
    closeIdleStreams();
    round ??= flushThenSweep()
      .catch((err: unknown) => {
        metrics.databaseErrors.inc();
        logger.error({ err }, "presence sweep failed");
      })
      .finally(() => {
        round = undefined;
      });
  }, heartbeatIntervalMs);
  timer.unref();

  return {
    sighted(session, at) {
      sightings.set(session.vehicleId, { vehicleId: session.vehicleId, sessionId: session.sessionId, at });
    },
    forget(session) {
      if (sightings.get(session.vehicleId)?.sessionId === session.sessionId) sightings.delete(session.vehicleId);
    },
    stop() {
      clearInterval(timer);
      clearInterval(helloTimer);
    },
    async finish() {
      await round;
      await flushSightings();
    },
  };
}
