import type { DescMethod } from "@bufbuild/protobuf";
import { AuditService, AuthService, CommandService, VehicleService } from "@sovd/proto";
import type { RoleName } from "./principal.js";

/** Which rate limit bucket a call counts against (also the `scope` label of rate_limited_total). */
export type RateLimitScope = "login" | "refresh" | "submit" | "other";

/** Who may call a method: anyone (`public`) or an authenticated user with at least this role. */
export interface MethodRule {
  readonly access: "public" | RoleName;
  readonly scope: RateLimitScope;
}

const key = (m: DescMethod) => `${m.parent.typeName}/${m.name}`;
const rule = (access: MethodRule["access"], scope: RateLimitScope = "other"): MethodRule => Object.freeze({ access, scope });

/**
 * THE table of who may call what (architecture §4 "Roles and visibility"): one place, checked
 * by the auth interceptor on every RPC, never per handler by hand. Methods not listed (a
 * service added later) need an authenticated viewer: authentication is never optional by
 * omission.
 */
export const METHOD_RULES: ReadonlyMap<string, MethodRule> = new Map([
  [key(AuthService.method.login), rule("public", "login")],
  [key(AuthService.method.refresh), rule("public", "refresh")],
  [key(AuthService.method.logout), rule("viewer")],
  [key(AuthService.method.whoAmI), rule("viewer")],
  [key(AuthService.method.createStreamTicket), rule("viewer")],
  [key(VehicleService.method.listVehicles), rule("viewer")],
  [key(VehicleService.method.getVehicle), rule("viewer")],
  [key(VehicleService.method.watchVehicles), rule("viewer")],
  [key(CommandService.method.listCommandTypes), rule("viewer")],
  [key(CommandService.method.submitCommand), rule("engineer", "submit")],
  [key(CommandService.method.getCommand), rule("viewer")],
  [key(CommandService.method.listCommands), rule("viewer")],
  [key(CommandService.method.watchCommand), rule("viewer")],
  [key(CommandService.method.cancelCommand), rule("engineer")],
  [key(CommandService.method.submitAndWatch), rule("engineer", "submit")],
  [key(AuditService.method.listAuditLogs), rule("admin")],
]);

const DEFAULT_RULE = rule("viewer");

/** The rule of a method; unknown methods get the authenticated-viewer default. */
export function ruleFor(method: DescMethod): MethodRule {
  return METHOD_RULES.get(key(method)) ?? DEFAULT_RULE;
}
