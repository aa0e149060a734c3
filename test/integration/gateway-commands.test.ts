import { create } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { publishCommandEvent, responseFromRow } from "@sovd/domain";
import { Code, createClient } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";
import { CommandEventSchema, CommandService, CommandStatus, ErrorMessages, FailurePhase, type CommandEvent } from "@sovd/proto";
import { beforeAll, describe, expect, it } from "vitest";
import { codeOf, take, useStack, type UserSession } from "../src/index.js";

const secondsOf = (s: number) => ({ seconds: BigInt(s), nanos: 0 });
const kinds = (events: CommandEvent[]) =>
  events.map((e) =>
    e.event.case === "response"
      ? `r${e.event.value.sequenceNumber}`
      : e.event.case === "status"
        ? CommandStatus[e.event.value.status]
        : `error:${e.event.case === "error" ? e.event.value.errorMessage : ""}`,
  );

/** Opens a watch and waits for its first (replayed) event, so the bus subscription exists. */
async function openWatch(client: UserSession["commands"], commandId: string, afterSequence = 0) {
  const abort = new AbortController();
  const it = client.watchCommand({ commandId, afterSequence }, { signal: abort.signal })[Symbol.asyncIterator]();
  const events: CommandEvent[] = [];
  const first = await it.next();
  if (!first.done) events.push(first.value);
  return {
    events,
    async rest(): Promise<CommandEvent[]> {
      for (;;) {
        const r = await it.next();
        if (r.done) return events;
        events.push(r.value);
      }
    },
    abort: () => abort.abort(),
  };
}

