import { fromBinary } from "@bufbuild/protobuf";
import type { HandlerContext, ServiceImpl } from "@connectrpc/connect";
import { sql, type Bus, type Gauge, type Logger, type Pool } from "@sovd/platform";
import { VEHICLE_COLUMNS, vehicleFromRow, type VehicleRow } from "@sovd/domain";
import { VehicleEventSchema, allPresenceSubject, type VehicleService } from "@sovd/proto";
import { keysetQuery, pageSize } from "../paging.js";
import { InvalidArgumentError, isPlainText, isUuid, NotFoundError } from "../rpc/index.js";

const MAX_QUERY = 64;

/** Escapes LIKE metacharacters so a query is matched literally as a prefix. */
const likePrefix = (q: string): string => `${q.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;

/** What VehicleService reads from: the fleet table and the connectors' presence events. */
export interface VehicleServiceDeps {
  readonly pool: Pool;
  readonly bus: Bus;
  readonly logger: Logger;
  /** `watch_streams_active`, kind "vehicles". */
  readonly active?: Gauge<"kind">;
  /** Ends WatchVehicles streams when the gateway shuts down. */
  readonly shutdownSignal: AbortSignal;
}

/**
 * VehicleService (architecture §4 "Services"): the fleet, paged by VIN (keyset, so page 1,000
 * costs what page 1 costs), searched by VIN/make/model prefix on indexes, and its
 * online/offline changes streamed from the connectors' presence events.
 */
export function createVehicleService(deps: VehicleServiceDeps): ServiceImpl<typeof VehicleService> {
  const { pool, bus, logger } = deps;
  return {
    async listVehicles(req) {
      const size = pageSize(req.pageSize, { default: 50, max: 500 });
      const query = req.query.trim();
      if (query.length > MAX_QUERY) throw new InvalidArgumentError("query", `must be at most ${MAX_QUERY} characters`);
      if (!isPlainText(query)) throw new InvalidArgumentError("query", "must not contain control characters");
      const list = keysetQuery("vehicles", ["s"]);
      const after = list.after(req.pageToken);
      if (query !== "") {
        const [vin, name] = [likePrefix(query.toUpperCase()), likePrefix(query.toLowerCase())];
        list.where(sql`(vin LIKE ${vin} OR lower(make) LIKE ${name} OR lower(model) LIKE ${name})`);
      }
      if (after) list.where(sql`vin > ${after[0]}`);
      const { rows, nextPageToken } = await list.page<VehicleRow>(pool, {
        select: `SELECT ${VEHICLE_COLUMNS} FROM vehicles`,
        orderBy: "vin",
        size,
        keyOf: (row) => [row.vin],
      });
      return { vehicles: rows.map(vehicleFromRow), nextPageToken };
    },

    async getVehicle(req) {
      if (req.vehicleId === "") throw new InvalidArgumentError("vehicle_id", "is required");
      if (!isUuid(req.vehicleId)) throw new NotFoundError("vehicle");
      const { rows } = await pool.query<VehicleRow>(`SELECT ${VEHICLE_COLUMNS} FROM vehicles WHERE vehicle_id = $1`, [req.vehicleId]);
      if (!rows[0]) throw new NotFoundError("vehicle");
      return { vehicle: vehicleFromRow(rows[0]) };
    },

    async *watchVehicles(_req, ctx: HandlerContext) {
      const signal = AbortSignal.any([ctx.signal, deps.shutdownSignal]);
      const subscription = await bus.subscribe(allPresenceSubject, { signal });
      const gauge = deps.active?.labels("vehicles");
      gauge?.inc();
      try {
        for await (const message of subscription) {
          let event;
          try {
            event = fromBinary(VehicleEventSchema, message.data);
          } catch (err) {
            logger.warn({ err, subject: message.subject }, "undecodable presence event dropped");
            continue;
          }
          yield event;
        }
      } finally {
        subscription.unsubscribe();
        gauge?.dec();
      }
    },
  };
}
