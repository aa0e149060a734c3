import { Code, ConnectError } from "@connectrpc/connect";
import { beforeAll, describe, expect, it } from "vitest";
import { CALLERS, MIN_ROLE, RANK, rpcCalls, useStack, type Caller } from "../src/index.js";

/**
 * The role table once more, on the real gateway (startGateway: its interceptor order, error
 * mapping and handlers), over Connect (HTTP/1.1) and gRPC (HTTP/2). Requests are empty, so an
 * allowed call ends in the handler's own answer (often invalid_argument) and changes nothing;
 * what matters is that it is not refused by auth, and that refused calls get the exact code.
 */
const AUTH_CODES = [Code.Unauthenticated, Code.PermissionDenied];

describe.each(["connect", "grpc"] as const)("role table on the real gateway over %s", (protocol) => {
  const stack = useStack({ fakeConnector: true });
  const tokens: Partial<Record<Caller, string>> = {};
  beforeAll(async () => {
    for (const role of ["viewer", "engineer", "admin"] as const) tokens[role] = (await stack.login(role)).accessToken;
  });

  async function call(rpc: string, caller: Caller): Promise<Code | "ok"> {
    const headers = caller === "anonymous" ? {} : { authorization: `Bearer ${tokens[caller]!}` };
    // Streams that are let through stay open: stop them quickly, that still proves they were
    // allowed. Unary calls get time to finish even on a loaded machine (the ticket count below).
    const opts = { headers, timeoutMs: 10_000 };
    const streamOpts = { headers, timeoutMs: 300 };
    try {
      const result = rpcCalls(stack.clients(undefined, protocol), opts, streamOpts)[rpc]!();
      if (Symbol.asyncIterator in Object(result)) {
        for await (const _ of result as AsyncIterable<unknown>) break;
      } else {
        await result;
      }
      return "ok";
    } catch (err) {
      return ConnectError.from(err).code;
    }
  }

  const cases = Object.keys(MIN_ROLE).flatMap((rpc) => CALLERS.map((caller) => ({ rpc, caller })));

  it.each(cases)("$caller -> $rpc", async ({ rpc, caller }) => {
    const min = MIN_ROLE[rpc]!;
    const got = await call(rpc, caller);
    if (min === "public" || (caller !== "anonymous" && RANK[caller] >= RANK[min])) {
      expect(AUTH_CODES, `${caller} ${rpc} was refused: ${String(got)}`).not.toContain(got);
      expect(got).not.toBe(Code.Internal);
    } else {
      expect(got).toBe(caller === "anonymous" ? Code.Unauthenticated : Code.PermissionDenied);
    }
  });

  it("wrote no command and no ticket for the refused calls", async () => {
    const { rows } = await stack.db.pool.query<{ commands: number; tickets: number }>(
      "SELECT (SELECT count(*)::int FROM commands) AS commands, (SELECT count(*)::int FROM stream_tickets) AS tickets",
    );
    // CreateStreamTicket was allowed for viewer, engineer and admin: exactly those three tickets.
    expect(rows[0]).toEqual({ commands: 0, tickets: 3 });
  });
});
