import { insertAudit, VEHICLE_COLUMNS, withTransaction, type Pool, type Queryable, type VehicleRow } from "@sovd/platform";
import { LinkError } from "@sovd/link";
import { requireRegistrationFields, type ValidHello } from "./hello.js";

/**
 * Marks the vehicle online under `sessionId` (the newest session owns the row). A known
 * vehicle costs one statement; a vehicle the database does not know yet is registered (fleet
 * onboarding, audit `vehicle_registered`) in one transaction. A VIN that belongs to another
 * vehicle is refused.
 */
export async function markOnline(pool: Pool, hello: ValidHello, sessionId: string): Promise<{ row: VehicleRow; registered: boolean }> {
  const online = (db: Queryable) =>
    db.query<VehicleRow>(
      `UPDATE vehicles SET connection_status = 'online', last_seen_at = now(), session_id = $2
        WHERE vehicle_id = $1 RETURNING ${VEHICLE_COLUMNS}`,
      [hello.vehicleId, sessionId],
    );
  const known = await online(pool);
  if (known.rows[0]) return { row: known.rows[0], registered: false };
  requireRegistrationFields(hello);
  try {
    return await withTransaction(pool, async (tx) => {
      const inserted = await tx.query(
        `INSERT INTO vehicles (vehicle_id, vin, make, model, year) VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (vehicle_id) DO NOTHING`,
        [hello.vehicleId, hello.vin, hello.make, hello.model, hello.year],
      );
      const registered = inserted.rowCount === 1;
      if (registered) {
        await insertAudit(tx, {
          action: "vehicle_registered",
          vehicleId: hello.vehicleId,
          details: { vin: hello.vin, make: hello.make, model: hello.model, year: hello.year, software_version: hello.softwareVersion },
        });
      }
      const { rows } = await online(tx);
      return { row: rows[0]!, registered };
    });
  } catch (err) {
    if ((err as { code?: string }).code === "23505") {
      throw new LinkError("already_exists", "hello.vin is registered to another vehicle", { cause: err });
    }
    throw err;
  }
}

/**
 * Marks the vehicle offline, but only while `sessionId` still owns it: a newer session (here
 * or on another connector) keeps it online. Returns the row when it changed.
 */
export async function markOffline(db: Queryable, vehicleId: string, sessionId: string): Promise<VehicleRow | undefined> {
  const { rows } = await db.query<VehicleRow>(
    `UPDATE vehicles SET connection_status = 'offline', last_seen_at = now(), session_id = NULL
      WHERE vehicle_id = $1 AND session_id = $2 RETURNING ${VEHICLE_COLUMNS}`,
    [vehicleId, sessionId],
  );
  return rows[0];
}

/** The session that owns the vehicle now, per the database (the arbiter between connectors). */
export async function currentSessionId(db: Queryable, vehicleId: string): Promise<string | null> {
  const { rows } = await db.query<{ session_id: string | null }>("SELECT session_id FROM vehicles WHERE vehicle_id = $1", [vehicleId]);
  return rows[0]?.session_id ?? null;
}

/** One sighting of a vehicle for the batched `last_seen_at` update. */
export interface Sighting {
  readonly vehicleId: string;
  readonly sessionId: string;
  readonly at: Date;
}

/**
 * Writes many sightings in one statement (`UPDATE ... FROM unnest`), never one write per
 * heartbeat; only rows still owned by the session, and never backwards in time.
 */
export async function recordSightings(db: Queryable, sightings: readonly Sighting[]): Promise<number> {
  if (sightings.length === 0) return 0;
  const result = await db.query(
    `UPDATE vehicles v SET last_seen_at = s.seen
       FROM unnest($1::uuid[], $2::uuid[], $3::timestamptz[]) AS s(vehicle_id, session_id, seen)
      WHERE v.vehicle_id = s.vehicle_id AND v.session_id = s.session_id
        AND (v.last_seen_at IS NULL OR v.last_seen_at < s.seen)`,
    [sightings.map((s) => s.vehicleId), sightings.map((s) => s.sessionId), sightings.map((s) => s.at.toISOString())],
  );
  return result.rowCount ?? 0;
}

/**
 * Marks offline the online vehicles nobody has heard from for `staleMs`: their connector died
 * without cleaning up (ARCHITECTURE §7, nothing stays stuck). Live sessions refresh
 * `last_seen_at` at least every few heartbeat intervals, so they are never taken. Locked with
 * SKIP LOCKED, so several connectors sweep at once; uses the partial index vehicles_online_seen_idx.
 */
export async function markStaleOffline(db: Queryable, staleMs: number, limit = 500): Promise<VehicleRow[]> {
  const { rows } = await db.query<VehicleRow>(
    `UPDATE vehicles SET connection_status = 'offline', session_id = NULL
      WHERE vehicle_id IN (
        SELECT vehicle_id FROM vehicles
         WHERE connection_status = 'online' AND last_seen_at < now() - make_interval(secs => $1 / 1000.0)
         ORDER BY last_seen_at LIMIT $2
         FOR UPDATE SKIP LOCKED)
      RETURNING ${VEHICLE_COLUMNS}`,
    [staleMs, limit],
  );
  return rows;
}
