import { CommandStatus, ErrorMessages } from "@sovd/proto";
import { describe, expect, it } from "vitest";
import { finalStatus, startStack, watchToEnd } from "../src/index.js";

/** `/health/ready` of a gateway: the HTTP status and what it says about one dependency. */
async function readiness(port: number, dependency: string): Promise<[number, unknown]> {
  const res = await fetch(`http://127.0.0.1:${port}/health/ready`);
  return [res.status, ((await res.json()) as { checks: Record<string, string> }).checks[dependency]];
}

describe("operating the system", () => {
  it("follows one command by its request id through the gateway's, the connector's and the simulator's logs and onto its row", async () => {
    await using stack = await startStack({ vehicles: 1 });
    const engineer = await stack.login("engineer");
    const requestId = `trace-${Date.now()}`;
    const { command } = await engineer.commands.submitCommand(
      { vehicleId: stack.vehicleIds[0]!, commandName: "ReadDTC" },
      { headers: { "x-request-id": requestId } },
    );
    expect(finalStatus(await watchToEnd(engineer, command!.commandId))).toBe(CommandStatus.COMPLETED);

    const row = await stack.db.pool.query<{ correlation_id: string }>("SELECT correlation_id FROM commands WHERE command_id = $1", [command!.commandId]);
    expect(row.rows[0]!.correlation_id).toBe(requestId);
    // One grep: every service that touched the command logged the request id.
    await expect
      .poll(() => new Set(stack.logs.filter((l) => l.requestId === requestId).map((l) => l.service)))
      .toEqual(new Set(["gateway", "connector", "vehicle-sim"]));
  });

  it("delivers a queued command when its offline vehicle comes back, and expires one whose vehicle stays away", async () => {
    await using stack = await startStack({ vehicles: 2 });
    const engineer = await stack.login("engineer");
    const [back, away] = [stack.fleet.vehicle(0), stack.fleet.vehicle(1)];
    back.disconnect();
    away.disconnect();
    const offline = async (vehicleId: string): Promise<boolean> =>
      (await stack.db.pool.query<{ s: string }>("SELECT connection_status AS s FROM vehicles WHERE vehicle_id = $1", [vehicleId])).rows[0]?.s === "offline";
    await expect.poll(() => offline(stack.vehicleIds[0]!)).toBe(true);
    await expect.poll(() => offline(stack.vehicleIds[1]!)).toBe(true);

    const waiting = await engineer.commands.submitCommand({
      vehicleId: stack.vehicleIds[0]!,
      commandName: "ReadDTC",
      queueTtl: { seconds: 30n },
    });
    const expiring = await engineer.commands.submitCommand({
      vehicleId: stack.vehicleIds[1]!,
      commandName: "ReadDTC",
      queueTtl: { seconds: 1n },
    });
    for (const c of [waiting, expiring]) {
      await expect.poll(async () => (await engineer.commands.getCommand({ commandId: c.command!.commandId })).command?.status).toBe(CommandStatus.QUEUED);
    }

    back.reconnect();
    const delivered = await watchToEnd(engineer, waiting.command!.commandId);
    expect(delivered.chunks.map((c) => c.sequence)).toEqual([1, 2, 3]);
    expect(finalStatus(delivered)).toBe(CommandStatus.COMPLETED);

    const expired = await watchToEnd(engineer, expiring.command!.commandId);
    expect(expired.errors).toEqual([ErrorMessages.unreachable]);
    expect(finalStatus(expired)).toBe(CommandStatus.FAILED);
  });

  it("readiness turns 503 naming the database while it is away, and recovers when it returns", async () => {
    await using stack = await startStack({ proxied: ["database"] });
    const proxy = stack.proxy("database");
    const ready = (): Promise<[number, unknown]> => readiness(stack.gateway.port, "database");
    expect(await ready()).toEqual([200, "ok"]);
    await proxy.cut();
    const [status, database] = await ready();
    expect(status).toBe(503);
    expect(database).not.toBe("ok");
    expect((await fetch(`http://127.0.0.1:${stack.gateway.port}/health/live`)).status).toBe(200);
    await proxy.restore();
    await expect.poll(async () => (await ready())[0], { timeout: 15_000 }).toBe(200);
  });

  // The in-process bus cannot go away on its own; this needs a NATS server (CI sets NATS_URL).
  it.skipIf(!process.env.NATS_URL)("readiness turns 503 naming the bus while NATS is away, and recovers when it returns", async () => {
    await using stack = await startStack({ proxied: ["bus"] });
    const proxy = stack.proxy("bus");
    const ready = (): Promise<[number, unknown]> => readiness(stack.gateway.port, "bus");
    expect(await ready()).toEqual([200, "ok"]);
    await proxy.cut();
    await expect.poll(async () => (await ready())[0], { timeout: 15_000 }).toBe(503);
    expect((await ready())[1]).not.toBe("ok");
    await proxy.restore();
    await expect.poll(async () => (await ready())[0], { timeout: 20_000 }).toBe(200);
  });

  // The in-process bus never goes away; this needs a NATS server (CI sets NATS_URL).
  if (process.env.NATS_URL) {
    it("a watcher gets what was published while the gateway's NATS connection was away, and its stream ends", async () => {
      await using stack = await startStack({ proxied: ["bus"], vehicles: 1, chunkIntervalMs: 400 });
      const engineer = await stack.login("engineer");
      const { command } = await engineer.commands.submitCommand({ vehicleId: stack.vehicleIds[0]!, commandName: "ReadDTC" });
      const commandId = command!.commandId;
      const seen: string[] = [];
      const watching = (async () => {
        for await (const e of engineer.commands.watchCommand({ commandId }, { signal: AbortSignal.timeout(30_000) })) {
          if (e.event.case === "response") seen.push(`r${e.event.value.sequenceNumber}`);
          if (e.event.case === "status") seen.push(CommandStatus[e.event.value.status]);
        }
      })();
      await expect.poll(() => seen.includes("r1"), { timeout: 10_000 }).toBe(true);
      await stack.proxy("bus").cut();
      // The connector (its own connection) stores and publishes the rest; the gateway hears none of it.
      await stack.waitForStatus(commandId, "completed", 10_000);
      await stack.proxy("bus").restore();
      await watching;
      expect(seen.filter((s) => s.startsWith("r"))).toEqual(["r1", "r2", "r3"]);
      expect(seen.at(-1)).toBe("COMPLETED");
      expect(stack.gateway.watcherCount()).toBe(0);
    });
  }
});
