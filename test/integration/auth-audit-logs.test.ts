import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { Code, ConnectError } from "@connectrpc/connect";
import type { AuditLog } from "@sovd/proto";
import { beforeAll, describe, expect, it } from "vitest";
import { useStack, type StackClients } from "../src/index.js";

describe("AuditService.ListAuditLogs", () => {
  const stack = useStack({ gateway: "auth-only" });
  let admin: string;
  const vehicleId = "5f1e1c0a-0000-4000-8000-000000000001";
  beforeAll(async () => {
    admin = (await stack.login("admin")).accessToken;
    // 30 rows written by ONE statement share created_at: paging must still neither skip nor repeat.
    await stack.db.pool.query(
      `INSERT INTO audit_logs (action, user_id, vehicle_id, details, request_id)
       SELECT 'command_submitted', $1, $2, jsonb_build_object('n', g), 'bulk-' || g FROM generate_series(1, 30) g`,
      [stack.users.engineer.userId, vehicleId],
    );
    await stack.db.pool.query(
      `INSERT INTO audit_logs (action, user_id, details, created_at)
       SELECT 'command_timeout', $1, '{}'::jsonb, now() - (g || ' minutes')::interval FROM generate_series(1, 5) g`,
      [stack.users.engineer2.userId],
    );
  });

  const list = (req: Parameters<StackClients["audit"]["listAuditLogs"]>[0]) => stack.clients().audit.listAuditLogs(req, stack.as(admin));

  it("pages newest first without gaps or repeats", async () => {
    const seen: AuditLog[] = [];
    let pageToken = "";
    let pages = 0;
    do {
      const res = await list({ pageSize: 7, pageToken });
      expect(res.auditLogs.length).toBeLessThanOrEqual(7);
      seen.push(...res.auditLogs);
      pageToken = res.nextPageToken;
      pages++;
    } while (pageToken && pages < 50);
    const { rows } = await stack.db.pool.query<{ audit_id: string }>("SELECT audit_id FROM audit_logs ORDER BY created_at DESC, audit_id DESC");
    expect(seen.map((a) => a.auditId)).toEqual(rows.map((r) => r.audit_id));
    const times = seen.map((a) => Number(a.createdAt!.seconds) * 1e9 + a.createdAt!.nanos);
    expect([...times].sort((a, b) => b - a)).toEqual(times);
  });

  it("filters by action, user, vehicle and time", async () => {
    const timeouts = await list({ action: "command_timeout" });
    expect(timeouts.auditLogs).toHaveLength(5);
    expect(timeouts.auditLogs.every((a) => a.userId === stack.users.engineer2.userId)).toBe(true);
    const byVehicle = await list({ vehicleId, pageSize: 200 });
    expect(byVehicle.auditLogs).toHaveLength(30);
    expect(byVehicle.auditLogs[0]).toMatchObject({ action: "command_submitted", vehicleId, commandId: "" });
    expect(byVehicle.auditLogs.map((a) => a.details?.n).sort((a, b) => Number(a) - Number(b))).toEqual(Array.from({ length: 30 }, (_, i) => i + 1));
    const byUser = await list({ userId: stack.users.engineer2.userId });
    expect(byUser.auditLogs).toHaveLength(5);
    const recent = await list({ action: "command_timeout", createdAfter: timestampFromDate(new Date(Date.now() - 150_000)) });
    expect(recent.auditLogs).toHaveLength(2);
    const old = await list({ action: "command_timeout", createdBefore: timestampFromDate(new Date(Date.now() - 150_000)) });
    expect(old.auditLogs).toHaveLength(3);
  });

  it("bounds and validates every field", async () => {
    const bad = async (req: Parameters<typeof list>[0]) => {
      try {
        await list(req);
      } catch (err) {
        const e = ConnectError.from(err);
        return [e.code, e.rawMessage.split(":")[0]];
      }
      return ["ok"];
    };
    expect(await bad({ userId: "42" })).toEqual([Code.InvalidArgument, "user_id"]);
    expect(await bad({ vehicleId: "'; DROP TABLE audit_logs; --" })).toEqual([Code.InvalidArgument, "vehicle_id"]);
    expect(await bad({ commandId: "x".repeat(10_000) })).toEqual([Code.InvalidArgument, "command_id"]);
    expect(await bad({ action: "User Login" })).toEqual([Code.InvalidArgument, "action"]);
    expect(await bad({ pageSize: 201 })).toEqual([Code.InvalidArgument, "page_size"]);
    expect(await bad({ pageToken: "garbage!" })).toEqual([Code.InvalidArgument, "page_token"]);
    expect(await bad({ pageToken: Buffer.from(JSON.stringify(["audit", 1, "not-a-uuid"])).toString("base64url") })).toEqual([
      Code.InvalidArgument,
      "page_token",
    ]);
    const all = await list({ pageSize: 200 });
    expect(all.auditLogs.length).toBeLessThanOrEqual(200);
    const defaults = await list({});
    expect(defaults.auditLogs).toHaveLength(Math.min(50, all.auditLogs.length));
  });
});
