import { useId } from "react";
import { CommandStatus, type Command } from "@sovd/proto";
import type { Api } from "../api/api.js";
import { useApi } from "../api/api-context.js";
import { useVehicle } from "../api/use-vehicle.js";
import { DataTable } from "../components/data-table.js";
import { Pager } from "../components/pager.js";
import { RelativeTime } from "../components/relative-time.js";
import { StatusBadge } from "../components/status-badge.js";
import { STATUS_FILTERS } from "../lib/labels.js";
import { hrefs } from "../lib/router.js";
import { formatDuration, timestampMs, toDate } from "../lib/time.js";
import { usePaged, type Page } from "../lib/use-paged.js";
import { resolveVehicleTime, useUrlFilters, type VehicleTimeFilters } from "../lib/use-url-filters.js";
import { useCommandTypes } from "../commands/use-command-types.js";

/** Commands per history page. */
const HISTORY_PAGE_SIZE = 25;

/** The filters of the history, as kept in the URL (`#/history?vin=…&status=failed`). */
interface HistoryFilters extends VehicleTimeFilters {
  /** A key of STATUS_FILTERS, "" for any status. */
  readonly status: string;
  /** A command name of the catalog, "" for any command. */
  readonly command: string;
}

const NO_FILTERS: HistoryFilters = { vin: "", status: "", command: "", from: "", to: "" };

/** One page of ListCommands under the history's filters. */
async function listHistoryPage(api: Api, filters: HistoryFilters, pageToken: string, signal: AbortSignal): Promise<Page<Command>> {
  const scope = await resolveVehicleTime(api, filters, signal);
  const res = await api.commands.listCommands(
    {
      vehicleId: scope.vehicleId,
      status: STATUS_FILTERS.find((s) => s.key === filters.status)?.status ?? CommandStatus.UNSPECIFIED,
      commandName: filters.command,
      pageSize: HISTORY_PAGE_SIZE,
      pageToken,
      submittedAfter: scope.after,
      submittedBefore: scope.before,
    },
    { signal },
  );
  return { items: res.commands, nextPageToken: res.nextPageToken };
}

/**
 * The command history, newest first (ListCommands), filtered by vehicle, status, command and
 * time range, paged. The filters live in the URL, so a filtered view can be shared and
 * survives a reload. Each row opens the command with its stored chunks.
 */
export function HistoryPage() {
  const api = useApi();
  const types = useCommandTypes();
  const formId = useId();
  const filters = useUrlFilters(NO_FILTERS, hrefs.history);
  const { draft, edit } = filters;
  const paged = usePaged<Command>(filters.key, (pageToken, signal) => listHistoryPage(api, filters.applied, pageToken, signal));

  return (
    <section className="page">
      <header className="page-header">
        <h1>History</h1>
        <button type="button" className="btn" onClick={paged.reload}>
          Refresh
        </button>
      </header>
      <form className="toolbar filters" onSubmit={filters.apply} aria-label="Filter commands">
        <div className="field">
          <label htmlFor={`${formId}-vin`}>Vehicle VIN</label>
          <input id={`${formId}-vin`} type="search" value={draft.vin} onChange={edit("vin")} autoComplete="off" spellCheck={false} />
        </div>
        <div className="field">
          <label htmlFor={`${formId}-status`}>Status</label>
          <select id={`${formId}-status`} value={draft.status} onChange={edit("status")}>
            <option value="">Any</option>
            {STATUS_FILTERS.map((s) => (
              <option key={s.key} value={s.key}>
                {s.key.replace("_", " ")}
              </option>
            ))}
          </select>
        </div>
        <div className="field">
          <label htmlFor={`${formId}-command`}>Command</label>
          <select id={`${formId}-command`} value={draft.command} onChange={edit("command")}>
            <option value="">Any</option>
            {(types.data ?? []).map((t) => (
              <option key={t.name} value={t.name}>
                {t.name}
              </option>
            ))}
          </select>
        </div>
        <div className="field field-date">
          <label htmlFor={`${formId}-from`}>Submitted after</label>
          <input id={`${formId}-from`} type="datetime-local" value={draft.from} onChange={edit("from")} />
        </div>
        <div className="field field-date">
          <label htmlFor={`${formId}-to`}>Submitted before</label>
          <input id={`${formId}-to`} type="datetime-local" value={draft.to} onChange={edit("to")} />
        </div>
        <div className="actions">
          <button type="submit" className="btn btn-primary">
            Apply filters
          </button>
          <a className="btn" href={filters.clearHref}>
            Clear
          </a>
        </div>
      </form>

      <DataTable caption="Commands, newest first" columns={["Submitted", "Command", "Vehicle", "Status", "Took"]} list={paged} empty="No commands match these filters.">
        {paged.items.map((c) => (
          <HistoryRow key={c.commandId} command={c} />
        ))}
      </DataTable>
      <Pager label="History pages" page={paged.page} hasPrevious={paged.hasPrevious} hasNext={paged.hasNext} onPrevious={paged.previous} onNext={paged.next} />
    </section>
  );
}

function HistoryRow({ command }: { command: Command }) {
  const vehicle = useVehicle(command.vehicleId);
  const submitted = toDate(command.submittedAt);
  const took = command.completedAt && command.submittedAt ? timestampMs(command.completedAt) - timestampMs(command.submittedAt) : undefined;
  return (
    <tr data-command-id={command.commandId}>
      <td>
        {submitted ? (
          <RelativeTime date={submitted} intervalMs={30_000} />
        ) : (
          "–"
        )}
      </td>
      <td>
        <a href={hrefs.command(command.commandId)}>{command.commandName}</a>
      </td>
      <td>{vehicle ? <code>{vehicle.vin}</code> : <code className="muted">{command.vehicleId.slice(0, 8)}…</code>}</td>
      <td>
        <StatusBadge status={command.status} />
      </td>
      <td>{took === undefined ? "–" : formatDuration(took)}</td>
    </tr>
  );
}
