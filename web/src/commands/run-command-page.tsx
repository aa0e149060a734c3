import { useState } from "react";
import type { Vehicle } from "@sovd/proto";
import { ConnectionBadge } from "../components/status-badge.js";
import { isOnline, roleLabel } from "../lib/labels.js";
import { formatRelative } from "../lib/relative-time.js";
import { hrefs, navigate } from "../lib/router.js";
import { toDate } from "../lib/time.js";
import { useNow } from "../lib/use-now.js";
import { permissionsOf, useUser } from "../session/session-context.js";
import { CommandForm } from "./command-form.js";
import { useCommandTypes } from "./use-command-types.js";
import { VehiclePicker } from "./vehicle-picker.js";

/** Pick a vehicle and a command, fill in the form, send, and go to the live view. */
export function RunCommandPage({ vehicleId, command }: { vehicleId: string | undefined; command: string | undefined }) {
  const user = useUser();
  const { canSubmit } = permissionsOf(user.role);
  const types = useCommandTypes();
  const [vehicle, setVehicle] = useState<Vehicle | undefined>(undefined);
  const now = useNow();
  const lastSeen = toDate(vehicle?.lastSeenAt);

  return (
    <section className="page">
      <h1>Run a command</h1>
      {!canSubmit ? (
        <p className="alert alert-info">You are signed in as a {roleLabel(user.role)}: you can see the commands and their parameters, but not send them.</p>
      ) : null}
      <div className="grid-2">
        <section className="card" aria-labelledby="vehicle-heading">
          <h2 id="vehicle-heading">Vehicle</h2>
          <VehiclePicker vehicleId={vehicleId} onChange={setVehicle} />
          {vehicle ? (
            <p className="vehicle-summary">
              <ConnectionBadge online={isOnline(vehicle.connectionStatus)} /> {vehicle.make} {vehicle.model} {vehicle.year || ""}
              {lastSeen ? <span className="muted"> · last seen {formatRelative(lastSeen, now)}</span> : null}
            </p>
          ) : null}
        </section>
        <section className="card" aria-labelledby="command-heading">
          <h2 id="command-heading">Command</h2>
          {types.error ? (
            <p role="alert" className="alert alert-bad">
              {types.error}
            </p>
          ) : types.data ? (
            <CommandForm
              key={command ?? ""}
              types={types.data}
              vehicleId={vehicle?.vehicleId}
              vehicleLabel={vehicle?.vin}
              initialCommand={command}
              canSubmit={canSubmit}
              onSubmitted={(c) => navigate(hrefs.command(c.commandId))}
            />
          ) : (
            <p className="muted">Loading commands…</p>
          )}
        </section>
      </div>
    </section>
  );
}
