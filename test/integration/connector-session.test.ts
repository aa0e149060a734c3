import { signVehicleToken } from "@sovd/link";
import { ConnectionStatus } from "@sovd/proto";
import { describe, expect, it } from "vitest";
import { TEST_VEHICLE_SECRET, useStack } from "../src/index.js";

describe("connector: vehicle sessions", () => {
  const stack = useStack({ gateway: "none" }, { resetAfterEach: true });

  const vehicleRow = async (vehicleId: string) =>
    (
      await stack.db.pool.query<{ connection_status: string; last_seen_at: Date | null; session_id: string | null; vin: string }>(
        "SELECT connection_status, last_seen_at, session_id, vin FROM vehicles WHERE vehicle_id = $1",
        [vehicleId],
      )
    ).rows[0];

  it("hello marks a known vehicle online, publishes presence, welcomes; a disconnect reverses it", async () => {
    const connector = await stack.startConnector({ HEARTBEAT_INTERVAL_MS: "5000" });
    const id = stack.vehicle(0);
    await stack.insertVehicle(id);
    const presence = await stack.presence(id.vehicleId);
    const vehicle = await stack.connectVehicle(connector, id);
    vehicle.hello();
    const welcome = await vehicle.welcome();
    expect(welcome.heartbeatIntervalMs).toBe(5000);
    const row = await vehicleRow(id.vehicleId);
    expect(row).toMatchObject({ connection_status: "online", session_id: welcome.sessionId });
    expect(row!.last_seen_at).toBeInstanceOf(Date);
    const online = await presence.waitFor((e) => e.vehicle?.connectionStatus === ConnectionStatus.ONLINE);
    expect(online.vehicle).toMatchObject({ vehicleId: id.vehicleId, vin: id.vin, make: id.make });
    expect(connector.sessionCount()).toBe(1);

    vehicle.end();
    expect((await vehicle.status).code).toBe("ok");
    await presence.waitFor((e) => e.vehicle?.connectionStatus === ConnectionStatus.OFFLINE);
    expect(await vehicleRow(id.vehicleId)).toMatchObject({ connection_status: "offline", session_id: null });
    expect(connector.sessionCount()).toBe(0);
  });

  it("registers a vehicle the database does not know (fleet onboarding) with an audit row", async () => {
    const connector = await stack.startConnector();
    const id = stack.vehicle(1);
    await stack.onlineVehicle(connector, id);
    expect(await vehicleRow(id.vehicleId)).toMatchObject({ connection_status: "online", vin: id.vin });
    const { rows } = await stack.db.pool.query<{ details: { vin: string } }>(
      "SELECT details FROM audit_logs WHERE action = 'vehicle_registered' AND vehicle_id = $1",
      [id.vehicleId],
    );
    expect(rows).toHaveLength(1);
    expect(rows[0]!.details.vin).toBe(id.vin);
  });

  it("registers new vehicles arriving together in one batch, and refuses only the one whose VIN belongs to another vehicle: ALREADY_EXISTS", async () => {
    const connector = await stack.startConnector();
    const owner = stack.vehicle(20);
    await stack.insertVehicle(owner);
    const fresh = [stack.vehicle(21), stack.vehicle(22)];
    const impostor = { ...stack.vehicle(23), vin: owner.vin };
    const links = await Promise.all([...fresh, impostor].map((id) => stack.connectVehicle(connector, id)));
    for (const link of links) link.hello();

    await Promise.all(links.slice(0, 2).map((link) => link.welcome()));
    const refused = await links[2]!.status;
    expect(refused.code).toBe("already_exists");
    expect(refused.details).toBe("hello.vin is registered to another vehicle");
    for (const id of fresh) expect(await vehicleRow(id.vehicleId)).toMatchObject({ connection_status: "online", vin: id.vin });
    expect(await vehicleRow(impostor.vehicleId)).toBeUndefined();
    const { rows } = await stack.db.pool.query<{ vehicle_id: string }>(
      "SELECT vehicle_id FROM audit_logs WHERE action = 'vehicle_registered' AND vehicle_id = ANY($1::uuid[]) ORDER BY vehicle_id",
      [[...fresh, impostor].map((id) => id.vehicleId)],
    );
    expect(rows.map((r) => r.vehicle_id)).toEqual(fresh.map((id) => id.vehicleId).sort());
  });

  it("rejects a stream without a token, with a bad token or a token of another key: UNAUTHENTICATED", async () => {
    const connector = await stack.startConnector();
    const id = stack.vehicle(2);
    for (const token of [null, "not-a-jwt", await signVehicleToken(id.vehicleId, "another-fleet-key-0123456789")]) {
      const v = await stack.connectVehicle(connector, id, { token });
      v.hello();
      const s = await v.status;
      expect(s.code).toBe("unauthenticated");
      expect(s.details).toMatch(/vehicle token/);
    }
    expect(await vehicleRow(id.vehicleId)).toBeUndefined();
  });

  it("rejects a hello for another vehicle than the token's: PERMISSION_DENIED", async () => {
    const connector = await stack.startConnector();
    const id = stack.vehicle(3);
    const other = stack.vehicle(4);
    const v = await stack.connectVehicle(connector, id);
    v.hello({ vehicleId: other.vehicleId });
    const s = await v.status;
    expect(s.code).toBe("permission_denied");
    expect(s.details).toBe("hello.vehicle_id does not match the vehicle token");
    expect(await vehicleRow(other.vehicleId)).toBeUndefined();
  });

  it("rejects a hello whose vehicle_id is not a UUID: INVALID_ARGUMENT", async () => {
    const connector = await stack.startConnector();
    const v = await stack.connectVehicle(connector, stack.vehicle(5), { token: await signVehicleToken("vehicle-7", TEST_VEHICLE_SECRET) });
    v.hello({ vehicleId: "vehicle-7" });
    const s = await v.status;
    expect(s.code).toBe("invalid_argument");
    expect(s.details).toBe("hello.vehicle_id must be a UUID");
  });

  it("rejects an unknown vehicle whose hello cannot register it (bad VIN): INVALID_ARGUMENT", async () => {
    const connector = await stack.startConnector();
    const id = stack.vehicle(6);
    const v = await stack.connectVehicle(connector, id);
    v.hello({ vin: "TOO-SHORT" });
    const s = await v.status;
    expect(s.code).toBe("invalid_argument");
    expect(s.details).toMatch(/hello\.vin/);
    expect(await vehicleRow(id.vehicleId)).toBeUndefined();
  });

  it("rejects a stream whose first message is not a Hello, and a second Hello: FAILED_PRECONDITION", async () => {
    const connector = await stack.startConnector();
    const id = stack.vehicle(7);
    const noHello = await stack.connectVehicle(connector, id);
    noHello.heartbeat();
    const s1 = await noHello.status;
    expect(s1.code).toBe("failed_precondition");
    expect(s1.details).toBe("the first message on the stream must be a Hello");

    const presence = await stack.presence(id.vehicleId);
    const twice = await stack.onlineVehicle(connector, id);
    twice.hello();
    const s2 = await twice.status;
    expect(s2.code).toBe("failed_precondition");
    expect(s2.details).toBe("Hello already received on this stream");
    await presence.waitFor((e) => e.vehicle?.connectionStatus === ConnectionStatus.OFFLINE);
    expect((await vehicleRow(id.vehicleId))!.connection_status).toBe("offline");
  });

  it("a second session of the same vehicle on the same connector replaces the first", async () => {
    const connector = await stack.startConnector();
    const id = stack.vehicle(8);
    const first = await stack.onlineVehicle(connector, id);
    const second = await stack.onlineVehicle(connector, id);
    const s = await first.status;
    expect(s.code).toBe("aborted");
    expect(s.details).toBe("replaced by a newer session of this vehicle");
    const welcome = second.received.find((m) => m.kind.case === "welcome")!;
    // The old session's cleanup must not take the vehicle offline under the new one.
    await new Promise((r) => setTimeout(r, 100));
    expect(await vehicleRow(id.vehicleId)).toMatchObject({
      connection_status: "online",
      session_id: welcome.kind.case === "welcome" ? welcome.kind.value.sessionId : "",
    });
    expect(connector.sessionCount()).toBe(1);
    const metrics = await connector.registry.getSingleMetricAsString("vehicle_sessions_replaced_total");
    expect(metrics).toMatch(/vehicle_sessions_replaced_total\S* 1$/m);
  });

  it("a second session on another connector replaces the first there, and commands go to the new one", async () => {
    const a = await stack.startConnector();
    const b = await stack.startConnector();
    const id = stack.vehicle(9);
    const first = await stack.onlineVehicle(a, id);
    const second = await stack.onlineVehicle(b, id);
    expect((await first.status).code).toBe("aborted");
    await expect.poll(() => a.sessionCount()).toBe(0);
    expect(b.sessionCount()).toBe(1);
    expect((await vehicleRow(id.vehicleId))!.connection_status).toBe("online");

    const commandId = await stack.insertCommand({ vehicleId: id.vehicleId, commandName: "ClearDTC" });
    expect((await stack.dispatch(commandId)).accepted).toBe(true);
    expect((await second.execute(commandId)).commandName).toBe("ClearDTC");
  });

  it("closes a stream that sends nothing for 3 heartbeat intervals and marks the vehicle offline", async () => {
    const connector = await stack.startConnector({ HEARTBEAT_INTERVAL_MS: "250" });
    const id = stack.vehicle(10);
    await stack.insertVehicle(id);
    const v = await stack.onlineVehicle(connector, id);
    const s = await v.status;
    expect(s.code).toBe("deadline_exceeded");
    await expect.poll(async () => (await vehicleRow(id.vehicleId))!.connection_status).toBe("offline");
  });

  it("closes an authenticated stream that sends no Hello within VEHICLE_HELLO_TIMEOUT_MS; a prompt Hello is not affected", async () => {
    const connector = await stack.startConnector({ VEHICLE_HELLO_TIMEOUT_MS: "300" });
    const silent = await stack.connectVehicle(connector, stack.vehicle(12));
    const prompt = await stack.onlineVehicle(connector, stack.vehicle(13));
    const started = Date.now();
    const s = await silent.status;
    expect(s).toEqual({ code: "deadline_exceeded", details: "no Hello within 300 ms" });
    // Between 1 and 1.5 timeouts, with room for a loaded machine; the heartbeat check (30 s) is not what closed it.
    expect(Date.now() - started).toBeLessThan(5000);
    prompt.heartbeat();
    await new Promise((r) => setTimeout(r, 500));
    expect(connector.sessionCount()).toBe(1);
  });

  it("heartbeats keep a session open and move last_seen_at forward in batches", async () => {
    const connector = await stack.startConnector({ HEARTBEAT_INTERVAL_MS: "200" });
    const id = stack.vehicle(11);
    const v = await stack.onlineVehicle(connector, id);
    const before = (await vehicleRow(id.vehicleId))!.last_seen_at!.getTime();
    for (let i = 0; i < 10; i++) {
      v.heartbeat();
      await new Promise((r) => setTimeout(r, 50));
    }
    expect(connector.sessionCount()).toBe(1);
    await expect.poll(async () => (await vehicleRow(id.vehicleId))!.last_seen_at!.getTime()).toBeGreaterThan(before);
    expect((await vehicleRow(id.vehicleId))!.connection_status).toBe("online");
  });

  it("a vehicle left online by a killed connector is marked offline by another connector's presence sweep", async () => {
    const crashed = await stack.startConnector();
    const id = stack.vehicle(12);
    const vehicle = await stack.onlineVehicle(crashed, id);
    await crashed.abort();
    await vehicle.status;
    expect((await vehicleRow(id.vehicleId))!.connection_status).toBe("online");
    const presence = await stack.presence(id.vehicleId);

    // A live vehicle on the survivor keeps its heartbeats going and stays online.
    const survivor = await stack.startConnector({ HEARTBEAT_INTERVAL_MS: "100" });
    const liveId = stack.vehicle(13);
    const live = await stack.onlineVehicle(survivor, liveId);
    const beat = setInterval(() => live.heartbeat(), 30);
    try {
      await presence.waitFor((e) => e.vehicle?.connectionStatus === ConnectionStatus.OFFLINE, 5000);
      expect(await vehicleRow(id.vehicleId)).toMatchObject({ connection_status: "offline", session_id: null });
      await new Promise((r) => setTimeout(r, 800));
      expect((await vehicleRow(liveId.vehicleId))!.connection_status).toBe("online");
      expect(survivor.sessionCount()).toBe(1);
    } finally {
      clearInterval(beat);
    }
  });

  it("survives bytes that are not a VehicleMessage at all: that stream ends, the vehicle goes offline, others go on", async () => {
    const connector = await stack.startConnector();
    const id = stack.vehicle(14);
    const bystander = await stack.onlineVehicle(connector, stack.vehicle(15));
    const vehicle = await stack.connectVehicle(connector, id);
    vehicle.hello();
    await expect.poll(async () => (await vehicleRow(id.vehicleId))?.connection_status).toBe("online");
    // Raw bytes as a frame, so the frame itself is garbage, not just a chunk's payload.
    vehicle.sendFrame(new Uint8Array([0xff, 0xff, 0xff, 0xff, 0x0f, 0x01]));
    expect((await vehicle.status).code).not.toBe("ok");
    await expect.poll(async () => (await vehicleRow(id.vehicleId))!.connection_status).toBe("offline");
    expect(connector.sessionCount()).toBe(1);
    bystander.heartbeat();
    expect((await vehicleRow(stack.vehicle(15).vehicleId))!.connection_status).toBe("online");
  });
});
