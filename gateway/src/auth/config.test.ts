import { ConfigError } from "@sovd/platform";
import { describe, expect, it } from "vitest";
import { loadAuthConfig } from "./config.js";

const SECRET = "s".repeat(32);

describe("loadAuthConfig", () => {
  it("requires JWT_SECRET outside development, naming it", () => {
    expect(() => loadAuthConfig({})).toThrow(ConfigError);
    expect(() => loadAuthConfig({ NODE_ENV: "production" })).toThrow(/JWT_SECRET is required/);
  });

  it("rejects a secret shorter than 32 characters without echoing it", () => {
    const err = (() => {
      try {
        loadAuthConfig({ JWT_SECRET: "short-secret-value" });
      } catch (e) {
        return e as Error;
      }
      return undefined;
    })();
    expect(err).toBeInstanceOf(ConfigError);
    expect(err?.message).toMatch(/JWT_SECRET must be at least 32 characters/);
    expect(err?.message).not.toContain("short-secret-value");
  });

  it("generates a random secret in development and says so", () => {
    const a = loadAuthConfig({ NODE_ENV: "development" });
    const b = loadAuthConfig({ NODE_ENV: "development" });
    expect(a.jwtSecretGenerated).toBe(true);
    expect(a.jwtSecret.length).toBeGreaterThanOrEqual(32);
    expect(a.jwtSecret).not.toBe(b.jwtSecret);
  });

  it("has the documented defaults and is frozen", () => {
    const c = loadAuthConfig({ JWT_SECRET: SECRET });
    expect(c).toMatchObject({
      jwtSecret: SECRET,
      jwtSecretGenerated: false,
      accessTokenTtlSeconds: 900,
      refreshTokenTtlSeconds: 7 * 24 * 3600,
      streamTicketTtlSeconds: 30,
      rateLimits: { loginPerMin: 5, submitPerMin: 10, otherPerMin: 100 },
    });
    expect(Object.isFrozen(c)).toBe(true);
    expect(Object.isFrozen(c.rateLimits)).toBe(true);
  });

  it("reads overrides and names a bad variable", () => {
    const c = loadAuthConfig({ JWT_SECRET: SECRET, ACCESS_TOKEN_TTL_SECONDS: "60", RATE_LIMIT_SUBMIT_PER_MIN: "3" });
    expect(c.accessTokenTtlSeconds).toBe(60);
    expect(c.rateLimits.submitPerMin).toBe(3);
    expect(() => loadAuthConfig({ JWT_SECRET: SECRET, RATE_LIMIT_LOGIN_PER_MIN: "many" })).toThrow(/RATE_LIMIT_LOGIN_PER_MIN/);
    expect(() => loadAuthConfig({ JWT_SECRET: SECRET, STREAM_TICKET_TTL_SECONDS: "0" })).toThrow(/STREAM_TICKET_TTL_SECONDS/);
  });
});
