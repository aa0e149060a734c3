import type { Code } from "@connectrpc/connect";
import { codeToString } from "@connectrpc/connect/protocol-connect";
import { createCommandMetrics, type CommandMetrics } from "@sovd/domain";
import { Counter, Gauge, Histogram, type Registry } from "@sovd/platform";

/**
 * The gateway's Prometheus metrics (architecture §8 "Observability"). Labels stay bounded:
 * command names, statuses, RPC names and codes, stream kinds; never a vehicle, user or command
 * id.
 */
export interface GatewayMetrics {
  readonly commandsSubmitted: Counter<"command">;
  /** Terminal transitions the gateway itself writes (dispatch failures, cancel). */
  readonly commands: CommandMetrics;
  readonly rpcRequests: Counter<"service" | "method" | "code">;
  readonly rpcDuration: Histogram<"service" | "method">;
  readonly watchStreamsActive: Gauge<"kind">;
  readonly websocketConnectionsActive: Gauge;
  readonly dispatchRetries: Counter;
  readonly circuitBreakersOpen: Gauge;
  readonly busErrors: Counter;
  readonly databaseErrors: Counter;
}

/** Registers the gateway's metrics on `registry` (one registry per gateway instance). */
export function createGatewayMetrics(registry: Registry): GatewayMetrics {
  const registers = [registry];
  return {
    commandsSubmitted: new Counter({
      name: "commands_submitted_total",
      help: "Commands accepted by SubmitCommand",
      labelNames: ["command"],
      registers,
    }),
    commands: createCommandMetrics(registry),
    rpcRequests: new Counter({
      name: "rpc_requests_total",
      help: "Connect/gRPC calls by service, method and result code",
      labelNames: ["service", "method", "code"],
      registers,
    }),
    rpcDuration: new Histogram({
      name: "rpc_request_duration_seconds",
      help: "Duration of Connect/gRPC calls (streams: until the stream ends)",
      labelNames: ["service", "method"],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
      registers,
    }),
    watchStreamsActive: new Gauge({
      name: "watch_streams_active",
      help: "Open watch streams by kind (connect = WatchCommand, websocket = bridge subscriptions, vehicles = WatchVehicles)",
      labelNames: ["kind"],
      registers,
    }),
    websocketConnectionsActive: new Gauge({
      name: "websocket_connections_active",
      help: "Open WebSocket bridge connections",
      registers,
    }),
    dispatchRetries: new Counter({
      name: "dispatch_retries_total",
      help: "Dispatch attempts repeated after no responder, a rejection or a timeout",
      registers,
    }),
    circuitBreakersOpen: new Gauge({
      name: "circuit_breakers_open",
      help: "Vehicles whose dispatch circuit breaker is open (failing fast)",
      registers,
    }),
    busErrors: new Counter({
      name: "bus_errors_total",
      help: "Unexpected message bus failures (closed connection, publish errors); no-responders and timeouts are not counted",
      registers,
    }),
    databaseErrors: new Counter({
      name: "database_errors_total",
      help: "Database failures seen by the gateway (query errors, pool errors)",
      registers,
    }),
  };
}

/** The snake_case label for a Connect code (`ok` for success), as clients see it on the wire. */
export const codeLabel = (code: Code | undefined): string => (code === undefined ? "ok" : codeToString(code));
