import { useEffect, useId, useRef, useState } from "react";
import type { Vehicle } from "@sovd/proto";
import { useApi } from "../api/api-context.js";
import { describeRpcError } from "../api/errors.js";
import { fetchVehicle } from "../api/use-vehicle.js";

const MATCHES = 20;

/**
 * Picks the vehicle to send a command to: type the start of a VIN (or make/model), choose
 * from the first matches. Works the same with two vehicles or thousands, since only a page
 * of matches is asked for (ListVehicles `query`).
 */
export function VehiclePicker({ vehicleId, onChange }: { vehicleId: string | undefined; onChange: (vehicle: Vehicle | undefined) => void }) {
  const api = useApi();
  const id = useId();
  const [query, setQuery] = useState("");
  const [matches, setMatches] = useState<readonly Vehicle[]>([]);
  const [selected, setSelected] = useState<Vehicle | undefined>(undefined);
  const [error, setError] = useState<string | undefined>(undefined);

  // A vehicle given from outside (the URL) is loaded once; later choices made here win.
  const loadedFor = useRef<string | undefined>(undefined);
  useEffect(() => {
    if (!vehicleId || loadedFor.current === vehicleId) return;
    let live = true;
    void fetchVehicle(api, vehicleId).then((v) => {
      if (!live) return;
      loadedFor.current = vehicleId;
      setSelected(v);
      onChange(v);
    });
    return () => {
      live = false;
    };
  }, [api, vehicleId, onChange]);

  useEffect(() => {
    const controller = new AbortController();
    const timer = setTimeout(() => {
      api.vehicles.listVehicles({ query: query.trim(), pageSize: MATCHES }, { signal: controller.signal }).then(
        (res) => {
          setMatches(res.vehicles);
          setError(undefined);
        },
        (err: unknown) => {
          if (!controller.signal.aborted) setError(describeRpcError(err));
        },
      );
    }, 200);
    return () => {
      clearTimeout(timer);
      controller.abort();
    };
  }, [api, query]);

  const options = selected && !matches.some((v) => v.vehicleId === selected.vehicleId) ? [selected, ...matches] : matches;

  return (
    <div className="vehicle-picker">
      <div className="field">
        <label htmlFor={`${id}-search`}>Find vehicle</label>
        <input id={`${id}-search`} type="search" placeholder="VIN, make or model" value={query} onChange={(e) => setQuery(e.target.value)} autoComplete="off" />
      </div>
      <div className="field">
        <label htmlFor={`${id}-vehicle`}>Vehicle</label>
        <select
          id={`${id}-vehicle`}
          value={selected?.vehicleId ?? ""}
          onChange={(e) => {
            const v = options.find((o) => o.vehicleId === e.target.value);
            setSelected(v);
            onChange(v);
          }}
        >
          <option value="" disabled>
            {options.length ? "Choose a vehicle…" : "No matching vehicles"}
          </option>
          {options.map((v) => (
            <option key={v.vehicleId} value={v.vehicleId}>
              {v.vin} · {v.make} {v.model}
            </option>
          ))}
        </select>
        {error ? <p className="field-error">{error}</p> : null}
      </div>
    </div>
  );
}
