import type { CallOptions } from "@connectrpc/connect";
import type { StackClients } from "./transports.js";

/** Who calls in the role tests: nobody, or a user of one role. */
export type Caller = "anonymous" | "viewer" | "engineer" | "admin";

/** Every caller, lowest rank first. */
export const CALLERS: readonly Caller[] = ["anonymous", "viewer", "engineer", "admin"];

/** A caller's rank: a role may call what any lower role may. */
export const RANK: Readonly<Record<Caller, number>> = { anonymous: 0, viewer: 1, engineer: 2, admin: 3 };

/**
 * The least role each RPC needs, written out by hand (not derived from the gateway's
 * METHOD_RULES), so the role tests check the rules instead of repeating them.
 */
export const MIN_ROLE: Readonly<Record<string, Caller | "public">> = {
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

/**
 * Each RPC of MIN_ROLE as a call with an empty request, so the role tests on the auth server
 * and on the real gateway make exactly the same calls. Streams get `streamOpts`.
 */
export function rpcCalls(clients: StackClients, opts: CallOptions, streamOpts: CallOptions = opts): Record<string, () => Promise<unknown> | AsyncIterable<unknown>> {
  const { auth, audit, commands, vehicles } = clients;
  return {
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
}
