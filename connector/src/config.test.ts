import { randomBytes } from "node:crypto";
import { DEVELOPMENT_VEHICLE_SECRET } from "@sovd/link";
import { ConfigError } from "@sovd/platform";
import { describe, expect, it } from "vitest";
import { loadConnectorConfig, loadConnectorProcessConfig, seedFromText } from "./config.js";

const SECRET = { VEHICLE_TOKEN_SECRET: "a-fleet-key-long-enough-0123" };

describe("connector config", () => {
  it("has the documented defaults", () => {
    const c = loadConnectorConfig(SECRET);
    expect(c).toMatchObject({
      grpcPort: 50051,
      httpPort: 9091,
      faultRates: { timeout: 0, unreachable: 0, malformed: 0 },
      sweepIntervalMs: 1000,
      heartbeatIntervalMs: 10_000,
      helloTimeoutMs: 10_000,
    });
    expect(c.connectorId).toMatch(/^connector-/);
    expect(Object.isFrozen(c)).toBe(true);
  });

  it("requires VEHICLE_TOKEN_SECRET outside development and falls back to the development key inside", () => {
    expect(() => loadConnectorConfig({})).toThrow(new ConfigError("VEHICLE_TOKEN_SECRET is required (unless NODE_ENV=development)"));
    expect(loadConnectorConfig({ NODE_ENV: "development" }).vehicleTokenSecret).toBe(DEVELOPMENT_VEHICLE_SECRET);
  });

  it("outside development refuses the published development key and low-entropy keys, naming the variable", () => {
    for (const env of [{ NODE_ENV: "production" }, {}]) {
      expect(() => loadConnectorConfig({ ...env, VEHICLE_TOKEN_SECRET: DEVELOPMENT_VEHICLE_SECRET })).toThrow(
        new ConfigError("VEHICLE_TOKEN_SECRET is the published development fleet key, refused with NODE_ENV=production; set a random key"),
      );
      for (const weak of ["a".repeat(32), "ab".repeat(10)]) {
        expect(() => loadConnectorConfig({ ...env, VEHICLE_TOKEN_SECRET: weak })).toThrow(/^VEHICLE_TOKEN_SECRET is too predictable for NODE_ENV=production/);
      }
    }
    for (let i = 0; i < 50; i++) {
      const key = randomBytes(8).toString("hex");
      expect(loadConnectorConfig({ NODE_ENV: "production", VEHICLE_TOKEN_SECRET: key }).vehicleTokenSecret).toBe(key);
    }
    // Development (npm start, the compose file) keeps its key.
    expect(loadConnectorConfig({ NODE_ENV: "development", VEHICLE_TOKEN_SECRET: DEVELOPMENT_VEHICLE_SECRET }).vehicleTokenSecret).toBe(DEVELOPMENT_VEHICLE_SECRET);
  });

  it("reads rates, seed and intervals", () => {
    const c = loadConnectorConfig({
      ...SECRET,
      FAULT_TIMEOUT_RATE: "0.1",
      FAULT_UNREACHABLE_RATE: "0.05",
      FAULT_MALFORMED_RATE: "0.03",
      FAULT_SEED: "42",
      SWEEP_INTERVAL_MS: "250",
      HEARTBEAT_INTERVAL_MS: "2000",
      DRAIN_TIMEOUT_MS: "0",
      CONNECTOR_ID: "c-1",
    });
    expect(c).toMatchObject({
      faultRates: { timeout: 0.1, unreachable: 0.05, malformed: 0.03 },
      faultSeed: 42,
      sweepIntervalMs: 250,
      heartbeatIntervalMs: 2000,
      drainTimeoutMs: 0,
      connectorId: "c-1",
    });
  });

  it.each([
    ["FAULT_MALFORMED_RATE", "1.5"],
    ["CONNECTOR_GRPC_PORT", "70000"],
    ["SWEEP_INTERVAL_MS", "0"],
  ])("names %s when its value %s is bad", (name, value) => {
    expect(() => loadConnectorConfig({ ...SECRET, [name]: value })).toThrow(new RegExp(`^${name} `));
  });

  it("needs DATABASE_URL and NATS_URL only when running alone", () => {
    expect(() => loadConnectorProcessConfig(SECRET)).toThrow(/DATABASE_URL is required/);
    expect(() => loadConnectorProcessConfig({ ...SECRET, DATABASE_URL: "postgres://h/db" })).toThrow(/NATS_URL is required/);
    const p = loadConnectorProcessConfig({ ...SECRET, DATABASE_URL: "postgres://h/db", NATS_URL: "nats://h:4222", LOG_LEVEL: "debug" });
    expect(p.logLevel).toBe("debug");
  });

  it("turns any FAULT_SEED text into the same 32-bit seed every time", () => {
    expect(seedFromText("7")).toBe(7);
    expect(seedFromText("demo")).toBe(seedFromText("demo"));
    expect(seedFromText("demo")).not.toBe(seedFromText("demo2"));
    expect(seedFromText("demo")).toBeLessThanOrEqual(0xffffffff);
  });
});