describe("gateway command path", () => {
  const stack = useStack({ fakeConnector: true });
  let engineer: UserSession;

  beforeAll(async () => {
    engineer = await stack.login("engineer");
  });

  it.each(["connect", "grpc"] as const)("login, submit and watch a ReadDTC over %s: replay then live, in order, ending at completed", async (protocol) => {
    const me = await stack.login("engineer", { protocol });
    const v = stack.vehicle(0);
    const connector = await stack.fakeConnector(v.vehicleId);
    try {
      const { command, streamUrl } = await me.commands.submitCommand({ vehicleId: v.vehicleId, commandName: "ReadDTC", params: {} });
      expect(command?.status).toBe(CommandStatus.PENDING);
      expect(command?.params).toEqual({ ecuAddress: "0x10", format: "UDS" });
      expect(streamUrl).toBe(`ws://127.0.0.1:${stack.gateway.port}/ws/responses/${command!.commandId}`);
      const id = command!.commandId;
      await stack.waitForStatus(id, "in_progress");
      const watch = await openWatch(me.commands, id);
      await stack.chunk(id, 1, { dtcCode: "P0420", description: "Catalyst System Efficiency Below Threshold" });
      await stack.chunk(id, 2, { dtcCode: "P0171", description: "System Too Lean (Bank 1)" });
      await stack.chunk(id, 3, { status: "complete", totalDtcs: 2 }, { isFinal: true });
      await stack.complete(id);
      const events = await watch.rest();
      expect(kinds(events)).toEqual(["IN_PROGRESS", "r1", "r2", "r3", "COMPLETED"]);
      const responses = events.flatMap((e) => (e.event.case === "response" ? [e.event.value] : []));
      expect(responses.map((r) => r.payload?.dtcCode ?? r.payload?.totalDtcs)).toEqual(["P0420", "P0171", 2]);
      expect(responses.map((r) => r.isFinal)).toEqual([false, false, true]);
      expect(connector.dispatches).toHaveLength(1);
      expect(connector.dispatches[0]).toMatchObject({ commandId: id, commandName: "ReadDTC", vehicleId: v.vehicleId });
    } finally {
      connector.stop();
    }
  });

  it("carries the caller's x-request-id to the response, the row and the dispatch headers", async () => {
    const v = stack.vehicle(0);
    const connector = await stack.fakeConnector(v.vehicleId);
    try {
      const res = await engineer.commands.submitCommand(
        { vehicleId: v.vehicleId, commandName: "ReadDataByID", params: { dataId: "0xF40D", samples: 2 } },
        { headers: { "x-request-id": "trace-me-42" } },
      );
      expect(res.command?.correlationId).toBe("trace-me-42");
      await stack.waitForStatus(res.command!.commandId, "in_progress");
      expect(connector.headers[0]?.["x-request-id"]).toBe("trace-me-42");
      const audit = await stack.db.pool.query("SELECT action, request_id, ip_address FROM audit_logs WHERE command_id = $1", [res.command!.commandId]);
      expect(audit.rows).toEqual([{ action: "command_submitted", request_id: "trace-me-42", ip_address: expect.stringMatching(/127\.0\.0\.1/) }]);
      // "dispatch accepted" is logged when the reply arrives, which may be after the row changed.
      await expect
        .poll(() => stack.logs.filter((l) => l.requestId === "trace-me-42").map((l) => l.msg))
        .toEqual(expect.arrayContaining(["command submitted", "dispatch accepted"]));
    } finally {
      connector.stop();
    }
  });

  it("refuses bad input with the Connect code a client can act on", async () => {
    const v = stack.vehicle(0);
    expect(await codeOf(engineer.commands.submitCommand({ vehicleId: "5d0e0000-0000-4000-8000-999999999999", commandName: "ReadDTC" }))).toMatchObject({
      code: Code.NotFound,
    });
    expect(await codeOf(engineer.commands.submitCommand({ vehicleId: "not-a-uuid", commandName: "ReadDTC" }))).toMatchObject({ code: Code.NotFound });
    expect(await codeOf(engineer.commands.submitCommand({ vehicleId: v.vehicleId, commandName: "FlashECU" }))).toMatchObject({
      code: Code.InvalidArgument,
      message: expect.stringMatching(/^command_name: /),
    });
    expect(
      await codeOf(engineer.commands.submitCommand({ vehicleId: v.vehicleId, commandName: "ReadDataByID", params: { dataId: "0xF40D", samples: 99 } })),
    ).toMatchObject({ code: Code.InvalidArgument, message: "params.samples: must be at most 20" });
    expect(await codeOf(engineer.commands.submitCommand({ vehicleId: v.vehicleId, commandName: "ReadDataByID", params: {} }))).toMatchObject({
      code: Code.InvalidArgument,
      message: "params.dataId: is required",
    });
    expect(await codeOf(engineer.commands.submitCommand({ vehicleId: v.vehicleId, commandName: "ReadDTC", timeout: secondsOf(100_000) }))).toMatchObject({
      code: Code.InvalidArgument,
      message: expect.stringMatching(/^timeout: /),
    });
    expect(await codeOf(engineer.commands.submitCommand({ vehicleId: v.vehicleId, commandName: "ReadDTC", idempotencyKey: "k".repeat(129) }))).toMatchObject({
      code: Code.InvalidArgument,
      message: expect.stringMatching(/^idempotency_key: /),
    });
    const anonymous = createClient(CommandService, createConnectTransport({ baseUrl: stack.baseUrl, httpVersion: "1.1" }));
    expect(await codeOf(anonymous.listCommandTypes({}))).toMatchObject({ code: Code.Unauthenticated });
    expect(await codeOf(stack.clients("not.a.token").commands.listCommandTypes({}))).toMatchObject({ code: Code.Unauthenticated });
    const { rows } = await stack.db.pool.query("SELECT count(*)::int AS n FROM commands WHERE vehicle_id = $1 AND command_name <> 'ReadDTC'", [v.vehicleId]);
    expect(rows[0].n).toBe(1); // only the ReadDataByID of the request-id test
  });

  it("lists the catalog with the configured timeouts", async () => {
    const { commandTypes } = await engineer.commands.listCommandTypes({});
    expect(commandTypes.map((c) => [c.name, c.changesVehicle, c.defaultTimeoutMs])).toEqual([
      ["ReadDTC", false, 30_000],
      ["ClearDTC", true, 30_000],
      ["ReadDataByID", false, 30_000],
    ]);
    expect(commandTypes[2]?.params.find((p) => p.name === "samples")).toMatchObject({ min: 1, max: 20, defaultValue: "1" });
  });

  it("a late watcher gets stored chunks once, then live ones, and a missed live event is read back from the database", async () => {
    const v = stack.vehicle(1);
    const connector = await stack.fakeConnector(v.vehicleId);
    try {
      const { command } = await engineer.commands.submitCommand({ vehicleId: v.vehicleId, commandName: "ReadDataByID", params: { dataId: "0xF40C", samples: 5 } });
      const id = command!.commandId;
      await stack.waitForStatus(id, "in_progress");
      await stack.chunk(id, 1, { dataId: "0xF40C", name: "Engine speed", value: 800, unit: "rpm", sampledAt: new Date().toISOString() });
      await stack.chunk(id, 2, { dataId: "0xF40C", name: "Engine speed", value: 810, unit: "rpm", sampledAt: new Date().toISOString() });
      const late = await openWatch(engineer.commands, id);
      const second = await openWatch(engineer.commands, id);
      const resumed = await openWatch(engineer.commands, id, 3);
      await stack.chunk(id, 3, { dataId: "0xF40C", name: "Engine speed", value: 820, unit: "rpm", sampledAt: new Date().toISOString() });
      // Stored but never published: a live event the watchers missed.
      await stack.chunk(id, 4, { dataId: "0xF40C", name: "Engine speed", value: 830, unit: "rpm", sampledAt: new Date().toISOString() }, { publish: false });
      const fifth = await stack.chunk(id, 5, { dataId: "0xF40C", name: "Engine speed", value: 840, unit: "rpm", sampledAt: new Date().toISOString() });
      // The same chunk published twice (a redelivery): delivered once.
      publishCommandEvent(stack.bus, create(CommandEventSchema, { commandId: id, event: { case: "response", value: responseFromRow(fifth) } }));
      await stack.chunk(id, 6, { status: "complete", samples: 5 }, { isFinal: true });
      await stack.complete(id);
      for (const w of [late, second]) {
        expect(kinds(await w.rest())).toEqual(["r1", "r2", "IN_PROGRESS", "r3", "r4", "r5", "r6", "COMPLETED"]);
      }
      expect(kinds(await resumed.rest())).toEqual(["IN_PROGRESS", "r4", "r5", "r6", "COMPLETED"]);
    } finally {
      connector.stop();
    }
  });

  it("watching a finished command replays it and ends; GetCommand returns the stored answer", async () => {
    const v = stack.vehicle(1);
    const connector = await stack.fakeConnector(v.vehicleId);
    try {
      const { command } = await engineer.commands.submitCommand({ vehicleId: v.vehicleId, commandName: "ClearDTC" });
      const id = command!.commandId;
      await stack.waitForStatus(id, "in_progress");
      await stack.chunk(id, 1, { status: "cleared", clearedCount: 2 }, { isFinal: true });
      await stack.complete(id);
      const events = await take(engineer.commands.watchCommand({ commandId: id }));
      expect(kinds(events)).toEqual(["r1", "COMPLETED"]);
      const got = await engineer.commands.getCommand({ commandId: id });
      expect(got.command?.status).toBe(CommandStatus.COMPLETED);
      expect(got.responses.map((r) => r.payload)).toEqual([{ status: "cleared", clearedCount: 2 }]);
    } finally {
      connector.stop();
    }
  });

  it("a dispatch nobody answers fails within seconds as Vehicle unreachable, audited, with an error event", async () => {
    const v = stack.vehicle(2);
    const started = Date.now();
    const { command } = await engineer.commands.submitCommand({ vehicleId: v.vehicleId, commandName: "ReadDTC" });
    const id = command!.commandId;
    const events = await take(engineer.commands.watchCommand({ commandId: id }));
    const row = await stack.waitForStatus(id, "failed");
    expect(Date.now() - started).toBeLessThan(3000);
    expect(row).toMatchObject({ error_message: "Vehicle unreachable", failure_phase: "dispatch" });
    expect(row.completed_at).toBeInstanceOf(Date);
    expect(kinds(events).slice(-2)).toEqual(["error:Vehicle unreachable", "FAILED"]);
    const failed = events.at(-1)!;
    expect(failed.event.case === "status" && failed.event.value.failure?.phase).toBe(FailurePhase.DISPATCH);
    const audit = await stack.db.pool.query("SELECT action, details FROM audit_logs WHERE command_id = $1 ORDER BY created_at", [id]);
    expect(audit.rows.map((r) => r.action)).toEqual(["command_submitted", "command_failed"]);
    expect(audit.rows[1].details).toMatchObject({ attempts: 3, error_message: "Vehicle unreachable" });
    const metrics = await (await fetch(`${stack.baseUrl}/metrics`)).text();
    expect(metrics).toMatch(/^dispatch_retries_total [1-9]/m);
    expect(metrics).toMatch(/^commands_executed_total\{command="ReadDTC",status="failed"\} [1-9]/m);
  });

  it("a rejected dispatch is retried, then fails; a read that times out is retried, a ClearDTC that times out is never sent twice", async () => {
    const rejecting = stack.vehicle(2);
    const r = await stack.fakeConnector(rejecting.vehicleId, "reject");
    const { command } = await engineer.commands.submitCommand({ vehicleId: rejecting.vehicleId, commandName: "ReadDTC" });
    await stack.waitForStatus(command!.commandId, "failed");
    expect(r.dispatches).toHaveLength(3);
    r.stop();

    const silent = stack.vehicle(1);
    const s = await stack.fakeConnector(silent.vehicleId, "silent");
    try {
      const read = await engineer.commands.submitCommand({ vehicleId: silent.vehicleId, commandName: "ReadDTC" });
      await stack.waitForStatus(read.command!.commandId, "failed");
      expect(s.dispatches.filter((d) => d.commandId === read.command!.commandId)).toHaveLength(3);
      const clear = await engineer.commands.submitCommand({ vehicleId: silent.vehicleId, commandName: "ClearDTC" });
      await new Promise((resolve) => setTimeout(resolve, 1200)); // 3 attempts x 300 ms would have happened by now
      expect(s.dispatches.filter((d) => d.commandId === clear.command!.commandId)).toHaveLength(1);
      // Acceptance unknown: left to the connector and the deadline sweep, not failed as unreachable.
      expect((await stack.db.pool.query("SELECT status FROM commands WHERE command_id = $1", [clear.command!.commandId])).rows[0].status).toBe("pending");
    } finally {
      s.stop();
    }
  });

  it("cancel ends an open command for watchers and the vehicle; a finished one is failed_precondition", async () => {
    const v = stack.vehicle(0);
    const connector = await stack.fakeConnector(v.vehicleId);
    const cancels = await stack.bus.subscribe(`sovd.v1.vehicle.${v.vehicleId}.cancel`);
    try {
      const { command } = await engineer.commands.submitCommand({ vehicleId: v.vehicleId, commandName: "ReadDTC" });
      const id = command!.commandId;
      await stack.waitForStatus(id, "in_progress");
      const watch = await openWatch(engineer.commands, id);
      const other = await stack.login("engineer2");
      expect(await codeOf(other.commands.cancelCommand({ commandId: id }))).toMatchObject({ code: Code.NotFound });
      const viewer = await stack.login("viewer");
      expect(await codeOf(viewer.commands.cancelCommand({ commandId: id }))).toMatchObject({ code: Code.PermissionDenied });
      const res = await engineer.commands.cancelCommand({ commandId: id });
      expect(res.command).toMatchObject({ status: CommandStatus.CANCELLED, errorMessage: "Cancelled by user" });
      expect(kinds(await watch.rest())).toEqual(["IN_PROGRESS", "CANCELLED"]);
      const cancelMessage = await cancels[Symbol.asyncIterator]().next();
      expect(cancelMessage.done).toBe(false);
      expect((await codeOf(engineer.commands.cancelCommand({ commandId: id }))).code).toBe(Code.FailedPrecondition);
      const audit = await stack.db.pool.query("SELECT action, user_id FROM audit_logs WHERE command_id = $1 AND action = 'command_cancelled'", [id]);
      expect(audit.rows).toEqual([{ action: "command_cancelled", user_id: engineer.userId }]);
    } finally {
      cancels.unsubscribe();
      connector.stop();
    }
  });

  it("queues a command for an offline vehicle when asked to, with no dispatch", async () => {
    const offline = stack.vehicle(3);
    const connector = await stack.fakeConnector(offline.vehicleId);
    try {
      const before = Date.now();
      const { command } = await engineer.commands.submitCommand({
        vehicleId: offline.vehicleId,
        commandName: "ReadDTC",
        queueTtl: secondsOf(600),
        timeout: secondsOf(20),
      });
      expect(command?.status).toBe(CommandStatus.QUEUED);
      const deadline = Number(command!.deadlineAt!.seconds) * 1000;
      // Queued, it waits up to its TTL; the 20 s timeout starts when it is delivered.
      expect(deadline).toBeGreaterThanOrEqual(before + 599_000);
      expect(deadline).toBeLessThanOrEqual(Date.now() + 601_000);
      await new Promise((resolve) => setTimeout(resolve, 100));
      expect(connector.dispatches).toHaveLength(0);
    } finally {
      connector.stop();
    }
    // Online in the database but nobody holds it: the first "no responders" queues it.
    const unheld = stack.vehicle(2);
    const { command } = await engineer.commands.submitCommand({ vehicleId: unheld.vehicleId, commandName: "ReadDTC", queueTtl: secondsOf(60) });
    expect(command?.status).toBe(CommandStatus.PENDING);
    await stack.waitForStatus(command!.commandId, "queued");
  });

  it("fails a command past its deadline by the gateway's own sweep while no connector runs", async () => {
    const v = stack.vehicle(1);
    const connector = await stack.fakeConnector(v.vehicleId);
    try {
      // Accepted and started, then the "connector" says nothing more and no connector sweeps.
      const { command } = await engineer.commands.submitCommand({ vehicleId: v.vehicleId, commandName: "ReadDTC", timeout: secondsOf(1) });
      await stack.waitForStatus(command!.commandId, "in_progress");
      const row = await stack.waitForStatus(command!.commandId, "failed", 5000);
      expect(row).toMatchObject({ error_message: ErrorMessages.timeout, failure_phase: "response" });
      const audit = await stack.db.pool.query("SELECT action, details->>'swept' AS swept FROM audit_logs WHERE command_id = $1 ORDER BY created_at", [command!.commandId]);
      expect(audit.rows).toEqual([
        { action: "command_submitted", swept: null },
        { action: "command_timeout", swept: "true" },
      ]);
    } finally {
      connector.stop();
    }
  });

  it("an idempotency key returns the first command to the same user", async () => {
    const v = stack.vehicle(3);
    const first = await engineer.commands.submitCommand({ vehicleId: v.vehicleId, commandName: "ReadDTC", idempotencyKey: "retry-1", queueTtl: secondsOf(60) });
    const again = await engineer.commands.submitCommand({ vehicleId: v.vehicleId, commandName: "ReadDTC", idempotencyKey: "retry-1", queueTtl: secondsOf(60) });
    expect(again.command?.commandId).toBe(first.command?.commandId);
    const { rows } = await stack.db.pool.query("SELECT count(*)::int AS n FROM commands WHERE idempotency_key = 'retry-1'");
    expect(rows[0].n).toBe(1);
  });

  it("history: newest first, keyset pages, engineers see only their own, viewers everything", async () => {
    const other = await stack.login("engineer2");
    const v = stack.vehicle(3);
    const mine: string[] = [];
    for (let i = 0; i < 5; i++) {
      const { command } = await other.commands.submitCommand({ vehicleId: v.vehicleId, commandName: "ReadDTC", queueTtl: secondsOf(60) });
      mine.unshift(command!.commandId);
    }
    const seen: string[] = [];
    let pageToken = "";
    do {
      const page = await other.commands.listCommands({ pageSize: 2, pageToken });
      expect(page.commands.length).toBeLessThanOrEqual(2);
      seen.push(...page.commands.map((c) => c.commandId));
      pageToken = page.nextPageToken;
    } while (pageToken);
    expect(seen).toEqual(mine);
    const notMine = (await engineer.commands.listCommands({ pageSize: 1 })).commands[0]!.commandId;
    expect(await codeOf(other.commands.getCommand({ commandId: notMine }))).toMatchObject({ code: Code.NotFound });
    expect(await codeOf(take(other.commands.watchCommand({ commandId: notMine })))).toMatchObject({ code: Code.NotFound, message: "command not found" });
    const viewer = await stack.login("viewer");
    const all = await viewer.commands.listCommands({ pageSize: 200, vehicleId: v.vehicleId, status: CommandStatus.QUEUED });
    expect(all.commands.length).toBeGreaterThan(mine.length);
    const recent = await viewer.commands.listCommands({ submittedAfter: timestampFromDate(new Date(Date.now() + 60_000)) });
    expect(recent.commands).toEqual([]);
    expect((await codeOf(viewer.commands.listCommands({ pageToken: "garbage!" }))).message).toMatch(/^page_token: /);
    expect((await codeOf(viewer.commands.listCommands({ pageSize: 201 }))).message).toMatch(/^page_size: /);
  });

  it("fleet: pages by VIN, searches by prefix, unknown vehicles are not_found", async () => {
    const v0 = stack.vehicle(0);
    const page = await engineer.vehicles.listVehicles({ query: v0.vin.slice(0, 14).toLowerCase(), pageSize: 500 });
    expect(page.vehicles.map((x) => x.vin)).toContain(v0.vin);
    const exact = await engineer.vehicles.listVehicles({ query: v0.vin });
    expect(exact.vehicles.map((x) => x.vehicleId)).toEqual([v0.vehicleId]);
    const seen: string[] = [];
    let pageToken = "";
    do {
      const p = await engineer.vehicles.listVehicles({ pageSize: 2, pageToken });
      seen.push(...p.vehicles.map((x) => x.vin));
      pageToken = p.nextPageToken;
    } while (pageToken);
    expect(seen).toEqual([...seen].sort());
    expect(seen).toHaveLength(4);
    expect((await engineer.vehicles.getVehicle({ vehicleId: v0.vehicleId })).vehicle?.vin).toBe(v0.vin);
    expect((await codeOf(engineer.vehicles.getVehicle({ vehicleId: "5d0e0000-0000-4000-8000-999999999998" }))).code).toBe(Code.NotFound);
    expect((await engineer.vehicles.listVehicles({ query: "%" })).vehicles).toEqual([]);
  });
});
