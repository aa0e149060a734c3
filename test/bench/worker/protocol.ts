/**
 * The bench runs every load generator and every bare reference in a process of its own, so
 * that each side of a measurement has its own event loop and its CPU can be read from
 * /proc, as the services' is. The orchestrator drives those worker processes over the Node
 * IPC channel with these messages.
 */

/** What a role's methods may take and return: plain JSON values. */
export type RoleMethod = (arg: never) => unknown;

/** A started role: the methods the orchestrator may call. `close` (if any) runs before exit. */
export type RoleApi = Record<string, RoleMethod>;

/** What a role gets from its host process. */
export interface RoleContext {
  /** A progress line on the bench's stderr. */
  progress(text: string): void;
}

/** A role: started once per worker process with its parameters. */
export type Role = (params: never, ctx: RoleContext) => Promise<RoleApi> | RoleApi;

export type ParentMessage =
  | { readonly kind: "init"; readonly role: string; readonly params: unknown }
  | { readonly kind: "call"; readonly id: number; readonly method: string; readonly arg: unknown };

export type ChildMessage =
  | { readonly kind: "hello" }
  | { readonly kind: "ready" }
  | { readonly kind: "result"; readonly id: number; readonly value: unknown }
  | { readonly kind: "error"; readonly id: number; readonly message: string }
  | { readonly kind: "progress"; readonly text: string };
