import type { JsonObject } from "@bufbuild/protobuf";
import type { Queryable } from "@sovd/platform";

/** Audit actions written by the services (architecture §4 "Audit actions"). */
export type AuditAction =
  | "user_login"
  | "user_login_failed"
  | "user_logout"
  | "token_refreshed"
  | "refresh_token_reuse"
  | "command_submitted"
  | "command_completed"
  | "command_failed"
  | "command_timeout"
  | "command_cancelled"
  | "vehicle_registered";

export interface AuditEntry {
  action: AuditAction;
  userId?: string | null;
  vehicleId?: string | null;
  commandId?: string | null;
  details?: JsonObject;
  ipAddress?: string | null;
  userAgent?: string | null;
  requestId?: string | null;
}

/** Appends one audit row. Call it inside the transaction of the change it records. */
export async function insertAudit(db: Queryable, e: AuditEntry): Promise<void> {
  await db.query(
    `INSERT INTO audit_logs (action, user_id, vehicle_id, command_id, details, ip_address, user_agent, request_id)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
    [
      e.action,
      e.userId ?? null,
      e.vehicleId ?? null,
      e.commandId ?? null,
      JSON.stringify(e.details ?? {}),
      e.ipAddress ?? null,
      e.userAgent?.slice(0, 512) ?? null,
      e.requestId ?? null,
    ],
  );
}
