import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { createContextValues, type CallOptions } from "@connectrpc/connect";
import { connectNodeAdapter } from "@connectrpc/connect-node";
import { clientInfoKey, createAuditService, createAuth, createErrorInterceptor, createGatewayMetrics, loadAuthConfig, type Auth } from "@sovd/gateway";
import { requestIdFrom, type Env, type Logger, type Pool, type Registry } from "@sovd/platform";
import { AuditService, AuthService, CommandService, VehicleService } from "@sovd/proto";

/** Header the auth server reads the client address from, so a test can call from "elsewhere". */
export const TEST_ADDRESS_HEADER = "x-test-client-address";

/** The address a test calls from unless it says otherwise. */
export const TEST_CLIENT_ADDRESS = "192.0.2.10";

/** Call options for a call from `address` (the auth server honours it; a real gateway uses the socket's). */
export const fromAddress = (address = TEST_CLIENT_ADDRESS): CallOptions => ({ headers: { [TEST_ADDRESS_HEADER]: address, "user-agent": "auth-test/1.0" } });

/** A running auth server. */
export interface AuthServer {
  readonly auth: Auth;
  readonly baseUrl: string;
  close(): Promise<void>;
}

/**
 * Auth over real HTTP and nothing else: a Connect server on port 0 with the real auth routes
 * and interceptor, the HTTP layer filling clientInfoKey as the gateway's does. Command and
 * vehicle services are mounted without handlers: a call the interceptor lets through answers
 * `unimplemented`, a refused one `unauthenticated` / `permission_denied`, so the role table is
 * observable on its own, and `now` can move the clock of tokens, tickets and caches.
 */
export async function startAuthServer(opts: { pool: Pool; logger: Logger; registry: Registry; env: Env; now?: () => Date }): Promise<AuthServer> {
  const auth = createAuth(loadAuthConfig(opts.env), { pool: opts.pool, logger: opts.logger, registry: opts.registry, now: opts.now });
  const handler = connectNodeAdapter({
    routes: (router) => {
      router.service(AuthService, auth.authService);
      router.service(AuditService, createAuditService({ pool: opts.pool }));
      router.service(CommandService, {});
      router.service(VehicleService, {});
    },
    // As the gateway has them: domain errors become their codes outside the auth interceptor.
    interceptors: [createErrorInterceptor({ logger: opts.logger, metrics: createGatewayMetrics(opts.registry) }), auth.interceptor],
    readMaxBytes: 1024 * 1024,
    contextValues: (req) => {
      const address = req.headers[TEST_ADDRESS_HEADER];
      return createContextValues().set(clientInfoKey, {
        ipAddress: typeof address === "string" ? address : (req.socket.remoteAddress ?? "unknown"),
        userAgent: req.headers["user-agent"] ?? "",
        requestId: requestIdFrom(req.headers["x-request-id"] as string | undefined),
      });
    },
  });
  const server: Server = createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    auth,
    baseUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await auth.close();
    },
  };
}
