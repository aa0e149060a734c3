/**
 * How the references combine into the reference of a scenario. One ReadDTC command needs,
 * at the least: two Connect calls (submit, watch), a gRPC exchange with the vehicle, three
 * stored chunks (three single-row INSERTs), events over NATS and a push to the watcher.
 */
import type { References } from "../references/reference-figures.js";
import type { Figure } from "../table.js";

/** S1: the sum of the bare hops (p50): Connect unary + gRPC ping-pong + 3 INSERTs + NATS hop + stream push. */
export function sumOfHops(refs: References): Figure | undefined {
  const { connect, grpc, pg, nats, push } = refs;
  if (!connect || !grpc || !pg || !nats || !push) return undefined;
  return { value: connect.p50Ms + grpc.p50Ms + 3 * pg.p50Ms + nats.p50Ms + push.p50Ms, unit: "ms", label: "Σ bare hops" };
}

/** S2: the bottleneck, min(PostgreSQL rows/s ÷ 3, Connect calls/s ÷ 2, NATS msgs/s ÷ 3). */
export function bottleneck(refs: References): Figure | undefined {
  const { connect, pg, nats } = refs;
  if (!connect || !pg || !nats) return undefined;
  const parts: Array<[string, number]> = [
    ["PostgreSQL ÷ 3", pg.rowsPerSec / 3],
    ["Connect ÷ 2", connect.callsPerSec / 2],
    ["NATS ÷ 3", nats.msgsPerSec / 3],
  ];
  const [label, value] = parts.reduce((m, p) => (p[1] < m[1] ? p : m));
  return { value, unit: "cmd/s", label };
}

/**
 * S2 CPU per command: the bare library work each process must do for one command, from the
 * CPU the references used per operation. Gateway: two Connect calls served. Connector:
 * three gRPC messages received and three NATS publishes. PostgreSQL: three INSERTs
 * (backend side). Fleet: three gRPC messages sent. Load generator: two Connect calls made.
 */
export function cpuReferences(refs: References): Record<"gateway" | "connector" | "postgres" | "fleet" | "loadgen" | "total", number | undefined> {
  const { connect, grpc, pg, nats } = refs;
  const gateway = connect ? 2 * connect.serverCpuUs : undefined;
  const connector = grpc && nats ? 3 * grpc.serverCpuUs + 3 * nats.pubCpuUs : undefined;
  const postgres = pg ? 3 * pg.backendCpuUs : undefined;
  return {
    gateway,
    connector,
    postgres,
    fleet: grpc ? 3 * grpc.clientCpuUs : undefined,
    loadgen: connect ? 2 * connect.clientCpuUs : undefined,
    total: gateway !== undefined && connector !== undefined && postgres !== undefined ? gateway + connector + postgres : undefined,
  };
}
