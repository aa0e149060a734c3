import { createContextKey, type HandlerContext } from "@connectrpc/connect";
import { UnauthenticatedError } from "../rpc/index.js";

/** The three roles, weakest first (roles.ts orders them); the `users.role` column holds these names. */
export type RoleName = "viewer" | "engineer" | "admin";

/** The authenticated caller of an RPC or WebSocket, put into the handler context by the auth interceptor. */
export interface Principal {
  readonly userId: string;
  readonly username: string;
  readonly role: RoleName;
}

/** Where the auth interceptor leaves the caller for handlers (connect-es context values). */
export const principalKey = createContextKey<Principal | undefined>(undefined, { description: "authenticated principal" });

/** The caller of this RPC; `unauthenticated` when the interceptor let an anonymous call through by mistake. */
export function requirePrincipal(ctx: HandlerContext): Principal {
  const p = ctx.values.get(principalKey);
  if (!p) throw new UnauthenticatedError("authentication required");
  return p;
}

/**
 * Visibility of commands (architecture §4 "Roles and visibility"): an engineer sees the
 * commands they submitted; viewers and admins see every command. Anything not visible answers
 * `not_found`.
 */
export function canSeeCommand(p: Principal, commandUserId: string): boolean {
  return p.role !== "engineer" || p.userId === commandUserId;
}
