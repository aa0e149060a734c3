import { describe, expect, it } from "vitest";
import { createTestDatabase } from "../../../test/src/test-database.js";
import { withTransaction } from "./database.js";

describe("withTransaction", () => {
  it("survives the server dropping a checked-out connection: the call rejects, the process goes on, the pool recovers", async () => {
    await using db = await createTestDatabase();
    const attempt = withTransaction(db.pool, async (client) => {
      // What a server restart or pg_terminate_backend does to the socket under a transaction.
      (client as unknown as { connection: { stream: { destroy(err: Error): void } } }).connection.stream.destroy(new Error("connection reset by the test"));
      await client.query("SELECT 1");
    });
    await expect(attempt).rejects.toThrow();
    const { rows } = await db.pool.query<{ one: number }>("SELECT 1 AS one");
    expect(rows[0]?.one).toBe(1);
  });
});
