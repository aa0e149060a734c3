/**
 * Who may do what in the gateway (architecture §4 "Roles and visibility"; decisions in
 * README.md). The gateway composes `createAuth(loadAuthConfig(env), deps)` and installs its
 * interceptor and AuthService; the rest is exported for handlers (principal, visibility), the
 * audit service, the WebSocket bridge and tests.
 */
export { loadAuthConfig, type AuthConfig } from "./config.js";
export { createAuth, type Auth, type AuthDeps } from "./auth.js";
export { principalKey, requirePrincipal, canSeeCommand, type Principal, type RoleName } from "./principal.js";
export { InvalidTokenError, createAccessTokens, ACCESS_TOKEN_AUDIENCE, ACCESS_TOKEN_ISSUER, type AccessTokens } from "./access-token.js";
export { METHOD_RULES, ruleFor, type MethodRule, type RateLimitScope } from "./method-rules.js";
export { hasRole, roleToProto, ROLE_NAMES } from "./roles.js";
export { requireOpaqueToken, MAX_USERNAME_LENGTH, MAX_PASSWORD_LENGTH, MAX_ACCESS_TOKEN_LENGTH } from "./validate.js";
