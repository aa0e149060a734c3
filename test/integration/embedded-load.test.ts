import { CommandStatus } from "@sovd/proto";
import { describe, expect, it } from "vitest";
import { finalStatus, startStack, watchToEnd } from "../src/index.js";

/**
 * The all-in-one's shape under load (architecture §5 "Data", "Embedded default"): with
 * DATABASE_URL unset the stack runs as `npm start` does, every service on one pool of one
 * PGlite connection and the in-process bus, with the default dispatch retries. 64 commands in
 * flight must all complete: the system's own slow database is never taken for an unreachable
 * vehicle. Bounded: 128 commands on 16 simulated vehicles.
 */
describe("the embedded default at 64 in flight", () => {
  it("completes every command; none fails 'Vehicle unreachable' for the database's sake", { timeout: 180_000 }, async () => {
    await using stack = await startStack({
      vehicles: 16,
      env: { DISPATCH_BACKOFF_MS: "200", DISPATCH_REQUEST_TIMEOUT_MS: "2000", RATE_LIMIT_SUBMIT_PER_MIN: "100000" },
    });
    const engineer = await stack.login("engineer");
    const total = 128;
    const inFlight = 64;
    const outcomes: Array<{ status: CommandStatus | undefined; errors: string[] }> = [];
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < total) {
        const i = next++;
        const vehicleId = stack.vehicleIds[i % stack.vehicleIds.length]!;
        const { command } = await engineer.commands.submitCommand({ vehicleId, commandName: i % 2 ? "ReadDTC" : "ReadDataByID", params: i % 2 ? {} : { dataId: "0xF40D", samples: 2 } });
        const seen = await watchToEnd(engineer, command!.commandId, { timeoutMs: 60_000 });
        outcomes.push({ status: finalStatus(seen), errors: seen.errors });
      }
    };
    await Promise.all(Array.from({ length: inFlight }, worker));
    expect(outcomes).toHaveLength(total);
    const failed = outcomes.filter((o) => o.status !== CommandStatus.COMPLETED);
    expect(failed).toEqual([]);
  });
});
