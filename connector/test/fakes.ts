import { randomUUID } from "node:crypto";
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import type { VehicleLink } from "@sovd/link";
import { AsyncQueue, createLogger, createMemoryBus, createMetricsRegistry, type Bus, type BusMessage, type Counter, type Logger, type Pool } from "@sovd/platform";
import {
  CommandEventSchema,
  DispatchReplySchema,
  DispatchRequestSchema,
  commandEventsSubject,
  executeSubject,
  type CommandEvent,
  type ConnectorMessage,
  type DispatchReply,
  type VehicleMessage,
} from "@sovd/proto";
import { createCommandEngine, type CommandEngine } from "../src/commands/command-engine.js";
import type { FaultRates } from "../src/config.js";
import { createFaultInjector } from "../src/faults.js";
import { createConnectorMetrics, type ConnectorMetrics } from "../src/metrics.js";
import type { VehicleSession } from "../src/sessions/session.js";
import { afterAll, afterEach, beforeAll, beforeEach } from "vitest";
import { openUnitDatabase, type UnitDatabase } from "./database.js";

/*
 * Stand-ins for the connector's unit tests: a vehicle session and a vehicle link that keep
 * what is sent to the vehicle, a bus request whose replies are kept, and the command engine
 * wired as startConnector wires it. Test support only, kept out of `src/` so it never ships.
 */

export const silentLogger: Logger = createLogger({ service: "connector-test", level: "silent" });

/** A vehicle session whose stream is a list: everything the connector sends ends up in `sent`. */
export interface FakeSession extends VehicleSession {
  readonly sent: ConnectorMessage[];
  isOpen: boolean;
}

/** A session of `vehicleId`, open, under a fresh session id. */
export function fakeSession(vehicleId: string): FakeSession {
  const sent: ConnectorMessage[] = [];
  return {
    sessionId: randomUUID(),
    vehicleId,
    logger: silentLogger,
    isOpen: true,
    sent,
    send(message) {
      sent.push(message);
      return true;
    },
  };
}

/** What the connector sent to a vehicle, by kind: `["execute", id]`, `["cancel", id]`, `["welcome", session id]`. */
export const sentKinds = (sent: readonly ConnectorMessage[]): [string | undefined, string][] =>
  sent.map((m) => {
    const k = m.kind;
    if (k.case === "execute" || k.case === "cancel") return [k.case, k.value.commandId];
    if (k.case === "welcome") return [k.case, k.value.sessionId];
    return [k.case, ""];
  });

/** A vehicle link with no network under it (the vehicle never speaks); how it was closed is kept. */
export interface FakeLink extends VehicleLink {
  /** The error of each close() call, in order (undefined for a plain close). */
  readonly closes: unknown[];
}

/** A link that is open until close(). */
export function fakeLink(): FakeLink {
  const closes: unknown[] = [];
  const over = new AbortController();
  const messages = new AsyncQueue<VehicleMessage>();
  return {
    peer: "fake:0",
    messages,
    signal: over.signal,
    closes,
    metadata: () => undefined,
    send: () => !over.signal.aborted,
    close(error) {
      closes.push(error);
      messages.end();
      over.abort();
    },
  };
}

/** A dispatch as the gateway sends it on `sovd.v1.vehicle.{id}.execute`, with the replies it got. */
export interface DispatchMessage {
  readonly message: BusMessage;
  readonly replies: { reply: DispatchReply; headers: Readonly<Record<string, string>> }[];
}

/** A DispatchRequest for `commandId` as the gateway sends it, request id in the payload and the header. */
export function dispatchMessage(commandId: string, vehicleId: string, requestId = `req-${randomUUID()}`): DispatchMessage {
  const replies: DispatchMessage["replies"] = [];
  const request = create(DispatchRequestSchema, { commandId, vehicleId, commandName: "ReadDTC", correlationId: requestId });
  return {
    replies,
    message: {
      subject: executeSubject(vehicleId),
      data: toBinary(DispatchRequestSchema, request),
      headers: { "x-request-id": requestId },
      respond(data, headers = {}) {
        replies.push({ reply: fromBinary(DispatchReplySchema, data), headers });
        return true;
      },
    },
  };
}

/** The command engine as startConnector builds it, on a fresh metrics registry; no faults unless `faultRates` says so. */
export function commandEngine(
  pool: Pool,
  bus: Bus,
  faultRates: FaultRates = { timeout: 0, unreachable: 0, malformed: 0 },
): { engine: CommandEngine; metrics: ConnectorMetrics } {
  const metrics = createConnectorMetrics(createMetricsRegistry({ service: "connector" }));
  const engine = createCommandEngine({ pool, bus, logger: silentLogger, metrics, faults: createFaultInjector(faultRates, 1) });
  return { engine, metrics };
}

/** A counter's value for `labels` (0 when never counted). */
export async function counted(counter: Counter<string>, labels: Record<string, string> = {}): Promise<number> {
  const { values } = await counter.get();
  const match = values.find((v) => Object.entries(labels).every(([k, want]) => v.labels[k] === want));
  return match?.value ?? 0;
}

/** The events published on `sovd.v1.command.{id}.events` from now on, decoded. */
export async function commandEvents(bus: Bus, commandId: string): Promise<CommandEvent[]> {
  const events: CommandEvent[] = [];
  const sub = await bus.subscribe(commandEventsSubject(commandId));
  void (async () => {
    for await (const m of sub) events.push(fromBinary(CommandEventSchema, m.data));
  })();
  return events;
}

/** Lets the in-process bus deliver what was published so far. */
export const delivered = (bus: Bus): Promise<void> => bus.flush();

/** What a command-engine unit test works with; fresh for each test. */
export interface EngineHarness {
  readonly db: UnitDatabase;
  readonly bus: Bus;
  readonly engine: CommandEngine;
  readonly metrics: ConnectorMetrics;
  /** A session of a vehicle registered for this test. */
  readonly session: FakeSession;
}

/**
 * Registers the hooks of an engine test file: one database for the file, then for each test
 * a fresh in-process bus, engine and vehicle session, abandoned and closed after it. The
 * returned object always shows the current test's parts.
 */
export function useEngineHarness(): EngineHarness {
  let db: UnitDatabase | undefined;
  let current: Omit<EngineHarness, "db"> | undefined;
  beforeAll(async () => {
    db = await openUnitDatabase();
  });
  afterAll(() => db?.close());
  beforeEach(async () => {
    const bus = createMemoryBus();
    const { engine, metrics } = commandEngine(db!.pool, bus);
    current = { bus, engine, metrics, session: fakeSession((await db!.insertVehicle()).vehicleId) };
  });
  afterEach(async () => {
    current?.engine.abandon();
    await current?.engine.settle();
    await current?.bus.close();
  });
  const part = <K extends keyof Omit<EngineHarness, "db">>(k: K): Omit<EngineHarness, "db">[K] => {
    if (!current) throw new Error("the engine harness is used outside a test");
    return current[k];
  };
  return {
    get db() {
      if (!db) throw new Error("the engine harness is used outside a test");
      return db;
    },
    get bus() {
      return part("bus");
    },
    get engine() {
      return part("engine");
    },
    get metrics() {
      return part("metrics");
    },
    get session() {
      return part("session");
    },
  };
}
