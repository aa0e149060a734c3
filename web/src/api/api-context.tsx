import { createContext, useContext, type ReactNode } from "react";
import type { Api } from "./api.js";

const ApiContext = createContext<Api | undefined>(undefined);

/** Makes the service clients available to every component below. */
export function ApiProvider({ api, children }: { api: Api; children: ReactNode }) {
  return <ApiContext.Provider value={api}>{children}</ApiContext.Provider>;
}

/** The service clients; throws when used outside an ApiProvider (a wiring bug). */
export function useApi(): Api {
  const api = useContext(ApiContext);
  if (!api) throw new Error("useApi outside ApiProvider");
  return api;
}
