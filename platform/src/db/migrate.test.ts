import { describe, expect, it } from "vitest";
import { createTestDatabase } from "../../../test/src/test-database.js";
import { migrate, migrationsApplied } from "./migrate.js";

describe("migrations", () => {
  it("create the tables of the design and are idempotent when run again", async () => {
    await using db = await createTestDatabase();
    expect(await migrate(db.pool, { schema: db.schema })).toEqual([]);
    expect(await migrationsApplied(db.pool)).toBe(true);
    const { rows } = await db.pool.query<{ table_name: string }>(
      "SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema() ORDER BY 1",
    );
    expect(rows.map((r) => r.table_name)).toEqual(
      expect.arrayContaining(["users", "vehicles", "commands", "responses", "audit_logs", "refresh_tokens", "stream_tickets"]),
    );
  });

  it("keep the audit log append-only", async () => {
    await using db = await createTestDatabase();
    await db.pool.query("INSERT INTO audit_logs (action) VALUES ('user_login')");
    await expect(db.pool.query("UPDATE audit_logs SET action = 'x'")).rejects.toThrow(/append-only/);
    await expect(db.pool.query("DELETE FROM audit_logs")).rejects.toThrow(/append-only/);
  });
});
