import { useEffect, useState } from "react";
import type { CommandType } from "@sovd/proto";
import type { Api } from "../api/api.js";
import { useApi } from "../api/api-context.js";
import { describeRpcError } from "../api/errors.js";

const catalogs = new WeakMap<Api, Promise<readonly CommandType[]>>();

/**
 * The command catalog (ListCommandTypes), asked once per app: it changes only with a
 * deployment. A failed load is retried on the next use.
 */
export function useCommandTypes(): { data: readonly CommandType[] | undefined; error: string | undefined } {
  const api = useApi();
  const [state, setState] = useState<{ data: readonly CommandType[] | undefined; error: string | undefined }>({ data: undefined, error: undefined });
  useEffect(() => {
    let live = true;
    let catalog = catalogs.get(api);
    if (!catalog) {
      catalog = api.commands.listCommandTypes({}).then((res) => res.commandTypes);
      catalogs.set(api, catalog);
      catalog.catch(() => catalogs.delete(api));
    }
    catalog.then(
      (data) => live && setState({ data, error: undefined }),
      (err: unknown) => live && setState({ data: undefined, error: describeRpcError(err) }),
    );
    return () => {
      live = false;
    };
  }, [api]);
  return state;
}
