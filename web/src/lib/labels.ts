import { CommandStatus, ConnectionStatus, Role } from "@sovd/proto";

/** Words and CSS tone of each command status, as the status badges show them. */
export const STATUS_LABELS: Readonly<Record<CommandStatus, { readonly text: string; readonly tone: string }>> = {
  [CommandStatus.UNSPECIFIED]: { text: "Unknown", tone: "neutral" },
  [CommandStatus.PENDING]: { text: "Pending", tone: "info" },
  [CommandStatus.QUEUED]: { text: "Queued", tone: "info" },
  [CommandStatus.IN_PROGRESS]: { text: "In progress", tone: "info" },
  [CommandStatus.COMPLETED]: { text: "Completed", tone: "ok" },
  [CommandStatus.FAILED]: { text: "Failed", tone: "bad" },
  [CommandStatus.CANCELLED]: { text: "Cancelled", tone: "warn" },
};

/** The statuses a history filter offers, with their URL spelling (the stored form). */
export const STATUS_FILTERS: readonly { readonly key: string; readonly status: CommandStatus }[] = [
  { key: "pending", status: CommandStatus.PENDING },
  { key: "queued", status: CommandStatus.QUEUED },
  { key: "in_progress", status: CommandStatus.IN_PROGRESS },
  { key: "completed", status: CommandStatus.COMPLETED },
  { key: "failed", status: CommandStatus.FAILED },
  { key: "cancelled", status: CommandStatus.CANCELLED },
];

/** The name of a role as users know it. */
export function roleLabel(role: Role): string {
  switch (role) {
    case Role.ADMIN:
      return "admin";
    case Role.ENGINEER:
      return "engineer";
    case Role.VIEWER:
      return "viewer";
    default:
      return "unknown role";
  }
}

/** True when the vehicle currently holds a session with a connector. */
export const isOnline = (status: ConnectionStatus): boolean => status === ConnectionStatus.ONLINE;
