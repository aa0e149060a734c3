import { Counter, type Registry } from "@sovd/platform";
import type { RateLimitScope } from "./method-rules.js";

/** Why a caller was refused; the `reason` label of auth_failures_total. */
export type AuthFailureReason =
  | "missing_token"
  | "expired_token"
  | "invalid_token"
  | "inactive_user"
  | "bad_credentials"
  | "invalid_refresh_token"
  | "refresh_token_reuse"
  | "invalid_stream_ticket"
  | "permission_denied";

/** The auth counters, on the gateway's registry (architecture §8 "Observability"). */
export interface AuthMetrics {
  failure(reason: AuthFailureReason): void;
  rateLimited(scope: RateLimitScope): void;
}

function counter(registry: Registry, name: string, help: string, label: string): Counter<string> {
  // A second createAuth on the same registry (tests, reloads) reuses the counter instead of throwing.
  const existing = registry.getSingleMetric(name);
  if (existing) return existing as Counter<string>;
  return new Counter({ name, help, labelNames: [label], registers: [registry] });
}

/** Registers (or reuses) the two counters on the gateway registry. */
export function createAuthMetrics(registry: Registry): AuthMetrics {
  const failures = counter(registry, "auth_failures_total", "Refused authentications and authorizations, by reason", "reason");
  const limited = counter(registry, "rate_limited_total", "Calls refused by a rate limit, by scope", "scope");
  return {
    failure: (reason) => failures.inc({ reason }),
    rateLimited: (scope) => limited.inc({ scope }),
  };
}
