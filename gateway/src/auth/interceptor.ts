import { Code, ConnectError, type Interceptor } from "@connectrpc/connect";
import type { Logger } from "@sovd/platform";
import { PermissionDeniedError, toConnectError } from "../rpc/index.js";
import { clientInfoKey, type ClientInfo } from "../request-context.js";
import { InvalidTokenError } from "./access-token.js";
import type { AuthMetrics } from "./auth-metrics.js";
import type { Authenticator } from "./authenticator.js";
import { ruleFor } from "./method-rules.js";
import { principalKey } from "./principal.js";
import { RateLimitedError, type RateLimits } from "./rate-limits.js";
import { hasRole } from "./roles.js";
import { MAX_USERNAME_LENGTH } from "./validate.js";

/** Response header of a rate-limited call: whole seconds until a retry can succeed (RFC 9110). */
const RETRY_AFTER_HEADER = "retry-after";

const BEARER = /^Bearer[ ]+(\S+)\s*$/i;

/** The token of an `authorization: Bearer …` header; undefined when there is no header. */
function bearerToken(header: string | null): string | undefined {
  if (!header) return undefined;
  // Another scheme or a malformed header is not "missing": it fails verification as invalid.
  return BEARER.exec(header)?.[1] ?? header;
}

/** Rate limit key of a public call: logins per username + address, refreshes per address. */
function publicKey(scope: string, message: unknown, client: ClientInfo): string {
  if (scope !== "login") return client.ipAddress;
  const username = (message as { username?: unknown } | undefined)?.username;
  const name = typeof username === "string" ? username.slice(0, MAX_USERNAME_LENGTH).toLowerCase() : "";
  return `${name}|${client.ipAddress}`;
}

/**
 * The auth interceptor (architecture §7 "Gateway HTTP"): every RPC passes here before its
 * handler. Looks the method up in METHOD_RULES, authenticates the Bearer token (not for public
 * methods), checks the role, applies the rate limit of the method's scope (admins exempt;
 * public methods always limited), and leaves the caller under `principalKey`. Refusals:
 * `unauthenticated`, `permission_denied`, `resource_exhausted` + `retry-after`.
 */
export function createAuthInterceptor(deps: {
  authenticator: Authenticator;
  rateLimits: RateLimits;
  metrics: AuthMetrics;
  logger: Logger;
}): Interceptor {
  const refuse = (err: unknown, rpc: string, client: ClientInfo): ConnectError => {
    if (err instanceof InvalidTokenError) return new ConnectError(err.message, Code.Unauthenticated);
    if (err instanceof RateLimitedError) {
      deps.metrics.rateLimited(err.scope);
      deps.logger.info({ rpc, scope: err.scope, requestId: client.requestId }, "rate limited");
      return new ConnectError(err.message, Code.ResourceExhausted, { [RETRY_AFTER_HEADER]: String(err.retryAfterSeconds) });
    }
    return toConnectError(err, deps.logger.child({ rpc, requestId: client.requestId }));
  };

  return (next) => async (req) => {
    const rule = ruleFor(req.method);
    const client = req.contextValues.get(clientInfoKey);
    const rpc = `${req.service.typeName}/${req.method.name}`;
    try {
      if (rule.access === "public") {
        await deps.rateLimits.consume(rule.scope, publicKey(rule.scope, req.stream ? undefined : req.message, client));
      } else {
        const principal = await deps.authenticator.fromAccessToken(bearerToken(req.header.get("authorization")));
        if (!hasRole(principal.role, rule.access)) {
          deps.metrics.failure("permission_denied");
          throw new PermissionDeniedError(`${req.method.name} requires the ${rule.access} role`);
        }
        if (principal.role !== "admin") await deps.rateLimits.consume(rule.scope, principal.userId);
        req.contextValues.set(principalKey, principal);
      }
    } catch (err) {
      throw refuse(err, rpc, client);
    }
    return next(req);
  };
}
