/**
 * The deployed system of S1, S2, S3, S5 and the multi-instance run: one connector, one
 * gateway and one fleet, each its own process, plus the load generator, a process that
 * speaks only the public Connect API. More gateways, connectors and fleets join for the
 * multi-instance run.
 */
import { fleetIdentity } from "@sovd/platform";
import { progress } from "../log.js";
import { startConnector, startFleet, startGateway, waitSessions, type RunningConnector, type RunningFleet, type RunningGateway, type StackContext } from "../system/stack.js";
import { spawnWorker, type WorkerOf } from "../worker/spawn-worker.js";
import { stackContext, uniqueFirstIndex, type RunContext } from "./context.js";

export type Loadgen = WorkerOf<"loadgen">;

export interface CommandStack {
  readonly stack: StackContext;
  readonly connectors: RunningConnector[];
  readonly gateways: RunningGateway[];
  readonly fleets: RunningFleet[];
  /** The vehicles of the fleets, in fleet order. */
  readonly vehicleIds: string[];
  readonly loadgen: Loadgen;
  /** Starts one more connector, gateway and fleet of `vehicles` (the multi-instance run). */
  addInstance(vehicles: number): Promise<void>;
  /** A load generator logged in at every gateway (the command loops take them in turn). */
  loadgenForAll(): Promise<Loadgen>;
  close(): Promise<void>;
}

export const ENGINEER = { username: "engineer", password: "engineer123" };

export async function startCommandStack(ctx: RunContext): Promise<CommandStack> {
  const stack = await stackContext(ctx);
  const connectors: RunningConnector[] = [];
  const gateways: RunningGateway[] = [];
  const fleets: RunningFleet[] = [];
  const vehicleIds: string[] = [];
  const extraLoadgens: Loadgen[] = [];

  const addInstance = async (vehicles: number): Promise<void> => {
    const n = connectors.length + 1;
    progress(`starting connector-${n}, gateway-${n} and a fleet of ${vehicles} vehicles`);
    const connector = await startConnector(stack, { name: `connector-${n}` });
    connectors.push(connector);
    gateways.push(await startGateway(stack, { name: `gateway-${n}` }));
    const firstIndex = uniqueFirstIndex(vehicles);
    const fleet = startFleet(stack, { name: `fleet-${n}`, connector: connector.address, vehicles, firstIndex });
    fleets.push(fleet);
    await waitSessions(connector, vehicles, 120_000);
    for (let i = 0; i < vehicles; i++) vehicleIds.push(fleetIdentity(firstIndex + i).vehicleId);
  };

  const closeAll = async (loadgen?: Loadgen): Promise<void> => {
    await loadgen?.close();
    for (const l of extraLoadgens) await l.close();
    for (const f of fleets) await f.proc.stop(15_000);
    for (const g of gateways) await g.proc.stop(20_000);
    for (const c of connectors) await c.proc.stop(30_000);
  };

  let loadgen: Loadgen | undefined;
  try {
    await addInstance(ctx.plan.vehicles);
    loadgen = await spawnWorker("loadgen", { gateways: [gateways[0]!.url], ...ENGINEER }, { name: "loadgen" });
  } catch (err) {
    await closeAll(loadgen);
    throw err;
  }
  const lg = loadgen;
  return {
    stack,
    connectors,
    gateways,
    fleets,
    vehicleIds,
    loadgen: lg,
    addInstance,
    async loadgenForAll() {
      const l = await spawnWorker("loadgen", { gateways: gateways.map((g) => g.url), ...ENGINEER }, { name: "loadgen-all" });
      extraLoadgens.push(l);
      return l;
    },
    close: () => closeAll(lg),
  };
}
