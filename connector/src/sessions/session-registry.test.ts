import { randomUUID } from "node:crypto";
import { create, toBinary } from "@bufbuild/protobuf";
import { markOnline } from "@sovd/domain";
import { LinkError } from "@sovd/link";
import { createMemoryBus, createMetricsRegistry, NoRespondersError, type Bus } from "@sovd/platform";
import { SessionClaimSchema, cancelSubject, executeSubject, sessionSubject } from "@sovd/proto";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { openUnitDatabase, type UnitDatabase } from "../../test/database.js";
import { counted, delivered, fakeLink, silentLogger, type FakeLink } from "../../test/fakes.js";
import { createConnectorMetrics, type ConnectorMetrics } from "../metrics.js";
import { createLiveSession, type LiveSession } from "./session.js";
import { createSessionRegistry, type SessionRegistry } from "./session-registry.js";
import { SessionActivity } from "./session-activity.js";

const REPLACED = new LinkError("aborted", "replaced by a newer session of this vehicle");

describe("session registry", () => {
  let db: UnitDatabase;
  let bus: Bus;
  let metrics: ConnectorMetrics;
  let activity: SessionActivity;
  let registry: SessionRegistry;
  let vehicleId: string;
  /** What the registry routed from the cancel subjects: [session id, subject]. */
  let routed: [string, string][];

  beforeAll(async () => {
    db = await openUnitDatabase();
  });
  afterAll(() => db?.close());

  beforeEach(async () => {
    bus = createMemoryBus();
    metrics = createConnectorMetrics(createMetricsRegistry({ service: "connector" }));
    activity = new SessionActivity();
    registry = createSessionRegistry({ pool: db.pool, bus, metrics, activity, logger: silentLogger, connectorId: "connector-a" });
    await registry.listen({ subject: cancelSubject("*"), handle: (session, m) => routed.push([session.sessionId, m.subject]) });
    routed = [];
    vehicleId = (await db.insertVehicle()).vehicleId;
  });
  afterEach(async () => {
    registry.unsubscribeAll();
    await activity.allSettled();
    await bus.close();
  });

  /** A session of the test's vehicle on a link that keeps how it was closed. */
  const newSession = (): { session: LiveSession; link: FakeLink } => {
    const link = fakeLink();
    return { session: createLiveSession(link, vehicleId, silentLogger), link };
  };

  /** Another connector's claim on the vehicle, as its session publishes it; resolves once it has been handled here. */
  const claimFromElsewhere = async (sessionId: string): Promise<void> => {
    const claim = create(SessionClaimSchema, { vehicleId, sessionId, connectorId: "connector-b" });
    bus.publish(sessionSubject(vehicleId), toBinary(SessionClaimSchema, claim));
    await delivered(bus);
    await activity.allSettled();
  };

  it("replaces an older session of the vehicle on this connector with the newer one", async () => {
    const older = newSession();
    const newer = newSession();
    registry.hold(older.session);
    registry.hold(newer.session);

    expect(older.link.closes).toEqual([REPLACED]);
    expect(older.session.isOpen).toBe(false);
    expect([newer.link.closes, newer.session.isOpen]).toEqual([[], true]);
    expect(registry.count()).toBe(1);
    expect(await counted(metrics.sessionsReplaced)).toBe(1);
    // Both streams are up until the older one has closed.
    expect(await counted(metrics.connectionsActive)).toBe(2);

    registry.release(older.session);
    expect([registry.count(), await counted(metrics.connectionsActive)]).toEqual([1, 1]);
    registry.release(newer.session);
    expect([registry.count(), await counted(metrics.connectionsActive)]).toEqual([0, 0]);
  });

  it("closes its session on a claim from another connector only once the database says the vehicle's session is the other one", async () => {
    const ours = newSession();
    await markOnline(db.pool, vehicleId, ours.session.sessionId);
    registry.hold(ours.session);
    registry.claim(ours.session);
    const elsewhere = randomUUID();

    // The other session's claim arrives, but the row is still ours (that session lost the race, or has not written yet).
    await claimFromElsewhere(elsewhere);
    expect([ours.link.closes, ours.session.isOpen]).toEqual([[], true]);
    expect(await counted(metrics.sessionsReplaced)).toBe(0);

    // The other session owns the row now: its claim closes ours.
    await markOnline(db.pool, vehicleId, elsewhere);
    await claimFromElsewhere(elsewhere);
    expect(ours.link.closes).toEqual([REPLACED]);
    expect(ours.session.isOpen).toBe(false);
    expect(await counted(metrics.sessionsReplaced)).toBe(1);
  });

  it("publishes its own claim, naming this connector, and ignores it when it comes back", async () => {
    const ours = newSession();
    await markOnline(db.pool, vehicleId, ours.session.sessionId);
    const claims: Uint8Array[] = [];
    const watcher = await bus.subscribe(sessionSubject(vehicleId));
    void (async () => {
      for await (const m of watcher) claims.push(m.data);
    })();

    registry.hold(ours.session);
    registry.claim(ours.session);
    await delivered(bus);
    await activity.allSettled();

    expect(claims).toEqual([toBinary(SessionClaimSchema, create(SessionClaimSchema, { vehicleId, sessionId: ours.session.sessionId, connectorId: "connector-a" }))]);
    expect([ours.link.closes, ours.session.isOpen]).toEqual([[], true]);
    watcher.unsubscribe();
  });

  it("stopDispatch ends only the execute subscriptions: dispatches find no responder, claims are still heard", async () => {
    const ours = newSession();
    ours.session.executeSub = await bus.subscribe(executeSubject(vehicleId), { signal: ours.session.subscriptions.signal });
    registry.hold(ours.session);
    registry.claim(ours.session);

    registry.stopDispatch();

    await expect(bus.request(executeSubject(vehicleId), new Uint8Array(), { timeoutMs: 1000 })).rejects.toBeInstanceOf(NoRespondersError);
    const elsewhere = randomUUID();
    await markOnline(db.pool, vehicleId, elsewhere);
    await claimFromElsewhere(elsewhere);
    expect(ours.link.closes).toEqual([REPLACED]);
  });

  it("routes a vehicle's message on a connector-wide subject to its open session, and drops those of vehicles it does not hold", async () => {
    const ours = newSession();
    registry.hold(ours.session);
    const other = (await db.insertVehicle()).vehicleId;

    bus.publish(cancelSubject(vehicleId), new Uint8Array([1]));
    bus.publish(cancelSubject(other), new Uint8Array([2]));
    await delivered(bus);
    expect(routed).toEqual([[ours.session.sessionId, cancelSubject(vehicleId)]]);

    // A replaced session gets nothing more; the newer one does.
    const newer = newSession();
    registry.hold(newer.session);
    bus.publish(cancelSubject(vehicleId), new Uint8Array([3]));
    await delivered(bus);
    expect(routed).toEqual([
      [ours.session.sessionId, cancelSubject(vehicleId)],
      [newer.session.sessionId, cancelSubject(vehicleId)],
    ]);
  });

  it("a session costs one subscription of its own (execute); claims and cancels are one each for all vehicles; unsubscribeAll ends them all", async () => {
    expect(bus.subscriptionCount()).toBe(2);
    const vehicles = [vehicleId, (await db.insertVehicle()).vehicleId];
    for (const id of vehicles) {
      const session = createLiveSession(fakeLink(), id, silentLogger);
      session.executeSub = await bus.subscribe(executeSubject(id), { signal: session.subscriptions.signal });
      registry.hold(session);
      registry.claim(session);
    }
    expect(bus.subscriptionCount()).toBe(4);

    registry.unsubscribeAll();

    expect(bus.subscriptionCount()).toBe(0);
  });
});
