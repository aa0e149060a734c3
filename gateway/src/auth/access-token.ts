import { errors, jwtVerify, SignJWT } from "jose";
import type { Principal, RoleName } from "./principal.js";
import { ROLE_NAMES } from "./roles.js";

/** Issuer of access tokens: a token minted by another service is not accepted here. */
export const ACCESS_TOKEN_ISSUER = "sovd-gateway";
/** Audience of access tokens: this API. */
export const ACCESS_TOKEN_AUDIENCE = "sovd-api";

const ROLES = ROLE_NAMES;

// Fixed texts: they reach clients, so they never carry the token or why a signature failed.
const MESSAGES = {
  missing: "access token missing",
  expired: "access token expired",
  invalid: "access token invalid",
  inactive: "user is not active",
} as const;

/** Why an access token was refused; the RPC edge maps every kind to `unauthenticated`. */
export class InvalidTokenError extends Error {
  override readonly name = "InvalidTokenError";
  constructor(
    readonly reason: "missing" | "expired" | "invalid" | "inactive",
    options?: ErrorOptions,
  ) {
    super(MESSAGES[reason], options);
  }
}

/** Issues and checks the gateway's access tokens (JWT via jose, 15 minutes by default). */
export interface AccessTokens {
  /** Signs a 15-minute (configurable) HS256 JWT for the user. */
  issue(p: Principal): Promise<{ token: string; expiresAt: Date }>;
  /** The principal of a valid token; InvalidTokenError otherwise (expired, tampered, alg none, wrong audience). */
  verify(token: string): Promise<Principal>;
}

/** Verified tokens remembered at most; the oldest is forgotten first. */
const VERIFIED_CACHE = 10_000;

/**
 * HS256 with a fixed issuer and audience; verification pins the algorithm, so `alg: none`
 * never passes. The HMAC key is imported into WebCrypto once, not per call, and a token that
 * verified is remembered until it expires: a client sends the same token on every call, so
 * the signature is checked once per token instead of once per RPC. A cached token is still
 * refused from its expiry on; any other token (a tampered one is another string) is verified.
 */
export function createAccessTokens(opts: { secret: string; ttlSeconds: number; now?: () => Date }): AccessTokens {
  const raw = new TextEncoder().encode(opts.secret);
  const key = crypto.subtle.importKey("raw", raw, { name: "HMAC", hash: "SHA-256" }, false, ["sign", "verify"]);
  const now = opts.now ?? (() => new Date());
  const verified = new Map<string, { principal: Principal; expiresAtMs: number }>();
  const remember = (token: string, principal: Principal, exp: number | undefined): void => {
    if (exp === undefined) return;
    if (verified.size >= VERIFIED_CACHE) verified.delete(verified.keys().next().value!);
    verified.set(token, { principal, expiresAtMs: exp * 1000 });
  };
  return {
    async issue(p) {
      const issuedAt = Math.floor(now().getTime() / 1000);
      const exp = issuedAt + opts.ttlSeconds;
      const token = await new SignJWT({ username: p.username, role: p.role })
        .setProtectedHeader({ alg: "HS256", typ: "JWT" })
        .setSubject(p.userId)
        .setIssuer(ACCESS_TOKEN_ISSUER)
        .setAudience(ACCESS_TOKEN_AUDIENCE)
        .setIssuedAt(issuedAt)
        .setExpirationTime(exp)
        .sign(await key);
      return { token, expiresAt: new Date(exp * 1000) };
    },
    async verify(token) {
      if (!token) throw new InvalidTokenError("missing");
      const hit = verified.get(token);
      if (hit) {
        if (now().getTime() < hit.expiresAtMs) return hit.principal;
        verified.delete(token);
        throw new InvalidTokenError("expired");
      }
      try {
        const { payload } = await jwtVerify(token, await key, {
          algorithms: ["HS256"],
          issuer: ACCESS_TOKEN_ISSUER,
          audience: ACCESS_TOKEN_AUDIENCE,
          currentDate: now(),
        });
        const role = payload.role as RoleName;
        if (!payload.sub || typeof payload.username !== "string" || !ROLES.includes(role)) throw new InvalidTokenError("invalid");
        const principal: Principal = { userId: payload.sub, username: payload.username, role };
        remember(token, principal, payload.exp);
        return principal;
      } catch (err) {
        if (err instanceof InvalidTokenError) throw err;
        if (err instanceof errors.JWTExpired) throw new InvalidTokenError("expired", { cause: err });
        throw new InvalidTokenError("invalid", { cause: err });
      }
    },
  };
}
