import { withTransaction, type Pool, type Queryable } from "@sovd/platform";
import { insertAudit } from "../audit.js";
import { VEHICLE_COLUMNS, type VehicleRow } from "./vehicle-rows.js";

/*
 * The SQL on `vehicles` of the vehicle sessions: online and offline under a session id (the
 * newest session owns the row), batched sightings, the stale-presence sweep.
 */

/** A VIN that another vehicle already has: the registration is refused. */
export class VinTakenError extends Error {
  override readonly name = "VinTakenError";
}

/** What a vehicle tells about itself when it first connects (fleet onboarding). */
export interface NewVehicle {
  readonly vehicleId: string;
  readonly vin: string;
  readonly make: string;
  readonly model: string;
  readonly year: number;
  readonly softwareVersion: string;
}

/** A session that takes or leaves its vehicle's row. */
export interface SessionOfVehicle {
  readonly vehicleId: string;
  readonly sessionId: string;
}

const columnsOf = (alias: string): string =>
  VEHICLE_COLUMNS.split(", ")
    .map((c) => `${alias}.${c}`)
    .join(", ");

/*
 * Many sessions at once (a reconnect storm): one statement each way, rows locked in
 * vehicle_id order first, so two connectors' batches never deadlock on each other.
 */
const MARK_ONLINE_MANY = `
WITH input AS (
  SELECT * FROM unnest($1::uuid[], $2::uuid[]) AS i(vehicle_id, session_id)
), locked AS (
  SELECT v.vehicle_id FROM vehicles v JOIN input i ON i.vehicle_id = v.vehicle_id ORDER BY v.vehicle_id FOR UPDATE OF v
)
UPDATE vehicles v SET connection_status = 'online', last_seen_at = now(), session_id = i.session_id
  FROM input i
 WHERE v.vehicle_id = i.vehicle_id AND v.vehicle_id IN (SELECT vehicle_id FROM locked)
RETURNING ${columnsOf("v")}`;

const MARK_OFFLINE_MANY = `
WITH input AS (
  SELECT * FROM unnest($1::uuid[], $2::uuid[]) AS i(vehicle_id, session_id)
), locked AS (
  SELECT v.vehicle_id FROM vehicles v JOIN input i ON i.vehicle_id = v.vehicle_id AND i.session_id = v.session_id
   ORDER BY v.vehicle_id FOR UPDATE OF v
)
UPDATE vehicles v SET connection_status = 'offline', last_seen_at = now(), session_id = NULL
  FROM input i
 WHERE v.vehicle_id = i.vehicle_id AND v.session_id = i.session_id AND v.vehicle_id IN (SELECT vehicle_id FROM locked)
RETURNING ${columnsOf("v")}`;

const byVehicle = async (db: Queryable, name: string, text: string, items: readonly SessionOfVehicle[]): Promise<(VehicleRow | undefined)[]> => {
  if (items.length === 0) return [];
  const { rows } = await db.query<VehicleRow>({ name, text }, [items.map((i) => i.vehicleId), items.map((i) => i.sessionId)]);
  const found = new Map(rows.map((r) => [r.vehicle_id, r]));
  return items.map((i) => found.get(i.vehicleId));
};

/**
 * markOnline for many sessions of different vehicles in one statement (group commit of a
 * storm of session opens); one result per item, undefined where the vehicle is unknown.
 */
export function markOnlineMany(db: Queryable, items: readonly SessionOfVehicle[]): Promise<(VehicleRow | undefined)[]> {
  return byVehicle(db, "sovd_mark_online_many", MARK_ONLINE_MANY, items);
}

/** markOffline for many sessions of different vehicles in one statement; undefined where the session no longer owned the row. */
export function markOfflineMany(db: Queryable, items: readonly SessionOfVehicle[]): Promise<(VehicleRow | undefined)[]> {
  return byVehicle(db, "sovd_mark_offline_many", MARK_OFFLINE_MANY, items);
}

