import { createClient, type Client, type Interceptor, type Transport } from "@connectrpc/connect";
import { createConnectTransport, createGrpcTransport } from "@connectrpc/connect-node";
import { AuditService, AuthService, CommandService, VehicleService } from "@sovd/proto";

/** Connect over HTTP/1.1 (what the browser speaks) or gRPC over HTTP/2. */
export type Protocol = "connect" | "grpc";

/** Typed clients of the gateway's four services, for one caller. */
export interface StackClients {
  auth: Client<typeof AuthService>;
  vehicles: Client<typeof VehicleService>;
  commands: Client<typeof CommandService>;
  audit: Client<typeof AuditService>;
}

/** Makes the clients of one caller: anonymous without a token, `authorization: Bearer <token>` with one. */
export type ClientsFor = (token?: string, protocol?: Protocol) => StackClients;

/**
 * Clients for a gateway at `baseUrl`, one transport per caller and protocol, reused: every
 * test speaks to the gateway the same way, and gRPC keeps one HTTP/2 session per caller
 * instead of one per call. A header the call sets itself (another `authorization`) wins.
 */
export function clientsFor(baseUrl: string): ClientsFor {
  const transports = new Map<string, Transport>();
  const transport = (protocol: Protocol, token: string | undefined): Transport => {
    const key = `${protocol}:${token ?? ""}`;
    let t = transports.get(key);
    if (!t) {
      const auth: Interceptor = (next) => (req) => {
        if (token && !req.header.has("authorization")) req.header.set("authorization", `Bearer ${token}`);
        return next(req);
      };
      t = protocol === "grpc" ? createGrpcTransport({ baseUrl, interceptors: [auth] }) : createConnectTransport({ baseUrl, httpVersion: "1.1", interceptors: [auth] });
      transports.set(key, t);
    }
    return t;
  };
  return (token, protocol = "connect") => {
    const t = transport(protocol, token);
    return {
      auth: createClient(AuthService, t),
      vehicles: createClient(VehicleService, t),
      commands: createClient(CommandService, t),
      audit: createClient(AuditService, t),
    };
  };
}
