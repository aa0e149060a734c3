import { Role } from "@sovd/proto";
import type { RoleName } from "./principal.js";

const RANK: Record<RoleName, number> = { viewer: 1, engineer: 2, admin: 3 };

/** The roles in the order they include each other (architecture §4 "Roles and visibility"). */
export const ROLE_NAMES: readonly RoleName[] = ["viewer", "engineer", "admin"];

/** Roles are ordered: an admin may do what an engineer may, an engineer what a viewer may. */
export function hasRole(actual: RoleName, required: RoleName): boolean {
  return RANK[actual] >= RANK[required];
}

/** A stored role (`users.role`) as it goes on the wire. */
export function roleToProto(role: RoleName): Role {
  return role === "admin" ? Role.ADMIN : role === "engineer" ? Role.ENGINEER : Role.VIEWER;
}

/** Narrows a `users.role` value read from the database. */
export function isRoleName(value: unknown): value is RoleName {
  return typeof value === "string" && (ROLE_NAMES as readonly string[]).includes(value);
}
