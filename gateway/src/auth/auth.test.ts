import { captureLogs, createMetricsRegistry, type Pool } from "@sovd/platform";
import { afterEach, describe, expect, it, vi } from "vitest";
import { createAuth } from "./auth.js";
import { loadAuthConfig } from "./config.js";

const capture = () => captureLogs({ service: "auth-unit", level: "info" });

/** A pool that records statements; createAuth itself must not need a database to be built. */
function recordingPool() {
  const statements: string[] = [];
  const pool = {
    query: vi.fn(async (text: string) => {
      statements.push(text.replace(/\s+/g, " ").trim());
      return { rows: [], rowCount: 0 };
    }),
  } as unknown as Pool;
  return { pool, statements };
}

describe("createAuth", () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it("warns, without the secret, when development generated the JWT secret", async () => {
    const log = capture();
    const config = loadAuthConfig({ NODE_ENV: "development" });
    const auth = createAuth(config, { pool: recordingPool().pool, logger: log.logger, registry: createMetricsRegistry() });
    await auth.close();
    expect(log.text()).toContain("JWT_SECRET is not set");
    expect(log.text()).not.toContain(config.jwtSecret);
  });

  it("says nothing about the secret when one is configured", async () => {
    const log = capture();
    const auth = createAuth(loadAuthConfig({ JWT_SECRET: "k9-auth-test-secret-0123456789-abcdefghijkl" }), { pool: recordingPool().pool, logger: log.logger, registry: createMetricsRegistry() });
    await auth.close();
    expect(log.text()).not.toContain("JWT_SECRET");
  });

  it("purges expired tickets, rate limit counters and refresh tokens every five minutes, until closed", async () => {
    vi.useFakeTimers();
    const { pool, statements } = recordingPool();
    const auth = createAuth(loadAuthConfig({ JWT_SECRET: "k9-auth-test-secret-0123456789-abcdefghijkl" }), { pool, logger: capture().logger, registry: createMetricsRegistry() });
    expect(statements).toEqual([]);
    await vi.advanceTimersByTimeAsync(5 * 60_000);
    expect(statements).toEqual([
      "DELETE FROM stream_tickets WHERE expires_at < $1",
      "DELETE FROM rate_limits WHERE expire < $1",
      "DELETE FROM refresh_tokens WHERE expires_at < $1",
    ]);
    await auth.close();
    await vi.advanceTimersByTimeAsync(15 * 60_000);
    expect(statements).toHaveLength(3);
  });
});
