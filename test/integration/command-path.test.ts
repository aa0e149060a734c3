import { ConnectError, Code } from "@connectrpc/connect";
import { CommandStatus } from "@sovd/proto";
import { describe, expect, it } from "vitest";
import { finalStatus, startStack, watchToEnd } from "../src/index.js";

/**
 * The walking system, end to end: simulated vehicles dial real connectors over
 * gRPC, an engineer submits through the gateway over Connect, the command crosses the bus,
 * chunks are stored and streamed back to every watcher.
 */
describe("command path", () => {
  it("streams ReadDTC of a fresh vehicle as 3 chunks, stores them and completes", async () => {
    await using stack = await startStack({ vehicles: 1, chunkIntervalMs: 100 });
    const engineer = await stack.login("engineer");
    const { command, streamUrl } = await engineer.commands.submitCommand({ vehicleId: stack.vehicleIds[0]!, commandName: "ReadDTC" });
    expect(command?.status).toBe(CommandStatus.PENDING);
    expect(streamUrl).toMatch(new RegExp(`^ws://127\\.0\\.0\\.1:${stack.gateway.port}/ws/responses/${command!.commandId}$`));

    const seen = await watchToEnd(engineer, command!.commandId);
    expect(seen.chunks.map((c) => c.sequence)).toEqual([1, 2, 3]);
    expect(seen.chunks.map((c) => c.isFinal)).toEqual([false, false, true]);
    expect(seen.chunks[0]!.payload).toEqual({ dtcCode: "P0420", description: "Catalyst System Efficiency Below Threshold" });
    expect(seen.chunks[1]!.payload).toEqual({ dtcCode: "P0171", description: "System Too Lean (Bank 1)" });
    expect(seen.chunks[2]!.payload).toEqual({ status: "complete", totalDtcs: 2 });
    expect(finalStatus(seen)).toBe(CommandStatus.COMPLETED);
    expect(seen.errors).toEqual([]);

    // Chunk spacing as configured (100 ms), measured on the stored receive times.
    const gaps = seen.chunks.slice(1).map((c, i) => c.receivedAt.getTime() - seen.chunks[i]!.receivedAt.getTime());
    for (const gap of gaps) expect(gap).toBeGreaterThanOrEqual(80);

    const rows = await stack.db.pool.query<{ sequence_number: number; is_final: boolean }>(
      "SELECT sequence_number, is_final FROM responses WHERE command_id = $1 ORDER BY sequence_number",
      [command!.commandId],
    );
    expect(rows.rows).toEqual([
      { sequence_number: 1, is_final: false },
      { sequence_number: 2, is_final: false },
      { sequence_number: 3, is_final: true },
    ]);
    const stored = await stack.db.pool.query<{ status: string; completed_at: Date | null; started_at: Date | null }>(
      "SELECT status, started_at, completed_at FROM commands WHERE command_id = $1",
      [command!.commandId],
    );
    expect(stored.rows[0]).toMatchObject({ status: "completed" });
    expect(stored.rows[0]!.started_at).toBeInstanceOf(Date);
    expect(stored.rows[0]!.completed_at).toBeInstanceOf(Date);
  });

  it("SubmitAndWatch answers the stored command first, then every event of it to the end, in one call", async () => {
    await using stack = await startStack({ vehicles: 1 });
    const engineer = await stack.login("engineer");
    const vehicleId = stack.vehicleIds[0]!;
    const submit = { vehicleId, commandName: "ReadDTC", idempotencyKey: `saw-${Date.now()}` };
    const run = async () => {
      const out: { kind: string; detail: unknown }[] = [];
      for await (const m of engineer.commands.submitAndWatch({ submit })) {
        if (m.kind.case === "submitted") out.push({ kind: "submitted", detail: m.kind.value.command?.status });
        if (m.kind.case === "event" && m.kind.value.event.case === "response") out.push({ kind: "response", detail: m.kind.value.event.value.sequenceNumber });
        if (m.kind.case === "event" && m.kind.value.event.case === "status") out.push({ kind: "status", detail: m.kind.value.event.value.status });
      }
      return out;
    };
    const first = await run();
    expect(first[0]).toEqual({ kind: "submitted", detail: CommandStatus.PENDING });
    expect(first.filter((m) => m.kind === "response").map((m) => m.detail)).toEqual([1, 2, 3]);
    expect(first.at(-1)).toEqual({ kind: "status", detail: CommandStatus.COMPLETED });
    // The same idempotency key: the first command, replayed from the database, nothing run twice.
    const again = await run();
    expect(again[0]).toEqual({ kind: "submitted", detail: CommandStatus.COMPLETED });
    expect(again.filter((m) => m.kind === "response").map((m) => m.detail)).toEqual([1, 2, 3]);
    const { rows } = await stack.db.pool.query<{ n: number }>("SELECT count(*)::int AS n FROM commands WHERE vehicle_id = $1", [vehicleId]);
    expect(rows[0]!.n).toBe(1);
    // Viewers may not submit this way either.
    const viewer = await stack.login("viewer");
    const refused = await (async () => {
      try {
        for await (const _ of viewer.commands.submitAndWatch({ submit: { vehicleId, commandName: "ReadDTC" } })) void _;
      } catch (err) {
        return ConnectError.from(err).code;
      }
      return undefined;
    })();
    expect(refused).toBe(Code.PermissionDenied);
    expect(stack.gateway.watcherCount()).toBe(0);
  });

  it("ClearDTC empties the vehicle's codes, so ReadDTC then answers only the final chunk", async () => {
    await using stack = await startStack({ vehicles: 1 });
    const engineer = await stack.login("engineer");
    const vehicleId = stack.vehicleIds[0]!;
    const clear = await engineer.commands.submitCommand({ vehicleId, commandName: "ClearDTC" });
    const cleared = await watchToEnd(engineer, clear.command!.commandId);
    expect(cleared.chunks.map((c) => [c.sequence, c.isFinal, c.payload])).toEqual([[1, true, { status: "cleared", clearedCount: 2 }]]);
    expect(finalStatus(cleared)).toBe(CommandStatus.COMPLETED);

    const read = await engineer.commands.submitCommand({ vehicleId, commandName: "ReadDTC" });
    const after = await watchToEnd(engineer, read.command!.commandId);
    expect(after.chunks.map((c) => [c.sequence, c.isFinal, c.payload])).toEqual([[1, true, { status: "complete", totalDtcs: 0 }]]);
  });

  it("ReadDataByID with samples 5 streams 5 progressive samples then the final chunk", async () => {
    await using stack = await startStack({ vehicles: 1 });
    const engineer = await stack.login("engineer");
    const { command } = await engineer.commands.submitCommand({
      vehicleId: stack.vehicleIds[0]!,
      commandName: "ReadDataByID",
      params: { dataId: "0xF40D", samples: 5 },
    });
    const seen = await watchToEnd(engineer, command!.commandId);
    expect(seen.chunks.map((c) => c.sequence)).toEqual([1, 2, 3, 4, 5, 6]);
    for (const sample of seen.chunks.slice(0, 5)) {
      expect(sample.payload).toMatchObject({ dataId: "0xF40D", unit: "km/h" });
      expect(typeof sample.payload.value).toBe("number");
    }
    const sampledAt = seen.chunks.slice(0, 5).map((c) => Date.parse(String(c.payload.sampledAt)));
    expect([...sampledAt].sort((a, b) => a - b)).toEqual(sampledAt);
    expect(seen.chunks[5]!.payload).toEqual({ status: "complete", samples: 5 });
    expect(finalStatus(seen)).toBe(CommandStatus.COMPLETED);
  });

  it("gives a late joiner the stored chunks once, in order, then the rest live; two watchers get everything; after_sequence resumes", async () => {
    await using stack = await startStack({ vehicles: 1, chunkIntervalMs: 150 });
    const engineer = await stack.login("engineer");
    const { command } = await engineer.commands.submitCommand({
      vehicleId: stack.vehicleIds[0]!,
      commandName: "ReadDataByID",
      params: { dataId: "0xF40C", samples: 6 },
    });
    const id = command!.commandId;
    const early = watchToEnd(engineer, id);
    // Join once at least two chunks are stored.
    await expect.poll(async () => (await engineer.commands.getCommand({ commandId: id })).responses.length, { timeout: 5000 }).toBeGreaterThanOrEqual(2);
    const late = watchToEnd(engineer, id);
    const [a, b] = await Promise.all([early, late]);
    for (const w of [a, b]) {
      expect(w.chunks.map((c) => c.sequence)).toEqual([1, 2, 3, 4, 5, 6, 7]);
      expect(finalStatus(w)).toBe(CommandStatus.COMPLETED);
    }
    const resumed = await watchToEnd(engineer, id, { afterSequence: 4 });
    expect(resumed.chunks.map((c) => c.sequence)).toEqual([5, 6, 7]);
    expect(finalStatus(resumed)).toBe(CommandStatus.COMPLETED);
  });

  it("routes every command to the right vehicle over two connectors, also after a vehicle moves to the other connector", async () => {
    await using stack = await startStack({ vehicles: 4, connectors: 2 });
    expect(stack.connectors.map((c) => c.sessionCount())).toEqual([2, 2]);
    const engineer = await stack.login("engineer");
    const run = async (vehicleId: string): Promise<string> => {
      const { command } = await engineer.commands.submitCommand({ vehicleId, commandName: "ReadDataByID", params: { dataId: "0xF190" } });
      const seen = await watchToEnd(engineer, command!.commandId);
      expect(finalStatus(seen)).toBe(CommandStatus.COMPLETED);
      return String(seen.chunks[0]!.payload.value);
    };
    const vins = await Promise.all(stack.vehicleIds.map(run));
    const { rows } = await stack.db.pool.query<{ vehicle_id: string; vin: string }>("SELECT vehicle_id, vin FROM vehicles WHERE vehicle_id = ANY($1)", [
      stack.vehicleIds,
    ]);
    const vinOf = new Map(rows.map((r) => [r.vehicle_id, r.vin]));
    expect(vins).toEqual(stack.vehicleIds.map((id) => vinOf.get(id)));

    // Vehicle 0 sat on connector 0; it now dials connector 1 instead.
    const moved = await stack.moveVehicle(0, 1);
    expect(moved.connectorSessions).toEqual([1, 3]);
    expect(await run(stack.vehicleIds[0]!)).toBe(vinOf.get(stack.vehicleIds[0]!));
  });

  it("answers gRPC clients (HTTP/2) on the same port", async () => {
    await using stack = await startStack({ vehicles: 1 });
    const grpc = await stack.login("engineer", { protocol: "grpc" });
    const types = await grpc.commands.listCommandTypes({});
    expect(types.commandTypes.map((t) => t.name)).toEqual(["ReadDTC", "ClearDTC", "ReadDataByID"]);
    const { command } = await grpc.commands.submitCommand({ vehicleId: stack.vehicleIds[0]!, commandName: "ReadDTC" });
    const seen = await watchToEnd(grpc, command!.commandId);
    expect(seen.chunks).toHaveLength(3);
    expect(finalStatus(seen)).toBe(CommandStatus.COMPLETED);
  });

  it("rejects bad input with the right codes and writes nothing", async () => {
    await using stack = await startStack({ vehicles: 1 });
    const engineer = await stack.login("engineer");
    const codeOf = async (p: Promise<unknown>): Promise<[Code, string]> => {
      const err = await p.then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(ConnectError);
      return [(err as ConnectError).code, (err as ConnectError).rawMessage];
    };
    const before = (await stack.db.pool.query<{ n: number }>("SELECT count(*)::int AS n FROM commands")).rows[0]!.n;
    expect((await codeOf(engineer.commands.submitCommand({ vehicleId: "5d0e0000-0000-4000-8000-999999999999", commandName: "ReadDTC" })))[0]).toBe(
      Code.NotFound,
    );
    const [unknownCode, unknownMessage] = await codeOf(engineer.commands.submitCommand({ vehicleId: stack.vehicleIds[0]!, commandName: "FlashECU" }));
    expect(unknownCode).toBe(Code.InvalidArgument);
    expect(unknownMessage).toContain("command_name");
    const [paramCode, paramMessage] = await codeOf(
      engineer.commands.submitCommand({ vehicleId: stack.vehicleIds[0]!, commandName: "ReadDataByID", params: { dataId: "0xF40D", samples: 99 } }),
    );
    expect(paramCode).toBe(Code.InvalidArgument);
    expect(paramMessage).toContain("params.samples");
    expect((await codeOf(stack.clients().commands.listCommandTypes({})))[0]).toBe(Code.Unauthenticated);
    expect((await codeOf(stack.clients("not-a-token").commands.listCommandTypes({})))[0]).toBe(Code.Unauthenticated);
    const after = (await stack.db.pool.query<{ n: number }>("SELECT count(*)::int AS n FROM commands")).rows[0]!.n;
    expect(after).toBe(before);
  });
});
