import { loadConnectorConfig, startConnector, type Connector } from "@sovd/connector";
import { createLogger } from "@sovd/platform";
import { CommandStatus, type CommandEvent } from "@sovd/proto";
import { loadFleetConfig, startFleet, type Fleet } from "@sovd/vehicle-sim";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { uniqueFleetBase } from "../src/test-database.js";
import { startGatewayStack, take, type GatewayStack } from "../src/fake-connector.js";

const VEHICLE_SECRET = "gateway-e2e-vehicle-secret-0123456789";
const payloads = (events: CommandEvent[]) => events.flatMap((e) => (e.event.case === "response" ? [e.event.value.payload] : []));
const lastStatus = (events: CommandEvent[]) => {
  const last = events.at(-1);
  return last?.event.case === "status" ? last.event.value.status : undefined;
};

describe("gateway end to end with the real connector and a simulated vehicle", () => {
  let stack: GatewayStack;
  let connector: Connector;
  let fleet: Fleet;
  let vehicleIds: string[];

  beforeAll(async () => {
    stack = await startGatewayStack();
    const logger = createLogger({ service: "e2e", level: "silent" });
    connector = await startConnector(
      loadConnectorConfig({ VEHICLE_TOKEN_SECRET: VEHICLE_SECRET, CONNECTOR_GRPC_PORT: "0", CONNECTOR_HTTP_PORT: "0", CONNECTOR_HOST: "127.0.0.1" }),
      { pool: stack.db.pool, bus: stack.bus, logger },
    );
    const first = uniqueFleetBase();
    fleet = await startFleet(
      loadFleetConfig(
        { VEHICLE_TOKEN_SECRET: VEHICLE_SECRET, SIM_CHUNK_INTERVAL_MS: "20", SIM_NETWORK_DELAY_MS: "0-0", CONNECTOR_URL: `127.0.0.1:${connector.grpcPort}` },
        ["--vehicles", "2", "--first-index", String(first)],
      ),
      { logger },
    );
    await fleet.waitUntilOnline(10_000);
    vehicleIds = fleet.vehicles.map((v) => v.identity.vehicleId);
  });
  afterAll(async () => {
    await fleet?.close();
    await connector?.close();
    await stack?.close();
  });

  it("ReadDTC over Connect (HTTP/1.1) streams P0420, P0171, then the final chunk, all stored", async () => {
    const me = await stack.login("engineer", "connect");
    const read = await me.commands.submitCommand({ vehicleId: vehicleIds[0]!, commandName: "ReadDTC" });
    const events = await take(me.commands.watchCommand({ commandId: read.command!.commandId }));
    expect(lastStatus(events)).toBe(CommandStatus.COMPLETED);
    expect(payloads(events)).toEqual([
      { dtcCode: "P0420", description: "Catalyst System Efficiency Below Threshold" },
      { dtcCode: "P0171", description: "System Too Lean (Bank 1)" },
      { status: "complete", totalDtcs: 2 },
    ]);
    expect(events.flatMap((e) => (e.event.case === "response" ? [[e.event.value.sequenceNumber, e.event.value.isFinal]] : []))).toEqual([
      [1, false],
      [2, false],
      [3, true],
    ]);
    const stored = await stack.db.pool.query("SELECT sequence_number FROM responses WHERE command_id = $1 ORDER BY sequence_number", [read.command!.commandId]);
    expect(stored.rows.map((r) => r.sequence_number)).toEqual([1, 2, 3]);
  });

  it("ClearDTC then ReadDTC over gRPC (HTTP/2): the second answer is only the final chunk", async () => {
    const me = await stack.login("engineer", "grpc");
    const clear = await me.commands.submitCommand({ vehicleId: vehicleIds[1]!, commandName: "ClearDTC" });
    expect(payloads(await take(me.commands.watchCommand({ commandId: clear.command!.commandId })))).toEqual([{ status: "cleared", clearedCount: 2 }]);
    const read = await me.commands.submitCommand({ vehicleId: vehicleIds[1]!, commandName: "ReadDTC" });
    const events = await take(me.commands.watchCommand({ commandId: read.command!.commandId }));
    expect(payloads(events)).toEqual([{ status: "complete", totalDtcs: 0 }]);
    expect(lastStatus(events)).toBe(CommandStatus.COMPLETED);
  });
});
