import { DEVELOPMENT_VEHICLE_SECRET } from "@sovd/link";
import { ConfigError } from "@sovd/platform";
import { describe, expect, it } from "vitest";
import { loadFleetConfig, parseDelayRange } from "./config.js";

describe("loadFleetConfig", () => {
  it("uses the documented defaults, starting at the seeded development vehicles", () => {
    const c = loadFleetConfig({ NODE_ENV: "development" }, []);
    expect(c).toMatchObject({
      connectorUrl: "127.0.0.1:50051",
      vehicleTokenSecret: DEVELOPMENT_VEHICLE_SECRET,
      vehicles: 5,
      firstIndex: 0,
      chunkIntervalMs: 500,
      networkDelayMs: { min: 500, max: 1500 },
      logLevel: "info",
      logPretty: false,
    });
    expect(Object.isFrozen(c)).toBe(true);
  });

  it("reads the environment, and command-line flags win over it", () => {
    const env = {
      VEHICLE_TOKEN_SECRET: "k",
      CONNECTOR_URL: "connector:6000",
      FLEET_SIZE: "12",
      SIM_CHUNK_INTERVAL_MS: "20",
      SIM_NETWORK_DELAY_MS: "0",
      SIM_RECONNECT_INITIAL_MS: "10",
      SIM_RECONNECT_MAX_MS: "200",
      LOG_LEVEL: "warn",
      LOG_PRETTY: "1",
    };
    expect(loadFleetConfig(env, [])).toMatchObject({
      connectorUrl: "connector:6000",
      vehicleTokenSecret: "k",
      vehicles: 12,
      chunkIntervalMs: 20,
      networkDelayMs: { min: 0, max: 0 },
      reconnect: { initialMs: 10, maxMs: 200 },
      logLevel: "warn",
      logPretty: true,
    });
    expect(loadFleetConfig(env, ["--vehicles", "2000", "--first-index=100", "--connector", "10.0.0.1:50051"])).toMatchObject({
      vehicles: 2000,
      firstIndex: 100,
      connectorUrl: "10.0.0.1:50051",
    });
  });

  it.each([
    [{}, [], /VEHICLE_TOKEN_SECRET is required/],
    [{ VEHICLE_TOKEN_SECRET: "k", CONNECTOR_URL: "http://x" }, [], /CONNECTOR_URL must be host:port/],
    [{ VEHICLE_TOKEN_SECRET: "k", FLEET_SIZE: "many" }, [], /FLEET_SIZE must be an integer/],
    [{ VEHICLE_TOKEN_SECRET: "k", SIM_NETWORK_DELAY_MS: "1500-500" }, [], /SIM_NETWORK_DELAY_MS must have min <= max/],
    [{ VEHICLE_TOKEN_SECRET: "k", SIM_NETWORK_DELAY_MS: "fast" }, [], /SIM_NETWORK_DELAY_MS must be "min-max"/],
    [{ VEHICLE_TOKEN_SECRET: "k", SIM_RECONNECT_INITIAL_MS: "500", SIM_RECONNECT_MAX_MS: "100" }, [], /SIM_RECONNECT_MAX_MS/],
    [{ VEHICLE_TOKEN_SECRET: "k", LOG_LEVEL: "loud" }, [], /LOG_LEVEL must be one of/],
    [{ VEHICLE_TOKEN_SECRET: "k" }, ["--vehicles", "-3"], /bad command line|--vehicles/],
    [{ VEHICLE_TOKEN_SECRET: "k" }, ["--vehicles", "ten"], /--vehicles must be an integer/],
    [{ VEHICLE_TOKEN_SECRET: "k" }, ["--cars", "3"], /bad command line/],
    [{ VEHICLE_TOKEN_SECRET: "k" }, ["--first-index", "999999999", "--vehicles", "2"], /--first-index/],
  ])("rejects %j %j naming the culprit", (env, argv, message) => {
    expect(() => loadFleetConfig(env, argv)).toThrow(ConfigError);
    expect(() => loadFleetConfig(env, argv)).toThrow(message);
  });
});

describe("parseDelayRange", () => {
  it("reads a range and a single value", () => {
    expect(parseDelayRange("X", "500-1500")).toEqual({ min: 500, max: 1500 });
    expect(parseDelayRange("X", " 20 - 30 ")).toEqual({ min: 20, max: 30 });
    expect(parseDelayRange("X", "0")).toEqual({ min: 0, max: 0 });
  });
});
