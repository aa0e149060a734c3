/**
 * Opens this process's inspector on a loopback port, so the orchestrator measures a bare
 * server's heap exactly as it measures a service's (system/inspector.ts): forced GC, then
 * V8's used heap.
 */
import inspector from "node:inspector";

export function openOwnInspector(): string {
  if (!inspector.url()) inspector.open(0, "127.0.0.1", false);
  return inspector.url()!;
}
