/**
 * What the shared rows mean (architecture §2 "The shared command store"): the only SQL on `commands`,
 * `responses`, `vehicles` and `users`, the one terminal path of a command, the command
 * events and metrics, the audit log. Gateway and connector never import each other; they
 * share this instead.
 */
export { insertAudit, type AuditAction, type AuditEntry } from "./audit.js";
export {
  COMMAND_COLUMNS,
  commandFromRow,
  executionSeconds,
  responseEventFromRow,
  responseFromRow,
  stateEventsFromRow,
  statusEventFromRow,
  type CommandRow,
  type ResponseRow,
} from "./commands/command-rows.js";
export {
  appendChunks,
  findByIdempotencyKey,
  finishCommand,
  getCommandRow,
  getCommandWithResponses,
  insertSubmitted,
  listCommandsPage,
  listInterruptedCommands,
  listQueuedCommands,
  vehiclesWithQueuedCommands,
  listResponseRows,
  markQueued,
  mayRunCommands,
  startCommands,
  sweepExpiredCommands,
  SWEEP_BATCH,
  type AppendOutcome,
  type ChunkRun,
  type CommandFilter,
  type CommandPageKey,
  type Ending,
  type NewChunk,
  type NewCommand,
  type StartOutcome,
  type StartRequest,
  type SubmitOutcome,
  type SweptCommand,
} from "./commands/command-store.js";
export { decodeCommandEvent, publishCommandEvent, publishTerminalEvents } from "./commands/command-events.js";
export { createCommandMetrics, type CommandMetrics } from "./commands/command-metrics.js";
export { createCommandEnder, type CommandEnder, type CommandEnderDeps } from "./commands/end-command.js";
export { startSweeper, type Sweeper } from "./commands/sweeper.js";
export { loadCommandTimeouts, type CommandTimeouts } from "./commands/timeouts.js";
export { VEHICLE_COLUMNS, vehicleFromRow, type VehicleRow } from "./vehicles/vehicle-rows.js";
export {
  currentSessionId,
  markOffline,
  markOfflineMany,
  markOnline,
  markOnlineMany,
  markStaleOffline,
  recordSightings,
  registerVehicle,
  registerVehicles,
  VinTakenError,
  type NewVehicle,
  type Registration,
  type SessionOfVehicle,
  type Sighting,
} from "./vehicles/vehicle-store.js";
export { DUMMY_PASSWORD_HASH, hashPassword, verifyPassword } from "./users/passwords.js";
export { isUuid } from "./text.js";
export { activeDevelopmentUsers, DEVELOPMENT_USERS, seed, SEEDED_VEHICLES, type InitialUser } from "./users/seed.js";
