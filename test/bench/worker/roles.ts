/**
 * Every role a bench worker process can play, loaded only in the process that plays it.
 * Bare references use nothing but the libraries; the load generator speaks only the public
 * Connect API and the WebSocket bridge.
 */
import type { Role } from "./protocol.js";

const ROLES = {
  "connect-server": () => import("../references/connect-unary.js").then((m) => m.connectServer),
  "connect-client": () => import("../references/connect-unary.js").then((m) => m.connectClient),
  "grpc-server": () => import("../references/grpc-stream.js").then((m) => m.grpcServer),
  "grpc-client": () => import("../references/grpc-stream.js").then((m) => m.grpcClient),
  "pg-insert": () => import("../references/pg-insert.js").then((m) => m.pgInsertClient),
  "nats-sub": () => import("../references/nats-hop.js").then((m) => m.natsSubscriber),
  "nats-pub": () => import("../references/nats-hop.js").then((m) => m.natsPublisher),
  "push-server": () => import("../references/http-push.js").then((m) => m.pushServer),
  "push-clients": () => import("../references/http-push.js").then((m) => m.pushClients),
  "ws-server": () => import("../references/ws-broadcast.js").then((m) => m.wsServer),
  "ws-clients": () => import("../references/ws-broadcast.js").then((m) => m.wsClients),
  "tcp-server": () => import("../references/tcp-sockets.js").then((m) => m.tcpServer),
  "tcp-clients": () => import("../references/tcp-sockets.js").then((m) => m.tcpClients),
  "grpc-idle-server": () => import("../references/grpc-idle.js").then((m) => m.grpcIdleServer),
  "grpc-idle-clients": () => import("../references/grpc-idle.js").then((m) => m.grpcIdleClients),
  loadgen: () => import("../load/loadgen.js").then((m) => m.loadgen),
} satisfies Record<string, () => Promise<Role>>;

export type RoleName = keyof typeof ROLES;
export type RoleOf<R extends RoleName> = Awaited<ReturnType<(typeof ROLES)[R]>>;

export async function loadRole(name: string): Promise<Role> {
  const load = (ROLES as Record<string, (() => Promise<Role>) | undefined>)[name];
  if (!load) throw new Error(`unknown bench role ${name}`);
  return load();
}
