import { listQueuedCommands, mayRunCommands } from "@sovd/domain";
import { ErrorMessages } from "@sovd/proto";
import type { VehicleSession } from "../sessions/session.js";
import { decideFaults, launch, type CommandDeps } from "./running.js";

/**
 * Starts the commands that waited in the offline queue for this vehicle, oldest first, when
 * it comes online. The submitter is checked again (a user deactivated or demoted meanwhile
 * does not get a command run); such a command fails as undeliverable.
 */
export async function deliverQueued(deps: CommandDeps, session: VehicleSession): Promise<void> {
  const queued = await listQueuedCommands(deps.pool, session.vehicleId);
  for (const q of queued) {
    if (!session.isOpen || !deps.state.accepting) return;
    const fields = { commandId: q.command_id, requestId: q.correlation_id };
    if (!(await mayRunCommands(deps.pool, q.user_id))) {
      session.logger.warn(fields, "queued command failed: its submitter may no longer run commands");
      await deps.ender.end(
        {
          commandId: q.command_id,
          status: "failed",
          errorMessage: ErrorMessages.unreachable,
          failurePhase: "dispatch",
          audit: { action: "command_failed", details: { reason: "submitter may no longer run commands" } },
          requestId: q.correlation_id,
        },
        session.logger,
      );
      continue;
    }
    const faults = decideFaults(deps, q.command_id);
    if (faults.unreachable) {
      session.logger.warn(fields, "fault injected: queued command left waiting as if unreachable");
      continue;
    }
    const outcome = await deps.starts.push({ commandId: q.command_id, vehicleId: session.vehicleId });
    if (!outcome.started) continue;
    session.logger.info(fields, "queued command delivered");
    launch(deps, session, outcome.row, faults, outcome.row.correlation_id);
  }
}
