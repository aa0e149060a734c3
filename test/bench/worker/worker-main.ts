/**
 * Entry of a bench worker process (see protocol.ts): waits for its role, starts it, then
 * answers calls until the orchestrator disconnects.
 */
import type { ChildMessage, ParentMessage, RoleApi } from "./protocol.js";
import { loadRole } from "./roles.js";

const send = (message: ChildMessage): void => {
  // The orchestrator may already have disconnected (it gave up on a call): nothing to tell then.
  if (process.connected) process.send?.(message, undefined, {}, () => undefined);
};

let api: RoleApi | undefined;

process.on("message", (raw: ParentMessage) => {
  void (async () => {
    if (raw.kind === "init") {
      try {
        const role = await loadRole(raw.role);
        api = await role(raw.params as never, { progress: (text) => send({ kind: "progress", text }) });
        send({ kind: "ready" });
      } catch (err) {
        send({ kind: "error", id: -1, message: err instanceof Error ? (err.stack ?? err.message) : String(err) });
      }
      return;
    }
    const method = api?.[raw.method];
    try {
      if (!method) throw new Error(`no method ${raw.method}`);
      const value = await (method as (arg: unknown) => unknown)(raw.arg);
      send({ kind: "result", id: raw.id, value: value ?? null });
    } catch (err) {
      send({ kind: "error", id: raw.id, message: err instanceof Error ? err.message : String(err) });
    }
  })();
});

// The orchestrator is gone (finished or crashed): so is this worker.
process.on("disconnect", () => process.exit(0));
send({ kind: "hello" });
