import { randomBytes } from "node:crypto";
import { ConfigError } from "@sovd/platform";
import { describe, expect, it } from "vitest";
import { loadAuthConfig } from "./config.js";

const SECRET = "a-secret-of-at-least-thirty-two-characters";

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

  it.each([["a".repeat(32)], ["password".repeat(4)], ["ab".repeat(24)]])("refuses a low-entropy secret outside development without echoing it: %s", (secret) => {
    for (const env of [{ NODE_ENV: "production" }, {}]) {
      const err = (() => {
        try {
          loadAuthConfig({ ...env, JWT_SECRET: secret });
        } catch (e) {
          return e as Error;
        }
        return undefined;
      })();
      expect(err).toBeInstanceOf(ConfigError);
      expect(err?.message).toMatch(/^JWT_SECRET is too predictable for NODE_ENV=production/);
      expect(err?.message).not.toContain(secret);
    }
    // Development takes what it is given (npm start, the compose file).
    expect(loadAuthConfig({ NODE_ENV: "development", JWT_SECRET: secret }).jwtSecret).toBe(secret);
  });

  it("accepts random secrets outside development", () => {
    for (let i = 0; i < 50; i++) {
      for (const secret of [randomBytes(16).toString("hex"), randomBytes(48).toString("base64")]) {
        expect(loadAuthConfig({ NODE_ENV: "production", JWT_SECRET: secret }).jwtSecret).toBe(secret);
      }
    }
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
