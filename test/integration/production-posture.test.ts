import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { DEVELOPMENT_VEHICLE_SECRET } from "@sovd/link";
import { loadGatewayConfig, seedGatewayDatabase } from "@sovd/gateway";
import { hashPassword } from "@sovd/domain";
import { ConfigError } from "@sovd/platform";
import { describe, expect, it } from "vitest";
import { createTestDatabase, TEST_JWT_SECRET } from "../src/index.js";

const root = fileURLToPath(new URL("../..", import.meta.url));

/** Runs a service's main.ts with `env` and no infrastructure; what it printed and its exit code. */
function runMain(main: string, env: NodeJS.ProcessEnv): Promise<{ code: number | null; output: string }> {
  const childEnv: NodeJS.ProcessEnv = { PATH: process.env.PATH, DATABASE_URL: "postgres://127.0.0.1:1/none", NATS_URL: "nats://127.0.0.1:1", ...env };
  const child = spawn(process.execPath, ["--import", "tsx", main], { cwd: root, env: childEnv, stdio: ["ignore", "pipe", "pipe"] });
  let output = "";
  child.stdout.on("data", (d: Buffer) => (output += d.toString()));
  child.stderr.on("data", (d: Buffer) => (output += d.toString()));
  return new Promise((resolve) => child.once("exit", (code) => resolve({ code, output })));
}

describe("production refuses development defaults (architecture §4 \"Environment variables\")", () => {
  it("the gateway refuses a low-entropy JWT_SECRET at start, naming it", async () => {
    const run = await runMain("gateway/src/main.ts", { NODE_ENV: "production", JWT_SECRET: "a".repeat(32) });
    expect(run.code).toBe(2);
    expect(run.output).toContain("gateway: JWT_SECRET is too predictable for NODE_ENV=production");
    expect(run.output).not.toContain("a".repeat(32));
  });

  it("the connector refuses the published development vehicle key at start, naming it", async () => {
    const run = await runMain("connector/src/main.ts", { NODE_ENV: "production", VEHICLE_TOKEN_SECRET: DEVELOPMENT_VEHICLE_SECRET });
    expect(run.code).toBe(2);
    expect(run.output).toContain("connector: VEHICLE_TOKEN_SECRET is the published development fleet key, refused with NODE_ENV=production");
  });

  it("the gateway refuses a database whose development users still have their published passwords", async () => {
    await using db = await createTestDatabase();
    await seedGatewayDatabase(db.pool, loadGatewayConfig({ NODE_ENV: "development" }));
    const production = loadGatewayConfig({ NODE_ENV: "production", JWT_SECRET: TEST_JWT_SECRET });

    const refused = await seedGatewayDatabase(db.pool, production).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(ConfigError);
    expect((refused as Error).message).toMatch(/^NODE_ENV=production refuses a database whose development users still have their published passwords \(admin, engineer, engineer2, viewer\)/);

    // Once the operator changed or deactivated them, the same database starts.
    await db.pool.query("UPDATE users SET password_hash = $1 WHERE username = 'admin'", [await hashPassword("a new password for the admin")]);
    await db.pool.query("UPDATE users SET is_active = false WHERE username <> 'admin'");
    await expect(seedGatewayDatabase(db.pool, production)).resolves.toBeUndefined();
    // Development itself keeps working on it (npm start).
    await expect(seedGatewayDatabase(db.pool, loadGatewayConfig({ NODE_ENV: "development" }))).resolves.toBeUndefined();
  });
});
