import type { OutgoingHttpHeaders } from "node:http";

/**
 * Browser hardening for everything the gateway serves (architecture §7 "Gateway HTTP"): a CSP
 * that fits the Vite build (scripts, styles and assets from this origin only, Connect calls
 * and the WebSocket bridge to this host, never framed), no MIME sniffing, no referrer leaks.
 * `host` is the (sanitized) host the request came to.
 */
export function securityHeaders(host: string): OutgoingHttpHeaders {
  const connect = ["'self'", `ws://${host}`, `wss://${host}`].join(" ");
  return {
    "content-security-policy": [
      "default-src 'self'",
      "script-src 'self'",
      "style-src 'self'",
      "img-src 'self' data:",
      "font-src 'self'",
      `connect-src ${connect}`,
      "object-src 'none'",
      "base-uri 'self'",
      "form-action 'self'",
      "frame-ancestors 'none'",
    ].join("; "),
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
    "x-frame-options": "DENY",
    "cross-origin-opener-policy": "same-origin",
  };
}
