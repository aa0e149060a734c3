import { SignJWT } from "jose";
import { describe, expect, it } from "vitest";
import { ACCESS_TOKEN_AUDIENCE, ACCESS_TOKEN_ISSUER, createAccessTokens, InvalidTokenError } from "./access-token.js";
import type { Principal } from "./principal.js";

const SECRET = "unit-test-secret-0123456789-abcdefghij";
const KEY = new TextEncoder().encode(SECRET);
const ALICE: Principal = { userId: "7d3b9a52-5a43-4c1e-9a59-2f1ac3e0a001", username: "alice", role: "engineer" };
const T0 = new Date("2030-01-01T00:00:00Z");

const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString("base64url");

async function reason(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (err) {
    expect(err).toBeInstanceOf(InvalidTokenError);
    return (err as InvalidTokenError).reason;
  }
  throw new Error("token was accepted");
}

function forge(claims: { iss?: string; aud?: string; exp?: number; role?: string }, key = KEY) {
  const iat = Math.floor(T0.getTime() / 1000);
  return new SignJWT({ username: ALICE.username, role: claims.role ?? ALICE.role })
    .setProtectedHeader({ alg: "HS256" })
    .setSubject(ALICE.userId)
    .setIssuer(claims.iss ?? ACCESS_TOKEN_ISSUER)
    .setAudience(claims.aud ?? ACCESS_TOKEN_AUDIENCE)
    .setIssuedAt(iat)
    .setExpirationTime(claims.exp ?? iat + 900)
    .sign(key);
}

describe("access tokens", () => {
  const tokens = createAccessTokens({ secret: SECRET, ttlSeconds: 900, now: () => T0 });

  it("round-trips a principal and expires after the ttl", async () => {
    const { token, expiresAt } = await tokens.issue(ALICE);
    expect(expiresAt.getTime() - T0.getTime()).toBe(900_000);
    await expect(tokens.verify(token)).resolves.toEqual(ALICE);
    const later = createAccessTokens({ secret: SECRET, ttlSeconds: 900, now: () => new Date(T0.getTime() + 901_000) });
    expect(await reason(later.verify(token))).toBe("expired");
  });

  it("refuses missing, tampered, foreign-key, wrong-issuer, wrong-audience and bad-role tokens", async () => {
    const { token } = await tokens.issue(ALICE);
    const [header, , signature] = token.split(".");
    const tampered = `${header}.${b64({ sub: ALICE.userId, username: "alice", role: "admin", iss: ACCESS_TOKEN_ISSUER, aud: ACCESS_TOKEN_AUDIENCE, exp: 2e9 })}.${signature}`;
    expect(await reason(tokens.verify(""))).toBe("missing");
    expect(await reason(tokens.verify(tampered))).toBe("invalid");
    expect(await reason(tokens.verify(await forge({}, new TextEncoder().encode("another-secret-0123456789-abcdefghij"))))).toBe("invalid");
    expect(await reason(tokens.verify(await forge({ iss: "someone-else" })))).toBe("invalid");
    expect(await reason(tokens.verify(await forge({ aud: "another-api" })))).toBe("invalid");
    expect(await reason(tokens.verify(await forge({ role: "root" })))).toBe("invalid");
    expect(await reason(tokens.verify("not-a-jwt"))).toBe("invalid");
  });

  it("refuses alg none", async () => {
    const unsigned = `${b64({ alg: "none", typ: "JWT" })}.${b64({
      sub: ALICE.userId,
      username: "alice",
      role: "admin",
      iss: ACCESS_TOKEN_ISSUER,
      aud: ACCESS_TOKEN_AUDIENCE,
      exp: Math.floor(T0.getTime() / 1000) + 900,
    })}.`;
    expect(await reason(tokens.verify(unsigned))).toBe("invalid");
  });

  it("never puts the token into its error message", async () => {
    const { token } = await tokens.issue(ALICE);
    const err = await tokens.verify(`${token}x`).catch((e: unknown) => e as Error);
    expect(String((err as Error).message)).not.toContain(token.slice(0, 20));
  });
});
