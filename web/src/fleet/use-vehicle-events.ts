import { useEffect, useRef, useState } from "react";
import { Code, ConnectError } from "@connectrpc/connect";
import type { Vehicle } from "@sovd/proto";
import { useApi } from "../api/api-context.js";
import { reconnectDelay, sleep } from "../lib/backoff.js";

/** The state of the live fleet feed, for a small indicator. */
export type FeedState = "connecting" | "live" | "reconnecting" | "stopped";

/** A stream that lived this long was healthy: the next break starts the backoff over. */
const HEALTHY_MS = 10_000;

/**
 * Follows WatchVehicles: calls `onVehicle` with each vehicle whose connection changed. The
 * stream is long-lived; when it ends or breaks (gateway restart, network change) it is
 * opened again with exponential backoff, and `onResumed` is called so the page can reload
 * what changed while it was away. Stops for good on `unauthenticated`/`permission_denied`.
 */
export function useVehicleEvents(onVehicle: (vehicle: Vehicle) => void, onResumed: () => void): FeedState {
  const api = useApi();
  const [state, setState] = useState<FeedState>("connecting");
  const handlers = useRef({ onVehicle, onResumed });
  handlers.current = { onVehicle, onResumed };

  useEffect(() => {
    const controller = new AbortController();
    const { signal } = controller;
    const run = async (): Promise<void> => {
      let attempt = 0;
      let resumed = false;
      while (!signal.aborted) {
        const started = Date.now();
        try {
          const events = api.vehicles.watchVehicles({}, { signal });
          setState("live");
          if (resumed) handlers.current.onResumed();
          for await (const event of events) {
            if (event.vehicle) handlers.current.onVehicle(event.vehicle);
          }
        } catch (err) {
          if (signal.aborted) return;
          const code = ConnectError.from(err).code;
          if (code === Code.Unauthenticated || code === Code.PermissionDenied) {
            setState("stopped");
            return;
          }
        }
        if (signal.aborted) return;
        if (Date.now() - started > HEALTHY_MS) attempt = 0;
        setState("reconnecting");
        resumed = true;
        try {
          await sleep(reconnectDelay(attempt++), signal);
        } catch {
          return;
        }
      }
    };
    void run();
    return () => controller.abort();
  }, [api]);

  return state;
}
