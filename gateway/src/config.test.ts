import { ConfigError } from "@sovd/platform";
import { describe, expect, it } from "vitest";
import { loadGatewayConfig, loadGatewayProcessConfig, VITE_DEV_ORIGIN } from "./config.js";

const base = { JWT_SECRET: "a-secret-of-at-least-thirty-two-characters" };

describe("gateway config", () => {
  it("has the documented defaults", () => {
    const c = loadGatewayConfig(base);
    expect(c).toMatchObject({
      port: 8080,
      development: false,
      corsOrigins: [],
      dispatch: { attempts: 3, backoffMs: 200, requestTimeoutMs: 2000 },
      breaker: { failureThreshold: 5, cooldownMs: 30_000 },
      ws: { pingIntervalMs: 30_000, maxBufferedBytes: 1024 * 1024 },
      readMaxBytes: 64 * 1024,
      initialAdmin: undefined,
    });
    expect(c.commandTimeouts.ReadDTC).toBe(30_000);
    expect(Object.isFrozen(c)).toBe(true);
  });

  it("development allows the Vite dev origin and needs no JWT secret", () => {
    const c = loadGatewayConfig({ NODE_ENV: "development" });
    expect(c.corsOrigins).toEqual([VITE_DEV_ORIGIN]);
    expect(c.auth.jwtSecretGenerated).toBe(true);
  });

  it.each([
    [{ GATEWAY_PORT: "http" }, /GATEWAY_PORT/],
    [{ DISPATCH_ATTEMPTS: "0" }, /DISPATCH_ATTEMPTS/],
    [{ CORS_ORIGINS: "not a url" }, /CORS_ORIGINS/],
    [{ CORS_ORIGINS: "https://app.example.com/path" }, /CORS_ORIGINS/],
    [{ INITIAL_ADMIN_USERNAME: "root" }, /INITIAL_ADMIN_USERNAME and INITIAL_ADMIN_PASSWORD/],
    [{ WS_MAX_BUFFERED_BYTES: "-1" }, /WS_MAX_BUFFERED_BYTES/],
    [{ COMMAND_TIMEOUT_READDTC_MS: "soon" }, /COMMAND_TIMEOUT_READDTC_MS/],
  ])("names the bad variable: %j", (env, message) => {
    expect(() => loadGatewayConfig({ ...base, ...env })).toThrow(ConfigError);
    expect(() => loadGatewayConfig({ ...base, ...env })).toThrow(message);
  });

  it("outside development JWT_SECRET is required", () => {
    expect(() => loadGatewayConfig({})).toThrow(/JWT_SECRET/);
  });

  it("running alone needs DATABASE_URL and NATS_URL", () => {
    expect(() => loadGatewayProcessConfig(base)).toThrow(/DATABASE_URL is required/);
    expect(() => loadGatewayProcessConfig({ ...base, DATABASE_URL: "postgres://h/db" })).toThrow(/NATS_URL is required/);
    expect(() => loadGatewayProcessConfig({ ...base, DATABASE_URL: "mysql://h/db", NATS_URL: "nats://h:4222" })).toThrow(ConfigError);
    const p = loadGatewayProcessConfig({ ...base, DATABASE_URL: "postgres://h/db", NATS_URL: "nats://h:4222", LOG_LEVEL: "debug" });
    expect(p).toMatchObject({ databaseUrl: "postgres://h/db", natsUrl: "nats://h:4222", logLevel: "debug", logPretty: false, gateway: { port: 8080 } });
  });
});
