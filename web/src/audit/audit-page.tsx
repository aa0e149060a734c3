import { useCallback, useId, useState, type FormEvent } from "react";
import type { AuditLog } from "@sovd/proto";
import { useApi } from "../api/api-context.js";
import { UserFacingError } from "../api/errors.js";
import { DataTable } from "../components/data-table.js";
import { Pager } from "../components/pager.js";
import { hrefs } from "../lib/router.js";
import { formatDateTime, timestampInit, toDate } from "../lib/time.js";
import { usePaged } from "../lib/use-paged.js";
import { permissionsOf, useUser } from "../session/session-context.js";

/** Audit entries per page. */
export const AUDIT_PAGE_SIZE = 50;

/** Actions the system writes (ARCHITECTURE §3), offered as suggestions; any text may be typed. */
const KNOWN_ACTIONS = ["user_login", "user_logout", "login_failed", "command_submitted", "command_completed", "command_failed", "command_timeout", "command_cancelled"];

interface AuditFilters {
  readonly action: string;
  readonly userId: string;
  readonly vin: string;
  readonly commandId: string;
  readonly from: string;
  readonly to: string;
}

const EMPTY: AuditFilters = { action: "", userId: "", vin: "", commandId: "", from: "", to: "" };

/**
 * The audit trail for admins (AuditService.ListAuditLogs): who did what to which vehicle
 * and command, from where, with the request id to find the log lines; filtered and paged.
 * Other roles see a notice instead (the gateway refuses them anyway).
 */
export function AuditPage() {
  const user = useUser();
  if (!permissionsOf(user.role).canReadAudit) {
    return (
      <section className="page">
        <h1>Audit log</h1>
        <p className="alert alert-info">The audit log is for administrators.</p>
      </section>
    );
  }
  return <AuditLogView />;
}

function AuditLogView() {
  const api = useApi();
  const formId = useId();
  const [draft, setDraft] = useState<AuditFilters>(EMPTY);
  const [filters, setFilters] = useState<AuditFilters>(EMPTY);
  const key = JSON.stringify(filters);

  const load = useCallback(
    async (pageToken: string, signal: AbortSignal) => {
      let vehicleId = "";
      if (filters.vin) {
        const found = await api.vehicles.listVehicles({ query: filters.vin, pageSize: 5 }, { signal });
        const vehicle = found.vehicles.find((v) => v.vin.toLowerCase() === filters.vin.toLowerCase()) ?? (found.vehicles.length === 1 ? found.vehicles[0] : undefined);
        if (!vehicle) throw new UserFacingError(`No vehicle has the VIN “${filters.vin}”.`);
        vehicleId = vehicle.vehicleId;
      }
      const from = filters.from ? new Date(filters.from).getTime() : NaN;
      const to = filters.to ? new Date(filters.to).getTime() : NaN;
      const res = await api.audit.listAuditLogs(
        {
          action: filters.action,
          userId: filters.userId,
          vehicleId,
          commandId: filters.commandId,
          pageSize: AUDIT_PAGE_SIZE,
          pageToken,
          ...(Number.isNaN(from) ? {} : { createdAfter: timestampInit(from) }),
          ...(Number.isNaN(to) ? {} : { createdBefore: timestampInit(to) }),
        },
        { signal },
      );
      return { items: res.auditLogs, nextPageToken: res.nextPageToken };
    },
    [api, filters],
  );
  const paged = usePaged<AuditLog>(key, load);

  const apply = (event: FormEvent): void => {
    event.preventDefault();
    setFilters({
      action: draft.action.trim(),
      userId: draft.userId.trim(),
      vin: draft.vin.trim(),
      commandId: draft.commandId.trim(),
      from: draft.from,
      to: draft.to,
    });
  };
  const set = (field: keyof AuditFilters) => (e: { target: { value: string } }) => setDraft((d) => ({ ...d, [field]: e.target.value }));

  return (
    <section className="page">
      <header className="page-header">
        <h1>Audit log</h1>
        <button type="button" className="btn" onClick={paged.reload}>
          Refresh
        </button>
      </header>
      <form className="toolbar filters" onSubmit={apply} aria-label="Filter audit log">
        <div className="field">
          <label htmlFor={`${formId}-action`}>Action</label>
          <input id={`${formId}-action`} list={`${formId}-actions`} value={draft.action} onChange={set("action")} autoComplete="off" />
          <datalist id={`${formId}-actions`}>
            {KNOWN_ACTIONS.map((a) => (
              <option key={a} value={a} />
            ))}
          </datalist>
        </div>
        <div className="field">
          <label htmlFor={`${formId}-user`}>User id</label>
          <input id={`${formId}-user`} value={draft.userId} onChange={set("userId")} autoComplete="off" spellCheck={false} />
        </div>
        <div className="field">
          <label htmlFor={`${formId}-vin`}>Vehicle VIN</label>
          <input id={`${formId}-vin`} value={draft.vin} onChange={set("vin")} autoComplete="off" spellCheck={false} />
        </div>
        <div className="field">
          <label htmlFor={`${formId}-command`}>Command id</label>
          <input id={`${formId}-command`} value={draft.commandId} onChange={set("commandId")} autoComplete="off" spellCheck={false} />
        </div>
        <div className="field field-date">
          <label htmlFor={`${formId}-from`}>After</label>
          <input id={`${formId}-from`} type="datetime-local" value={draft.from} onChange={set("from")} />
        </div>
        <div className="field field-date">
          <label htmlFor={`${formId}-to`}>Before</label>
          <input id={`${formId}-to`} type="datetime-local" value={draft.to} onChange={set("to")} />
        </div>
        <div className="actions">
          <button type="submit" className="btn btn-primary">
            Apply filters
          </button>
          <button
            type="button"
            className="btn"
            onClick={() => {
              setDraft(EMPTY);
              setFilters(EMPTY);
            }}
          >
            Clear
          </button>
        </div>
      </form>

      <DataTable
        caption="Audit entries, newest first"
        columns={["Time", "Action", "User", "Command", "From", "Details"]}
        list={paged}
        empty="No audit entries match these filters."
        className="audit-table"
      >
        {paged.items.map((entry) => {
          const at = toDate(entry.createdAt);
          const details = entry.details && Object.keys(entry.details).length > 0 ? JSON.stringify(entry.details, null, 2) : "";
          return (
            <tr key={entry.auditId}>
              <td>{at ? <time dateTime={at.toISOString()}>{formatDateTime(at)}</time> : "–"}</td>
              <td>
                <code>{entry.action}</code>
              </td>
              <td>
                <code title={entry.userId}>{entry.userId ? `${entry.userId.slice(0, 8)}…` : "–"}</code>
              </td>
              <td>{entry.commandId ? <a href={hrefs.command(entry.commandId)}>{entry.commandId.slice(0, 8)}…</a> : "–"}</td>
              <td>
                <span title={entry.userAgent}>{entry.ipAddress || "–"}</span>
                {entry.requestId ? (
                  <>
                    <br />
                    <code className="small muted" title="Request id">
                      {entry.requestId}
                    </code>
                  </>
                ) : null}
              </td>
              <td>
                {details ? (
                  <details>
                    <summary>Show</summary>
                    <pre className="json">{details}</pre>
                  </details>
                ) : (
                  "–"
                )}
              </td>
            </tr>
          );
        })}
      </DataTable>
      <Pager label="Audit pages" page={paged.page} hasPrevious={paged.hasPrevious} hasNext={paged.hasNext} onPrevious={paged.previous} onNext={paged.next} />
    </section>
  );
}
