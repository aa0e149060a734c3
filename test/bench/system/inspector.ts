/**
 * Heap of another node process through its inspector (node --inspect): a forced full GC,
 * then V8's used heap. The same measurement for a bare reference server and for the
 * connector, and it needs nothing inside the measured process but the inspector flag.
 */
import { WebSocket } from "ws";

interface CdpReply {
  readonly id?: number;
  readonly result?: { usedSize?: number; totalSize?: number };
  readonly error?: { message: string };
}

/** Used V8 heap in bytes after a full garbage collection. */
export async function heapAfterGc(inspectorUrl: string, timeoutMs = 60_000): Promise<number> {
  const ws = new WebSocket(inspectorUrl);
  try {
    await new Promise<void>((resolve, reject) => {
      ws.once("open", () => resolve());
      ws.once("error", reject);
    });
    let nextId = 1;
    const send = (method: string): Promise<CdpReply> =>
      new Promise((resolve, reject) => {
        const id = nextId++;
        const timer = setTimeout(() => reject(new Error(`inspector ${method} timed out`)), timeoutMs);
        const onMessage = (data: Buffer): void => {
          const reply = JSON.parse(data.toString()) as CdpReply;
          if (reply.id !== id) return;
          clearTimeout(timer);
          ws.off("message", onMessage);
          if (reply.error) reject(new Error(`inspector ${method}: ${reply.error.message}`));
          else resolve(reply);
        };
        ws.on("message", onMessage);
        ws.send(JSON.stringify({ id, method }));
      });
    // Twice: the first pass may leave objects that only finalizers of the first release.
    await send("HeapProfiler.collectGarbage");
    await send("HeapProfiler.collectGarbage");
    const usage = await send("Runtime.getHeapUsage");
    return usage.result?.usedSize ?? NaN;
  } finally {
    ws.terminate();
  }
}
