import { Code, ConnectError, createClient, type Transport } from "@connectrpc/connect";
import { createConnectTransport, createGrpcTransport } from "@connectrpc/connect-node";
import { AuditService, AuthService, CommandService, VehicleService } from "@sovd/proto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startGatewayStack, type GatewayStack } from "../src/fake-connector.js";

/**
 * The role table once more, on the real gateway (startGateway: its interceptor order, error
 * mapping and handlers), over Connect (HTTP/1.1) and gRPC (HTTP/2). Requests are empty, so an
 * allowed call ends in the handler's own answer (often invalid_argument) and changes nothing;
 * what matters is that it is not refused by auth, and that refused calls get the exact code.
 */
type Caller = "anonymous" | "viewer" | "engineer" | "admin";
const MIN_ROLE: Record<string, Caller | "public"> = {
  "AuthService/Login": "public",
  "AuthService/Refresh": "public",
  "AuthService/Logout": "viewer",
  "AuthService/WhoAmI": "viewer",
  "AuthService/CreateStreamTicket": "viewer",
  "VehicleService/ListVehicles": "viewer",
  "VehicleService/GetVehicle": "viewer",
  "VehicleService/WatchVehicles": "viewer",
  "CommandService/ListCommandTypes": "viewer",
  "CommandService/SubmitCommand": "engineer",
  "CommandService/GetCommand": "viewer",
  "CommandService/ListCommands": "viewer",
  "CommandService/WatchCommand": "viewer",
  "CommandService/CancelCommand": "engineer",
  "AuditService/ListAuditLogs": "admin",
};
const RANK: Record<Caller, number> = { anonymous: 0, viewer: 1, engineer: 2, admin: 3 };
const AUTH_CODES = [Code.Unauthenticated, Code.PermissionDenied];

describe.each(["connect", "grpc"] as const)("role table on the real gateway over %s", (protocol) => {
  let stack: GatewayStack;
  const tokens: Partial<Record<Caller, string>> = {};
  beforeAll(async () => {
    stack = await startGatewayStack();
    for (const role of ["viewer", "engineer", "admin"] as const) tokens[role] = (await stack.login(role)).token;
  });
  afterAll(async () => stack?.close());

  async function call(rpc: string, caller: Caller): Promise<Code | "ok"> {
    const transport: Transport =
      protocol === "grpc" ? createGrpcTransport({ baseUrl: stack.baseUrl }) : createConnectTransport({ baseUrl: stack.baseUrl, httpVersion: "1.1" });
    const headers = caller === "anonymous" ? {} : { authorization: `Bearer ${tokens[caller]!}` };
    // Streams that are let through stay open: stop them quickly, that still proves they were
    // allowed. Unary calls get time to finish even on a loaded machine (the ticket count below).
    const opts = { headers, timeoutMs: 10_000 };
    const streamOpts = { headers, timeoutMs: 300 };
    const auth = createClient(AuthService, transport);
    const audit = createClient(AuditService, transport);
    const commands = createClient(CommandService, transport);
    const vehicles = createClient(VehicleService, transport);
    const calls: Record<string, () => Promise<unknown> | AsyncIterable<unknown>> = {
      "AuthService/Login": () => auth.login({}, opts),
      "AuthService/Refresh": () => auth.refresh({}, opts),
      "AuthService/Logout": () => auth.logout({}, opts),
      "AuthService/WhoAmI": () => auth.whoAmI({}, opts),
      "AuthService/CreateStreamTicket": () => auth.createStreamTicket({}, opts),
      "VehicleService/ListVehicles": () => vehicles.listVehicles({}, opts),
      "VehicleService/GetVehicle": () => vehicles.getVehicle({}, opts),
      "VehicleService/WatchVehicles": () => vehicles.watchVehicles({}, streamOpts),
      "CommandService/ListCommandTypes": () => commands.listCommandTypes({}, opts),
      "CommandService/SubmitCommand": () => commands.submitCommand({}, opts),
      "CommandService/GetCommand": () => commands.getCommand({}, opts),
      "CommandService/ListCommands": () => commands.listCommands({}, opts),
      "CommandService/WatchCommand": () => commands.watchCommand({}, streamOpts),
      "CommandService/CancelCommand": () => commands.cancelCommand({}, opts),
      "AuditService/ListAuditLogs": () => audit.listAuditLogs({}, opts),
    };
    try {
      const result = calls[rpc]!();
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

  const cases = Object.keys(MIN_ROLE).flatMap((rpc) => (["anonymous", "viewer", "engineer", "admin"] as const).map((caller) => ({ rpc, caller })));

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
