import { useEffect, useState } from "react";

/**
 * The screens of the app. Routing uses the URL fragment (`#/history?status=failed`) so any
 * static file server, the gateway included, serves every deep link without a fallback rule,
 * and a reload or a shared link opens the same screen.
 */
export type Route =
  | { readonly name: "fleet" }
  | { readonly name: "run"; readonly vehicleId: string | undefined; readonly command: string | undefined }
  | { readonly name: "command"; readonly commandId: string }
  | { readonly name: "history" }
  | { readonly name: "audit" }
  | { readonly name: "not-found"; readonly path: string };

/** Splits a location hash (`#/history?status=failed`) into its path and its query. */
function splitHash(hash: string): { path: string; params: URLSearchParams } {
  const raw = hash.replace(/^#/, "") || "/fleet";
  const [path = "/fleet", query = ""] = raw.split("?", 2);
  return { path, params: new URLSearchParams(query) };
}

/** Parses a location hash (`#/commands/abc`) into a Route. */
export function parseRoute(hash: string): Route {
  const { path, params } = splitHash(hash);
  const parts = path.split("/").filter(Boolean).map(decodeURIComponent);
  switch (parts[0]) {
    case undefined:
    case "fleet":
      return { name: "fleet" };
    case "run":
      return { name: "run", vehicleId: params.get("vehicle") ?? undefined, command: params.get("command") ?? undefined };
    case "commands":
      return parts[1] ? { name: "command", commandId: parts[1] } : { name: "history" };
    case "history":
      return { name: "history" };
    case "audit":
      return { name: "audit" };
    default:
      return { name: "not-found", path };
  }
}

/** The href of a screen, for links. */
export const hrefs = {
  fleet: (): string => "#/fleet",
  run: (vehicleId?: string, command?: string): string => {
    const q = new URLSearchParams();
    if (vehicleId) q.set("vehicle", vehicleId);
    if (command) q.set("command", command);
    const s = q.toString();
    return s ? `#/run?${s}` : "#/run";
  },
  command: (commandId: string): string => `#/commands/${encodeURIComponent(commandId)}`,
  history: (params?: URLSearchParams): string => {
    const s = params?.toString() ?? "";
    return s ? `#/history?${s}` : "#/history";
  },
  audit: (params?: URLSearchParams): string => {
    const s = params?.toString() ?? "";
    return s ? `#/audit?${s}` : "#/audit";
  },
};

/** Goes to a screen (adds a browser history entry). */
export function navigate(href: string): void {
  window.location.hash = href.replace(/^#/, "");
}

/** The location hash, following changes (links, Back and Forward, `navigate`). */
function useHash(): string {
  const [hash, setHash] = useState(() => window.location.hash);
  useEffect(() => {
    const onChange = (): void => setHash(window.location.hash);
    window.addEventListener("hashchange", onChange);
    return () => window.removeEventListener("hashchange", onChange);
  }, []);
  return hash;
}

/** The current route, following hash changes. */
export function useRoute(): Route {
  return parseRoute(useHash());
}

/**
 * The query of the current URL (`#/history?status=failed` gives `status=failed`), following
 * hash changes: for a screen that keeps its state in the URL, so reload and Back restore it.
 */
export function useRouteQuery(): URLSearchParams {
  return splitHash(useHash()).params;
}
