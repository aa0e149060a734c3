import { useEffect, useState } from "react";
import type { Vehicle } from "@sovd/proto";
import type { Api } from "./api.js";
import { useApi } from "./api-context.js";

const TTL_MS = 30_000;
const caches = new WeakMap<Api, Map<string, { at: number; vehicle: Promise<Vehicle | undefined> }>>();

/**
 * A vehicle by id (GetVehicle), shared between the rows of a page for half a minute so a
 * history page of 50 commands on 3 vehicles asks 3 times, not 50.
 */
export function fetchVehicle(api: Api, vehicleId: string): Promise<Vehicle | undefined> {
  let cache = caches.get(api);
  if (!cache) {
    cache = new Map();
    caches.set(api, cache);
  }
  const hit = cache.get(vehicleId);
  if (hit && Date.now() - hit.at < TTL_MS) return hit.vehicle;
  const vehicle = api.vehicles.getVehicle({ vehicleId }).then(
    (res) => res.vehicle,
    () => {
      cache.delete(vehicleId);
      return undefined;
    },
  );
  cache.set(vehicleId, { at: Date.now(), vehicle });
  return vehicle;
}

/** The vehicle with this id, undefined while loading or when it cannot be read. */
export function useVehicle(vehicleId: string | undefined): Vehicle | undefined {
  const api = useApi();
  const [vehicle, setVehicle] = useState<Vehicle | undefined>(undefined);
  useEffect(() => {
    let live = true;
    setVehicle(undefined);
    if (vehicleId) {
      void fetchVehicle(api, vehicleId).then((v) => {
        if (live) setVehicle(v);
      });
    }
    return () => {
      live = false;
    };
  }, [api, vehicleId]);
  return vehicle;
}
