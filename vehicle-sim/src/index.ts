/**
 * The fleet simulator: simulated vehicles with their own DTC and data state that dial the
 * connector, answer commands as the catalog says (architecture §4 "Command catalog") and
 * misbehave on request.
 * Imported by the all-in-one start and by integration tests; `main.ts` is the CLI.
 */
export { loadFleetConfig, parseDelayRange, type FleetConfig } from "./config.js";
export { startFleet, FleetNotOnlineError, type Fleet, type FleetDeps } from "./fleet.js";
export {
  createSimulatedVehicle,
  VehicleNotOnlineError,
  type LinkState,
  type SimulatedVehicle,
  type SimulatedVehicleDeps,
  type SimulatedVehicleOptions,
} from "./simulated-vehicle.js";
export { type Misbehaviour } from "./misbehaviour.js";
export { VehicleState, CommandRejectedError, type StoredDtc, type AnswerPlan, type PlannedChunk } from "./vehicle-state.js";
export { CommandRunner, GARBAGE_PAYLOAD, type CommandRunnerOptions, type DelayRange } from "./command-runner.js";
export { createHeartbeatScheduler, type HeartbeatScheduler } from "./heartbeat-scheduler.js";
export { backoffDelay, type BackoffPolicy } from "./backoff.js";
