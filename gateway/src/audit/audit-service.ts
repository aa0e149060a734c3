import { create, type JsonObject } from "@bufbuild/protobuf";
import { timestampDate, timestampFromDate } from "@bufbuild/protobuf/wkt";
import type { ServiceImpl } from "@connectrpc/connect";
import { sql, type Pool } from "@sovd/platform";
import { AuditLogSchema, ListAuditLogsResponseSchema, type AuditLog, type AuditService } from "@sovd/proto";
import { requirePrincipal } from "../auth/index.js";
import { InvalidArgumentError, isUuid, optionalUuid } from "../rpc/index.js";
import { keysetQuery, pageSize } from "../paging.js";

/** Page size of ListAuditLogs when the request says 0, and the most it returns (audit.proto). */
const AUDIT_PAGE_SIZE = { default: 50, max: 200 } as const;

const PAGE_KIND = "audit";

const ACTION = /^[a-z_]{1,64}$/;

interface AuditRow {
  audit_id: string;
  user_id: string | null;
  vehicle_id: string | null;
  command_id: string | null;
  action: string;
  details: JsonObject;
  ip_address: string | null;
  user_agent: string | null;
  request_id: string | null;
  created_at: Date;
  created_us: string;
}

function auditLogFromRow(row: AuditRow): AuditLog {
  return create(AuditLogSchema, {
    auditId: row.audit_id,
    userId: row.user_id ?? "",
    vehicleId: row.vehicle_id ?? "",
    commandId: row.command_id ?? "",
    action: row.action,
    details: row.details,
    ipAddress: row.ip_address ?? "",
    userAgent: row.user_agent ?? "",
    requestId: row.request_id ?? "",
    createdAt: timestampFromDate(row.created_at),
  });
}

/**
 * AuditService.ListAuditLogs (architecture §4 "Audit actions"): the audit trail for admins
 * (the interceptor's rule table enforces the role), filtered, newest first, keyset-paged so a
 * page is as cheap at row 1,000,000 as at row 1 and rows written meanwhile shift nothing.
 */
export function createAuditService(deps: { pool: Pool }): ServiceImpl<typeof AuditService> {
  return {
    async listAuditLogs(req, ctx) {
      requirePrincipal(ctx);
      const list = keysetQuery(PAGE_KIND, ["n", "s"]);
      const userId = optionalUuid("user_id", req.userId);
      if (userId) list.where(sql`user_id = ${userId}`);
      const vehicleId = optionalUuid("vehicle_id", req.vehicleId);
      if (vehicleId) list.where(sql`vehicle_id = ${vehicleId}`);
      const commandId = optionalUuid("command_id", req.commandId);
      if (commandId) list.where(sql`command_id = ${commandId}`);
      if (req.action !== "") {
        if (!ACTION.test(req.action)) throw new InvalidArgumentError("action", "must be an action name like user_login");
        list.where(sql`action = ${req.action}`);
      }
      if (req.createdAfter) list.where(sql`created_at > ${timestampDate(req.createdAfter)}`);
      if (req.createdBefore) list.where(sql`created_at < ${timestampDate(req.createdBefore)}`);
      // Keyset position: the last row's created_at in epoch microseconds (PostgreSQL's
      // precision; a JS Date would skip rows sharing a millisecond) and its audit_id.
      const after = list.after(req.pageToken, ([micros, id]) => micros >= 0 && isUuid(id));
      if (after) list.where(sql`(created_at, audit_id) < (timestamptz 'epoch' + ${after[0]} * interval '1 microsecond', ${after[1]}::uuid)`);
      const size = pageSize(req.pageSize, AUDIT_PAGE_SIZE);
      const { rows, nextPageToken } = await list.page<AuditRow>(deps.pool, {
        select: `SELECT audit_id, user_id, vehicle_id, command_id, action, details, ip_address, user_agent, request_id, created_at,
                        (extract(epoch FROM created_at) * 1000000)::bigint::text AS created_us
                   FROM audit_logs`,
        orderBy: "created_at DESC, audit_id DESC",
        size,
        keyOf: (row) => [Number(row.created_us), row.audit_id],
      });
      return create(ListAuditLogsResponseSchema, { auditLogs: rows.map(auditLogFromRow), nextPageToken });
    },
  };
}
