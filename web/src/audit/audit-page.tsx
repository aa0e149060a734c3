import { useId } from "react";
import type { AuditLog } from "@sovd/proto";
import type { Api } from "../api/api.js";
import { useApi } from "../api/api-context.js";
import { DataTable } from "../components/data-table.js";
import { Pager } from "../components/pager.js";
import { hrefs } from "../lib/router.js";
import { formatDateTime, toDate } from "../lib/time.js";
import { usePaged, type Page } from "../lib/use-paged.js";
import { resolveVehicleTime, useUrlFilters, type VehicleTimeFilters } from "../lib/use-url-filters.js";
import { permissionsOf, useUser } from "../session/session-context.js";

/** Audit entries per page. */
const AUDIT_PAGE_SIZE = 50;

/** Actions the services write, offered as suggestions; any text may be typed. */
const KNOWN_ACTIONS = ["user_login", "user_logout", "login_failed", "command_submitted", "command_completed", "command_failed", "command_timeout", "command_cancelled"];

/** The filters of the audit log, as kept in the URL (`#/audit?action=command_failed`). */
interface AuditFilters extends VehicleTimeFilters {
  readonly action: string;
  readonly userId: string;
  readonly commandId: string;
}

const NO_FILTERS: AuditFilters = { action: "", userId: "", vin: "", commandId: "", from: "", to: "" };

/** One page of ListAuditLogs under the audit log's filters. */
async function listAuditPage(api: Api, filters: AuditFilters, pageToken: string, signal: AbortSignal): Promise<Page<AuditLog>> {
  const scope = await resolveVehicleTime(api, filters, signal);
  const res = await api.audit.listAuditLogs(
    {
      action: filters.action,
      userId: filters.userId,
      vehicleId: scope.vehicleId,
      commandId: filters.commandId,
      pageSize: AUDIT_PAGE_SIZE,
      pageToken,
      createdAfter: scope.after,
      createdBefore: scope.before,
    },
    { signal },
  );
  return { items: res.auditLogs, nextPageToken: res.nextPageToken };
}

/**
 * The audit trail for admins (AuditService.ListAuditLogs): who did what to which vehicle
 * and command, from where, with the request id to find the log lines; filtered and paged,
 * with the filters in the URL like the history's. Other roles see a notice instead (the
 * gateway refuses them anyway).
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
  const filters = useUrlFilters(NO_FILTERS, hrefs.audit);
  const { draft, edit } = filters;
  const paged = usePaged<AuditLog>(filters.key, (pageToken, signal) => listAuditPage(api, filters.applied, pageToken, signal));

  return (
    <section className="page">
      <header className="page-header">
        <h1>Audit log</h1>
        <button type="button" className="btn" onClick={paged.reload}>
          Refresh
        </button>
      </header>
      <form className="toolbar filters" onSubmit={filters.apply} aria-label="Filter audit log">
        <div className="field">
          <label htmlFor={`${formId}-action`}>Action</label>
          <input id={`${formId}-action`} list={`${formId}-actions`} value={draft.action} onChange={edit("action")} autoComplete="off" />
          <datalist id={`${formId}-actions`}>
            {KNOWN_ACTIONS.map((a) => (
              <option key={a} value={a} />
            ))}
          </datalist>
        </div>
        <div className="field">
          <label htmlFor={`${formId}-user`}>User id</label>
          <input id={`${formId}-user`} value={draft.userId} onChange={edit("userId")} autoComplete="off" spellCheck={false} />
        </div>
        <div className="field">
          <label htmlFor={`${formId}-vin`}>Vehicle VIN</label>
          <input id={`${formId}-vin`} value={draft.vin} onChange={edit("vin")} autoComplete="off" spellCheck={false} />
        </div>
        <div className="field">
          <label htmlFor={`${formId}-command`}>Command id</label>
          <input id={`${formId}-command`} value={draft.commandId} onChange={edit("commandId")} autoComplete="off" spellCheck={false} />
        </div>
        <div className="field field-date">
          <label htmlFor={`${formId}-from`}>After</label>
          <input id={`${formId}-from`} type="datetime-local" value={draft.from} onChange={edit("from")} />
        </div>
        <div className="field field-date">
          <label htmlFor={`${formId}-to`}>Before</label>
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

      <DataTable
        caption="Audit entries, newest first"
        columns={["Time", "Action", "User", "Command", "From", "Details"]}
        list={paged}
        empty="No audit entries match these filters."
        className="audit-table"
      >
        {paged.items.map((entry) => (
          <AuditRow key={entry.auditId} entry={entry} />
        ))}
      </DataTable>
      <Pager label="Audit pages" page={paged.page} hasPrevious={paged.hasPrevious} hasNext={paged.hasNext} onPrevious={paged.previous} onNext={paged.next} />
    </section>
  );
}

function AuditRow({ entry }: { entry: AuditLog }) {
  const at = toDate(entry.createdAt);
  const details = entry.details && Object.keys(entry.details).length > 0 ? JSON.stringify(entry.details, null, 2) : "";
  return (
    <tr>
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
}
