import type { CommandStatus } from "@sovd/proto";
import { STATUS_LABELS } from "../lib/labels.js";

/** A command status as a coloured badge with its name (colour is never the only cue). */
export function StatusBadge({ status }: { status: CommandStatus }) {
  const { text, tone } = STATUS_LABELS[status];
  return (
    <span className={`badge badge-${tone}`} data-status={text.toLowerCase().replace(" ", "_")}>
      {text}
    </span>
  );
}

/** Online/offline of a vehicle as a badge. */
export function ConnectionBadge({ online }: { online: boolean }) {
  return <span className={`badge ${online ? "badge-ok" : "badge-neutral"}`}>{online ? "Online" : "Offline"}</span>;
}
