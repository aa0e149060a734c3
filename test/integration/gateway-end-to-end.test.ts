import { CommandStatus, type CommandEvent } from "@sovd/proto";
import { describe, expect, it } from "vitest";
import { take, useStack } from "../src/index.js";

const payloads = (events: CommandEvent[]) => events.flatMap((e) => (e.event.case === "response" ? [e.event.value.payload] : []));
const lastStatus = (events: CommandEvent[]) => {
  const last = events.at(-1);
  return last?.event.case === "status" ? last.event.value.status : undefined;
};

describe("gateway end to end with the real connector and a simulated vehicle", () => {
  const stack = useStack({ connectors: 1, vehicles: 2 });

  it("ReadDTC over Connect (HTTP/1.1) streams P0420, P0171, then the final chunk, all stored", async () => {
    const me = await stack.login("engineer", { protocol: "connect" });
    const read = await me.commands.submitCommand({ vehicleId: stack.vehicleIds[0]!, commandName: "ReadDTC" });
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
    const me = await stack.login("engineer", { protocol: "grpc" });
    const clear = await me.commands.submitCommand({ vehicleId: stack.vehicleIds[1]!, commandName: "ClearDTC" });
    expect(payloads(await take(me.commands.watchCommand({ commandId: clear.command!.commandId })))).toEqual([{ status: "cleared", clearedCount: 2 }]);
    const read = await me.commands.submitCommand({ vehicleId: stack.vehicleIds[1]!, commandName: "ReadDTC" });
    const events = await take(me.commands.watchCommand({ commandId: read.command!.commandId }));
    expect(payloads(events)).toEqual([{ status: "complete", totalDtcs: 0 }]);
    expect(lastStatus(events)).toBe(CommandStatus.COMPLETED);
  });
});