const REGISTER_MANY = `
WITH input AS (
  SELECT * FROM jsonb_to_recordset($1::jsonb)
    AS i(vehicle_id uuid, vin text, make text, model text, year integer, software_version text, session_id uuid)
), inserted AS (
  INSERT INTO vehicles (vehicle_id, vin, make, model, year, connection_status, last_seen_at, session_id)
  SELECT vehicle_id, vin, make, model, year, 'online', now(), session_id FROM input
  ON CONFLICT DO NOTHING
  RETURNING ${VEHICLE_COLUMNS}
), audited AS (
  INSERT INTO audit_logs (action, vehicle_id, details)
  SELECT 'vehicle_registered', n.vehicle_id,
         jsonb_build_object('vin', i.vin, 'make', i.make, 'model', i.model, 'year', i.year, 'software_version', i.software_version)
    FROM inserted n JOIN input i ON i.vehicle_id = n.vehicle_id
)
SELECT * FROM inserted`;

/** A vehicle to register under the session that brought it. */
export interface Registration {
  readonly vehicle: NewVehicle;
  readonly sessionId: string;
}

/**
 * Registers many vehicles the database does not know yet (fleet onboarding in a storm), each
 * online under its session with its `vehicle_registered` audit row, in one statement. A
 * vehicle that could not be inserted (registered meanwhile, or its VIN taken) goes through
 * registerVehicle alone, which says which: its result is then the VinTakenError, as a value,
 * so one vehicle's refusal does not fail the others.
 */
export async function registerVehicles(pool: Pool, items: readonly Registration[]): Promise<({ row: VehicleRow; registered: boolean } | VinTakenError)[]> {
  const { rows } = await pool.query<VehicleRow>({ name: "sovd_register_vehicles", text: REGISTER_MANY }, [
    JSON.stringify(
      items.map(({ vehicle: v, sessionId }) => ({
        vehicle_id: v.vehicleId,
        vin: v.vin,
        make: v.make,
        model: v.model,
        year: v.year,
        software_version: v.softwareVersion,
        session_id: sessionId,
      })),
    ),
  ]);
  const inserted = new Map(rows.map((r) => [r.vehicle_id, r]));
  return Promise.all(
    items.map(async ({ vehicle, sessionId }) => {
      const row = inserted.get(vehicle.vehicleId);
      if (row) return { row, registered: true };
      return registerVehicle(pool, vehicle, sessionId).catch((err: unknown) => {
        if (err instanceof VinTakenError) return err;
        throw err;
      });
    }),
  );
}

/**
 * Registers a vehicle the database does not know yet and marks it online, with its
 * `vehicle_registered` audit row, in one transaction. `registered` is false when another
 * session registered it first. A VIN that belongs to another vehicle: VinTakenError.
 */
export async function registerVehicle(pool: Pool, v: NewVehicle, sessionId: string): Promise<{ row: VehicleRow; registered: boolean }> {
  try {
    return await withTransaction(pool, async (tx) => {
      const inserted = await tx.query(
        `INSERT INTO vehicles (vehicle_id, vin, make, model, year) VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (vehicle_id) DO NOTHING`,
        [v.vehicleId, v.vin, v.make, v.model, v.year],
      );
      const registered = inserted.rowCount === 1;
      if (registered) {
        await insertAudit(tx, {
          action: "vehicle_registered",
          vehicleId: v.vehicleId,
          details: { vin: v.vin, make: v.make, model: v.model, year: v.year, software_version: v.softwareVersion },
        });
      }
      return { row: (await markOnline(tx, v.vehicleId, sessionId))!, registered };
    });
  } catch (err) {
    if ((err as { code?: string }).code === "23505") throw new VinTakenError(`VIN ${v.vin} is registered to another vehicle`, { cause: err });
    throw err;
  }
}

/**
 * Marks a known vehicle online under `sessionId` (the newest session owns the row).
 * Undefined when the database does not know the vehicle (register it then).
 */
export async function markOnline(db: Queryable, vehicleId: string, sessionId: string): Promise<VehicleRow | undefined> {
  return (await markOnlineMany(db, [{ vehicleId, sessionId }]))[0];
}

/**
 * Marks the vehicle offline, but only while `sessionId` still owns it: a newer session (here
 * or on another connector) keeps it online. Returns the row when it changed.
 */
export async function markOffline(db: Queryable, vehicleId: string, sessionId: string): Promise<VehicleRow | undefined> {
  return (await markOfflineMany(db, [{ vehicleId, sessionId }]))[0];
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
 * without cleaning up (nothing stays stuck). Live sessions refresh
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
