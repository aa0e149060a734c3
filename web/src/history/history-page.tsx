import { useCallback, useId, useState, type FormEvent } from "react";
import { CommandStatus, type Command } from "@sovd/proto";
import { useApi } from "../api/api-context.js";
import { UserFacingError } from "../api/errors.js";
import { useVehicle } from "../api/use-vehicle.js";
import { DataTable } from "../components/data-table.js";
import { Pager } from "../components/pager.js";
import { RelativeTime } from "../components/relative-time.js";
import { StatusBadge } from "../components/status-badge.js";
import { STATUS_FILTERS } from "../lib/labels.js";
import { hrefs, navigate } from "../lib/router.js";
import { formatDuration, timestampInit, timestampMs, toDate } from "../lib/time.js";
import { usePaged } from "../lib/use-paged.js";
import { useCommandTypes } from "../commands/use-command-types.js";

/** Commands per history page. */
export const HISTORY_PAGE_SIZE = 25;

/** The filters of the history, as kept in the URL (`#/history?vin=…&status=failed`). */
interface Filters {
  readonly vin: string;
  readonly status: string;
  readonly command: string;
  readonly from: string;
  readonly to: string;
}

const readFilters = (params: URLSearchParams): Filters => ({
  vin: params.get("vin") ?? "",
  status: params.get("status") ?? "",
  command: params.get("command") ?? "",
  from: params.get("from") ?? "",
  to: params.get("to") ?? "",
});

/** Thrown when the VIN filter names no vehicle; shown instead of an empty list. */
class UnknownVinError extends UserFacingError {
  override readonly name = "UnknownVinError";
}

/**
 * The command history, newest first (ListCommands), filtered by vehicle, status, command and
 * time range, paged. The filters live in the URL, so a filtered view can be shared and
 * survives a reload. Each row opens the command with its stored chunks.
 */
export function HistoryPage({ params }: { params: URLSearchParams }) {
  const api = useApi();
  const types = useCommandTypes();
  const formId = useId();
  const filters = readFilters(params);
  const key = params.toString();
  const [draft, setDraft] = useState<Filters>(filters);
  const [draftKey, setDraftKey] = useState(key);
  if (draftKey !== key) {
    setDraftKey(key);
    setDraft(filters);
  }

  const load = useCallback(
    async (pageToken: string, signal: AbortSignal) => {
      let vehicleId = "";
      if (filters.vin) {
        const found = await api.vehicles.listVehicles({ query: filters.vin, pageSize: 5 }, { signal });
        const vehicle = found.vehicles.find((v) => v.vin.toLowerCase() === filters.vin.toLowerCase()) ?? (found.vehicles.length === 1 ? found.vehicles[0] : undefined);
        if (!vehicle) throw new UnknownVinError(`No vehicle has the VIN “${filters.vin}”.`);
        vehicleId = vehicle.vehicleId;
      }
      const status = STATUS_FILTERS.find((s) => s.key === filters.status)?.status ?? CommandStatus.UNSPECIFIED;
      const from = filters.from ? new Date(filters.from).getTime() : NaN;
      const to = filters.to ? new Date(filters.to).getTime() : NaN;
      const res = await api.commands.listCommands(
        {
          vehicleId,
          status,
          commandName: filters.command,
          pageSize: HISTORY_PAGE_SIZE,
          pageToken,
          ...(Number.isNaN(from) ? {} : { submittedAfter: timestampInit(from) }),
          ...(Number.isNaN(to) ? {} : { submittedBefore: timestampInit(to) }),
        },
        { signal },
      );
      return { items: res.commands, nextPageToken: res.nextPageToken };
    },
    // `filters` is derived from `key`, so `key` stands for it here.
    [api, key],
  );
  const paged = usePaged<Command>(key, load);

  const apply = (event: FormEvent): void => {
    event.preventDefault();
    const next = new URLSearchParams();
    for (const [k, v] of Object.entries(draft)) if (v.trim()) next.set(k, v.trim());
    navigate(hrefs.history(next));
  };
  const set = (field: keyof Filters) => (e: { target: { value: string } }) => setDraft((d) => ({ ...d, [field]: e.target.value }));

  return (
    <section className="page">
      <header className="page-header">
        <h1>History</h1>
        <button type="button" className="btn" onClick={paged.reload}>
          Refresh
        </button>
      </header>
      <form className="toolbar filters" onSubmit={apply} aria-label="Filter commands">
        <div className="field">
          <label htmlFor={`${formId}-vin`}>Vehicle VIN</label>
          <input id={`${formId}-vin`} type="search" value={draft.vin} onChange={set("vin")} autoComplete="off" spellCheck={false} />
        </div>
        <div className="field">
          <label htmlFor={`${formId}-status`}>Status</label>
          <select id={`${formId}-status`} value={draft.status} onChange={set("status")}>
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
          <select id={`${formId}-command`} value={draft.command} onChange={set("command")}>
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
          <input id={`${formId}-from`} type="datetime-local" value={draft.from} onChange={set("from")} />
        </div>
        <div className="field field-date">
          <label htmlFor={`${formId}-to`}>Submitted before</label>
          <input id={`${formId}-to`} type="datetime-local" value={draft.to} onChange={set("to")} />
        </div>
        <div className="actions">
          <button type="submit" className="btn btn-primary">
            Apply filters
          </button>
          <a className="btn" href={hrefs.history()}>
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
