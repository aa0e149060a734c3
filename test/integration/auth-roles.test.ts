import { ACCESS_TOKEN_AUDIENCE, ACCESS_TOKEN_ISSUER } from "@sovd/gateway";
import { SignJWT } from "jose";
import { beforeAll, describe, expect, it } from "vitest";
import { CALLERS, MIN_ROLE, outcome, RANK, rpcCalls, TEST_JWT_SECRET, useStack, type Caller } from "../src/index.js";

/**
 * Each role against each RPC (MIN_ROLE), through the real interceptor over HTTP. Allowed
 * calls to command/vehicle methods reach the (handler-less) service and answer
 * Unimplemented; the auth and audit methods run for real, with these answers.
 */
const ALLOWED_ANSWER: Record<string, string> = {
  "AuthService/Login": "InvalidArgument",
  "AuthService/Refresh": "InvalidArgument",
  "AuthService/Logout": "InvalidArgument",
  "AuthService/WhoAmI": "ok",
  "AuthService/CreateStreamTicket": "ok",
  "VehicleService/ListVehicles": "Unimplemented",
  "VehicleService/GetVehicle": "Unimplemented",
  "VehicleService/WatchVehicles": "Unimplemented",
  "CommandService/ListCommandTypes": "Unimplemented",
  "CommandService/SubmitCommand": "Unimplemented",
  "CommandService/GetCommand": "Unimplemented",
  "CommandService/ListCommands": "Unimplemented",
  "CommandService/WatchCommand": "Unimplemented",
  "CommandService/CancelCommand": "Unimplemented",
  "AuditService/ListAuditLogs": "ok",
};

function expected(rpc: string, caller: Caller): string {
  const min = MIN_ROLE[rpc]!;
  if (min === "public") return ALLOWED_ANSWER[rpc]!;
  if (caller === "anonymous") return "Unauthenticated";
  return RANK[caller] >= RANK[min] ? ALLOWED_ANSWER[rpc]! : "PermissionDenied";
}

describe("auth interceptor", () => {
  const stack = useStack({ gateway: "auth-only" });
  const tokens: Partial<Record<Caller, string>> = {};
  beforeAll(async () => {
    for (const role of ["viewer", "engineer", "admin"] as const) tokens[role] = (await stack.login(role)).accessToken;
  });

  const call = (rpc: string, caller: Caller) => {
    const opts = caller === "anonymous" ? stack.from() : stack.as(tokens[caller]!);
    return outcome(rpcCalls(stack.clients(), opts)[rpc]!);
  };

  const cases = Object.keys(MIN_ROLE).flatMap((rpc) => CALLERS.map((caller) => ({ rpc, caller, code: expected(rpc, caller) })));

  it.each(cases)("$caller -> $rpc answers $code", async ({ rpc, caller, code }) => {
    expect(await call(rpc, caller)).toBe(code);
  });

  describe("refuses bad access tokens with unauthenticated", () => {
    const key = new TextEncoder().encode(TEST_JWT_SECRET);
    const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString("base64url");
    const claims = () => {
      const now = Math.floor(Date.now() / 1000);
      return { sub: stack.users.admin.userId, username: "admin", role: "admin", iss: ACCESS_TOKEN_ISSUER, aud: ACCESS_TOKEN_AUDIENCE, iat: now, exp: now + 600 };
    };
    const sign = (c: Record<string, unknown>, k = key) => new SignJWT(c).setProtectedHeader({ alg: "HS256" }).sign(k);
    const whoAmI = async (authorization: string) =>
      outcome(() => stack.clients().auth.whoAmI({}, { headers: { authorization } }));

    it("accepts a correctly forged control token (so the refusals below are meaningful)", async () => {
      expect(await whoAmI(`Bearer ${await sign(claims())}`)).toBe("ok");
    });

    it.each([
      ["expired", async () => sign({ ...claims(), iat: Math.floor(Date.now() / 1000) - 2000, exp: Math.floor(Date.now() / 1000) - 1000 })],
      ["tampered (role raised)", async () => {
        const [h, , s] = (await sign({ ...claims(), sub: stack.users.viewer.userId, username: "viewer", role: "viewer" })).split(".");
        return `${h}.${b64(claims())}.${s}`;
      }],
      ["signed with another key", async () => sign(claims(), new TextEncoder().encode("x".repeat(48)))],
      ["wrong audience", async () => sign({ ...claims(), aud: "some-other-api" })],
      ["wrong issuer", async () => sign({ ...claims(), iss: "https://evil.example" })],
      ["alg none", async () => `${b64({ alg: "none", typ: "JWT" })}.${b64(claims())}.`],
      ["not a JWT", async () => "definitely-not-a-token"],
      ["oversized (longer than any token we mint)", async () => "a".repeat(8_000)],
    ])("%s", async (_name, make) => {
      expect(await whoAmI(`Bearer ${await make()}`)).toBe("Unauthenticated");
    });

    it("another scheme or an empty header", async () => {
      expect(await whoAmI(`Basic ${Buffer.from("admin:admin123").toString("base64")}`)).toBe("Unauthenticated");
      expect(await whoAmI("Bearer ")).toBe("Unauthenticated");
    });

    it("counts failures by reason in auth_failures_total", async () => {
      const text = await stack.registry.getSingleMetricAsString("auth_failures_total");
      expect(text).toMatch(/auth_failures_total\{reason="expired_token"\} [1-9]/);
      expect(text).toMatch(/auth_failures_total\{reason="invalid_token"\} [1-9]/);
      expect(text).toMatch(/auth_failures_total\{reason="missing_token"\} [1-9]/);
      expect(text).toMatch(/auth_failures_total\{reason="permission_denied"\} [1-9]/);
    });
  });
});
