import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { Registry } from "prom-client";

/** A dependency check: resolves when the dependency works, rejects with why not. */
export type HealthCheck = () => Promise<unknown>;

interface ReadinessReport {
  ready: boolean;
  checks: Record<string, "ok" | string>;
}

/**
 * Readiness (architecture §7 "Gateway HTTP"): every named check must pass within `timeoutMs`.
 * The report names the failing dependency so `curl /health/ready` tells an operator what is
 * down.
 */
async function checkReadiness(checks: Record<string, HealthCheck>, timeoutMs = 2000): Promise<ReadinessReport> {
  const entries = await Promise.all(
    Object.entries(checks).map(async ([name, check]) => {
      let timer: NodeJS.Timeout | undefined;
      try {
        await Promise.race([
          check(),
          new Promise((_, reject) => {
            timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
          }),
        ]);
        return [name, "ok"] as const;
      } catch (err) {
        return [name, err instanceof Error ? err.message : String(err)] as const;
      } finally {
        clearTimeout(timer);
      }
    }),
  );
  const report = Object.fromEntries(entries);
  return { ready: entries.every(([, v]) => v === "ok"), checks: report };
}

/**
 * Serves `/health/live`, `/health/ready` and `/metrics`; returns false for any other path
 * so a caller can chain its own routes.
 */
export async function serveOpsEndpoint(
  req: IncomingMessage,
  res: ServerResponse,
  ops: { checks: Record<string, HealthCheck>; registry: Registry },
): Promise<boolean> {
  const path = (req.url ?? "/").split("?")[0];
  if (req.method !== "GET" && req.method !== "HEAD") return false;
  if (path === "/health/live") {
    sendJson(res, 200, { status: "ok" });
    return true;
  }
  if (path === "/health/ready") {
    const report = await checkReadiness(ops.checks);
    sendJson(res, report.ready ? 200 : 503, { status: report.ready ? "ok" : "unavailable", checks: report.checks });
    return true;
  }
  if (path === "/metrics") {
    const body = await ops.registry.metrics();
    res.writeHead(200, { "content-type": ops.registry.contentType });
    res.end(body);
    return true;
  }
  return false;
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(text) });
  res.end(text);
}

/** A small HTTP server for a service's ops port (the connector's :9091). */
export async function startOpsServer(opts: {
  port: number;
  host?: string;
  checks: Record<string, HealthCheck>;
  registry: Registry;
}): Promise<{ port: number; close(): Promise<void> }> {
  const server = createServer((req, res) => {
    serveOpsEndpoint(req, res, opts)
      .then((handled) => {
        if (!handled) sendJson(res, 404, { error: "not found" });
      })
      .catch(() => sendJson(res, 500, { error: "internal" }));
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(opts.port, opts.host ?? "0.0.0.0", () => resolve());
  });
  return {
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
