import { useCallback, useEffect, useId, useState } from "react";
import type { Vehicle } from "@sovd/proto";
import { useApi } from "../api/api-context.js";
import { DataTable } from "../components/data-table.js";
import { Pager } from "../components/pager.js";
import { RelativeTime } from "../components/relative-time.js";
import { ConnectionBadge } from "../components/status-badge.js";
import { isOnline } from "../lib/labels.js";
import { hrefs } from "../lib/router.js";
import { toDate } from "../lib/time.js";
import { usePaged } from "../lib/use-paged.js";
import { permissionsOf, useUser } from "../session/session-context.js";
import { useVehicleEvents, type FeedState } from "./use-vehicle-events.js";

/** Vehicles per page: enough to scan, few enough to render instantly on a tablet. */
export const FLEET_PAGE_SIZE = 25;

const FEED_TEXT: Record<FeedState, string> = {
  connecting: "Connecting to live updates…",
  live: "Live",
  reconnecting: "Live updates interrupted, reconnecting…",
  stopped: "Live updates stopped",
};

/**
 * The fleet: a page of vehicles with VIN, model, online/offline and when they were last
 * seen, searchable by VIN, kept current by WatchVehicles. Paged, so a fleet of thousands
 * renders one page at a time.
 */
export function FleetPage() {
  const api = useApi();
  const user = useUser();
  const { canSubmit } = permissionsOf(user.role);
  const searchId = useId();
  const [search, setSearch] = useState("");
  const [query, setQuery] = useState("");

  useEffect(() => {
    const timer = setTimeout(() => setQuery(search.trim()), 250);
    return () => clearTimeout(timer);
  }, [search]);

  const load = useCallback(
    async (pageToken: string, signal: AbortSignal) => {
      const res = await api.vehicles.listVehicles({ pageSize: FLEET_PAGE_SIZE, pageToken, query }, { signal });
      return { items: res.vehicles, nextPageToken: res.nextPageToken };
    },
    [api, query],
  );
  const paged = usePaged<Vehicle>(query, load);
  const { patch, reload } = paged;

  const feed = useVehicleEvents(
    useCallback((vehicle: Vehicle) => patch((items) => items.map((v) => (v.vehicleId === vehicle.vehicleId ? vehicle : v))), [patch]),
    reload,
  );

  return (
    <section className="page">
      <header className="page-header">
        <h1>Fleet</h1>
        <span className={`stream stream-${feed === "live" ? "live" : "reconnecting"}`} role="status">
          {FEED_TEXT[feed]}
        </span>
      </header>
      <form className="toolbar" role="search" onSubmit={(e) => e.preventDefault()}>
        <div className="field">
          <label htmlFor={searchId}>Search by VIN</label>
          <input id={searchId} type="search" value={search} onChange={(e) => setSearch(e.target.value)} placeholder="e.g. WVW" autoComplete="off" spellCheck={false} />
        </div>
      </form>

      <DataTable
        caption={`Vehicles${query ? ` matching ${query}` : ""}`}
        columns={["VIN", "Vehicle", "Connection", "Last seen", <span className="sr-only">Actions</span>]}
        list={paged}
        empty={query ? `No vehicle matches “${query}”.` : "No vehicles yet."}
      >
        {paged.items.map((v) => {
          const online = isOnline(v.connectionStatus);
          const lastSeen = toDate(v.lastSeenAt);
          return (
            <tr key={v.vehicleId} data-vehicle-id={v.vehicleId}>
              <td>
                <code>{v.vin}</code>
              </td>
              <td>
                {v.make} {v.model} {v.year ? <span className="muted">{v.year}</span> : null}
              </td>
              <td>
                <ConnectionBadge online={online} />
              </td>
              <td>
                {online ? (
                  "now"
                ) : lastSeen ? (
                  <RelativeTime date={lastSeen} />
                ) : (
                  <span className="muted">never</span>
                )}
              </td>
              <td>
                <div className="row-actions">
                  {canSubmit ? (
                    <a className="btn btn-small" href={hrefs.run(v.vehicleId)} aria-label={`Run a command on ${v.vin}`}>
                      Run command
                    </a>
                  ) : null}
                  <a className="btn btn-small" href={hrefs.history(new URLSearchParams({ vin: v.vin }))} aria-label={`History of ${v.vin}`}>
                    History
                  </a>
                </div>
              </td>
            </tr>
          );
        })}
      </DataTable>
      <Pager label="Fleet pages" page={paged.page} hasPrevious={paged.hasPrevious} hasNext={paged.hasNext} onPrevious={paged.previous} onNext={paged.next} />
    </section>
  );
}
