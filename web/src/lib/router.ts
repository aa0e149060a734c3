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
  | { readonly name: "history"; readonly params: URLSearchParams }
  | { readonly name: "audit" }
  | { readonly name: "not-found"; readonly path: string };

/** Parses a location hash (`#/commands/abc`) into a Route. */
export function parseRoute(hash: string): Route {
  const raw = hash.replace(/^#/, "") || "/fleet";
  const [path = "/fleet", query = ""] = raw.split("?", 2);
  const params = new URLSearchParams(query);
  const parts = path.split("/").filter(Boolean).map(decodeURIComponent);
  switch (parts[0]) {
    case undefined:
    case "fleet":
      return { name: "fleet" };
    case "run":
      return { name: "run", vehicleId: params.get("vehicle") ?? undefined, command: params.get("command") ?? undefined };
    case "commands":
      return parts[1] ? { name: "command", commandId: parts[1] } : { name: "history", params };
    case "history":
      return { name: "history", params };
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
  audit: (): string => "#/audit",
};

/** Goes to a screen (adds a browser history entry). */
export function navigate(href: string): void {
  window.location.hash = href.replace(/^#/, "");
}

/** The current route, following hash changes. */
export function useRoute(): Route {
  const [hash, setHash] = useState(() => window.location.hash);
  useEffect(() => {
    const onChange = (): void => setHash(window.location.hash);
    window.addEventListener("hashchange", onChange);
    return () => window.removeEventListener("hashchange", onChange);
  }, []);
  return parseRoute(hash);
}
