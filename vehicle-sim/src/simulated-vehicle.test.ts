import { verifyVehicleToken } from "@sovd/link";
import { parseChunkPayload, type VehicleMessage } from "@sovd/proto";
import { captureLogs, fleetIdentity, type Logger } from "@sovd/platform";
import { afterEach, describe, expect, it } from "vitest";
import { loadFleetConfig, type FleetConfig } from "./config.js";
import { startFakeConnector, type FakeConnector, type FakeSession } from "../test/fake-connector.js";
import { FleetNotOnlineError, startFleet, type Fleet } from "./fleet.js";

const SECRET = "test-fleet-key";
const BASE = 500_000 + Math.floor(Math.random() * 1_000_000);

/** Polls a condition every few milliseconds; fails the test with `what` after timeoutMs. */
async function until(what: string, condition: () => boolean, timeoutMs = 3000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function connector(opts: Parameters<typeof startFakeConnector>[0] = {}): Promise<FakeConnector> {
  const c = await startFakeConnector(opts);
  cleanups.push(() => c.close());
  return c;
}

async function fleet(target: string, overrides: Partial<FleetConfig> & { logger?: Logger } = {}): Promise<Fleet> {
  const { logger, ...rest } = overrides;
  const config: FleetConfig = {
    ...loadFleetConfig(
      {
        VEHICLE_TOKEN_SECRET: SECRET,
        CONNECTOR_URL: target,
        SIM_CHUNK_INTERVAL_MS: "10",
        SIM_NETWORK_DELAY_MS: "0",
        SIM_RECONNECT_INITIAL_MS: "10",
        SIM_RECONNECT_MAX_MS: "100",
        SIM_CONNECT_STAGGER_MS: "0",
      },
      ["--vehicles", "1", "--first-index", String(BASE)],
    ),
    ...rest,
  };
  const f = await startFleet(config, { logger: logger ?? captureLogs({ service: "vehicle-sim" }).logger });
  cleanups.push(() => f.close());
  return f;
}

const kinds = (s: FakeSession): Array<string | undefined> => s.received.map((m) => m.kind.case);
const chunks = (s: FakeSession, commandId: string) =>
  s.received.flatMap((m: VehicleMessage) => (m.kind.case === "chunk" && m.kind.value.commandId === commandId ? [m.kind.value] : []));

describe("simulated vehicle on the link", () => {
  it("sends Hello first with its identity and a bearer token whose subject is its vehicle id, then heartbeats", async () => {
    const c = await connector({ heartbeatIntervalMs: 20 });
    const f = await fleet(c.target);
    await f.waitUntilOnline(3000);
    const v = f.vehicle(0);
    expect(v.identity).toEqual(fleetIdentity(BASE));
    expect(v.sessionId).toBe("session-1");

    const session = c.sessions[0]!;
    const hello = session.received[0]!;
    expect(hello.kind.case).toBe("hello");
    expect(hello.kind.value).toMatchObject({ ...fleetIdentity(BASE), softwareVersion: "sovd-sim/0.1.0" });
    const auth = session.metadata("authorization");
    expect(String(auth)).toMatch(/^Bearer /);
    expect(await verifyVehicleToken(String(auth).slice("Bearer ".length), SECRET)).toBe(v.identity.vehicleId);

    await until("three heartbeats", () => kinds(session).filter((k) => k === "heartbeat").length >= 3);
    expect(kinds(session)[0]).toBe("hello");
    expect(kinds(session).slice(1).every((k) => k === "heartbeat")).toBe(true);
  });

  it("answers an Execute over the link with chunks the connector accepts, and logs the request id", async () => {
    const c = await connector();
    const { logger, lines } = captureLogs({ service: "vehicle-sim" });
    const f = await fleet(c.target, { logger });
    await f.waitUntilOnline(3000);
    const session = c.sessions[0]!;
    session.execute({ commandId: "cmd-1", commandName: "ReadDTC", params: { ecuAddress: "0x10", format: "UDS" }, correlationId: "req-abc" });
    await until("the final chunk", () => chunks(session, "cmd-1").some((ch) => ch.isFinal));
    const got = chunks(session, "cmd-1");
    expect(got.map((ch) => ch.sequenceNumber)).toEqual([1, 2, 3]);
    expect(got.map((ch) => parseChunkPayload("ReadDTC", ch.payload, ch.isFinal))).toEqual([
      { dtcCode: "P0420", description: "Catalyst System Efficiency Below Threshold" },
      { dtcCode: "P0171", description: "System Too Lean (Bank 1)" },
      { status: "complete", totalDtcs: 2 },
    ]);
    expect(lines).toContainEqual(
      expect.objectContaining({ msg: "Execute received", requestId: "req-abc", commandId: "cmd-1", vehicleId: f.vehicle(0).identity.vehicleId }),
    );
  });

  it("stops a command's chunks when the connector sends Cancel", async () => {
    const c = await connector();
    const f = await fleet(c.target, { chunkIntervalMs: 30 });
    await f.waitUntilOnline(3000);
    const session = c.sessions[0]!;
    session.execute({ commandId: "long", commandName: "ReadDataByID", params: { dataId: "0xF40D", samples: 20 } });
    await until("two chunks", () => chunks(session, "long").length >= 2);
    session.cancel("long");
    await until("nothing in flight", () => f.vehicle(0).inFlight === 0);
    const sentAtCancel = chunks(session, "long").length;
    await new Promise((r) => setTimeout(r, 100));
    expect(chunks(session, "long").length).toBe(sentAtCancel);
    expect(sentAtCancel).toBeLessThan(21);
  });

  it("reconnects with Hello first after the connector drops the stream", async () => {
    const c = await connector();
    const f = await fleet(c.target);
    await f.waitUntilOnline(3000);
    c.sessions[0]!.drop();
    await until("a second session", () => f.vehicle(0).sessions === 2);
    expect(c.sessions).toHaveLength(2);
    expect(kinds(c.sessions[1]!)[0]).toBe("hello");
    expect(f.vehicle(0).linkState).toBe("online");
  });

  it("finds the connector again after it was down, and stops dialling when closed", async () => {
    const first = await startFakeConnector();
    const f = await fleet(first.target);
    await f.waitUntilOnline(3000);
    await first.close();
    await until("the vehicle noticing", () => f.vehicle(0).linkState !== "online");
    const again = await connector({ port: first.port });
    await f.vehicle(0).waitUntilOnline(3000);
    expect(again.sessions.length).toBeGreaterThanOrEqual(1);
    await f.close();
    await until("the stream ending", () => again.sessions.every((s) => s.ended));
    const seen = again.sessions.length;
    await new Promise((r) => setTimeout(r, 150));
    expect(again.sessions.length).toBe(seen);
    expect(f.vehicle(0).linkState).toBe("closed");
  });

  it("backs off to the maximum and logs an error when the connector refuses it, instead of a hot loop", async () => {
    const c = await connector({ refuse: "unauthenticated" });
    const { logger, lines } = captureLogs({ service: "vehicle-sim" });
    await fleet(c.target, { logger, reconnect: { initialMs: 5, maxMs: 300 } });
    await until("the first refusal", () => lines.some((l) => l.msg === "connector refused the vehicle"));
    const refusal = lines.find((l) => l.msg === "connector refused the vehicle")!;
    expect(refusal).toMatchObject({ level: 50, code: "UNAUTHENTICATED", retryInMs: 300 });
    await new Promise((r) => setTimeout(r, 200));
    expect(c.sessions).toHaveLength(1);
    await until("the retry after the maximum backoff", () => c.sessions.length === 2, 1000);
  });

  it("dials again when no Welcome arrives in time", async () => {
    const c = await connector({ welcome: false });
    await fleet(c.target, { helloTimeoutMs: 50 });
    await until("a second dial", () => c.sessions.length >= 2);
    await until("the first stream ending", () => c.sessions[0]!.ended);
  });

  it("drops the link on Execute when told to misbehave that way, then comes back", async () => {
    const c = await connector();
    const f = await fleet(c.target);
    await f.waitUntilOnline(3000);
    f.vehicle(0).misbehave("drop-link");
    c.sessions[0]!.execute({ commandId: "x", commandName: "ReadDTC" });
    await until("the stream ending", () => c.sessions[0]!.ended);
    expect(chunks(c.sessions[0]!, "x")).toEqual([]);
    await until("a new session", () => f.vehicle(0).sessions === 2);
    // The repeated command id is ignored on the new link too.
    f.vehicle(0).misbehave("none");
    c.sessions[1]!.execute({ commandId: "x", commandName: "ReadDTC" });
    c.sessions[1]!.execute({ commandId: "y", commandName: "ClearDTC" });
    await until("y answered", () => chunks(c.sessions[1]!, "y").length === 1);
    expect(chunks(c.sessions[1]!, "x")).toEqual([]);
  });

  it("stays offline after disconnect() and comes back on reconnect()", async () => {
    const c = await connector();
    const f = await fleet(c.target);
    await f.waitUntilOnline(3000);
    const v = f.vehicle(0);
    v.disconnect();
    expect(v.linkState).toBe("offline");
    await until("the stream ending", () => c.sessions[0]!.ended);
    await new Promise((r) => setTimeout(r, 100));
    expect(c.sessions).toHaveLength(1);
    v.reconnect();
    await v.waitUntilOnline(3000);
    expect(c.sessions).toHaveLength(2);
  });
});

describe("fleet", () => {
  it("brings N vehicles online with distinct identities and closes every stream", async () => {
    const c = await connector({ heartbeatIntervalMs: 50 });
    const f = await fleet(c.target, { vehicles: 20, connectStaggerMs: 1, vehiclesPerChannel: 8 });
    await f.waitUntilOnline(5000);
    expect(f.online).toBe(20);
    expect(f.vehicles).toHaveLength(20);
    const ids = c.sessions.map((s) => (s.received[0]!.kind.case === "hello" ? s.received[0]!.kind.value.vehicleId : ""));
    expect(new Set(ids)).toEqual(new Set(Array.from({ length: 20 }, (_, i) => fleetIdentity(BASE + i).vehicleId)));
    expect(f.vehicle(19).identity.vehicleId).toBe(fleetIdentity(BASE + 19).vehicleId);
    expect(() => f.vehicle(20)).toThrow(RangeError);
    await f.close();
    expect(f.online).toBe(0);
    await until("every stream ending", () => c.sessions.every((s) => s.ended));
  });

  it("says how many vehicles came online when not all did", async () => {
    const c = await connector();
    const f = await fleet("127.0.0.1:1", { vehicles: 2 });
    await expect(f.waitUntilOnline(100)).rejects.toThrow(new FleetNotOnlineError("0 of 2 vehicles online after 100 ms"));
    expect(c.sessions).toHaveLength(0);
  });
});
