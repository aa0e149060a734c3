import { SignJWT } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ACCESS_TOKEN_AUDIENCE, ACCESS_TOKEN_ISSUER } from "../../gateway/src/auth/index.js";
import { outcome, startAuthStack, TEST_JWT_SECRET, type AuthStack } from "../src/auth-server.js";

/**
 * Issue 4: each role against each RPC, through the real interceptor over HTTP. Allowed calls
 * to command/vehicle methods reach the (handler-less) service and answer Unimplemented; the
 * auth and audit methods run for real. Written out by hand, not derived from METHOD_RULES.
 */
type Caller = "anonymous" | "viewer" | "engineer" | "admin";
const ALLOWED_FOR: Record<string, { min: Caller | "public"; allowed: string }> = {
  "AuthService/Login": { min: "public", allowed: "InvalidArgument" },
  "AuthService/Refresh": { min: "public", allowed: "InvalidArgument" },
  "AuthService/Logout": { min: "viewer", allowed: "InvalidArgument" },
  "AuthService/WhoAmI": { min: "viewer", allowed: "ok" },
  "AuthService/CreateStreamTicket": { min: "viewer", allowed: "ok" },
  "VehicleService/ListVehicles": { min: "viewer", allowed: "Unimplemented" },
  "VehicleService/GetVehicle": { min: "viewer", allowed: "Unimplemented" },
  "VehicleService/WatchVehicles": { min: "viewer", allowed: "Unimplemented" },
  "CommandService/ListCommandTypes": { min: "viewer", allowed: "Unimplemented" },
  "CommandService/SubmitCommand": { min: "engineer", allowed: "Unimplemented" },
  "CommandService/GetCommand": { min: "viewer", allowed: "Unimplemented" },
  "CommandService/ListCommands": { min: "viewer", allowed: "Unimplemented" },
  "CommandService/WatchCommand": { min: "viewer", allowed: "Unimplemented" },
  "CommandService/CancelCommand": { min: "engineer", allowed: "Unimplemented" },
  "AuditService/ListAuditLogs": { min: "admin", allowed: "ok" },
};
const RANK: Record<Caller, number> = { anonymous: 0, viewer: 1, engineer: 2, admin: 3 };

function expected(rpc: string, caller: Caller): string {
  const rule = ALLOWED_FOR[rpc]!;
  if (rule.min === "public") return rule.allowed;
  if (caller === "anonymous") return "Unauthenticated";
  return RANK[caller] >= RANK[rule.min] ? rule.allowed : "PermissionDenied";
}

describe("auth interceptor", () => {
  let stack: AuthStack;
  const tokens: Partial<Record<Caller, string>> = {};
  beforeAll(async () => {
    stack = await startAuthStack();
    for (const role of ["viewer", "engineer", "admin"] as const) tokens[role] = (await stack.login(role)).accessToken;
  });
  afterAll(async () => stack?.close());

  const call = (rpc: string, caller: Caller) => {
    const opts = caller === "anonymous" ? stack.from() : stack.as(tokens[caller]!);
    const { auth, audit, commands, vehicles } = stack.clients;
    const calls: Record<string, () => Promise<unknown> | AsyncIterable<unknown>> = {
      "AuthService/Login": () => auth.login({}, opts),
      "AuthService/Refresh": () => auth.refresh({}, opts),
      "AuthService/Logout": () => auth.logout({}, opts),
      "AuthService/WhoAmI": () => auth.whoAmI({}, opts),
      "AuthService/CreateStreamTicket": () => auth.createStreamTicket({}, opts),
      "VehicleService/ListVehicles": () => vehicles.listVehicles({}, opts),
      "VehicleService/GetVehicle": () => vehicles.getVehicle({}, opts),
      "VehicleService/WatchVehicles": () => vehicles.watchVehicles({}, opts),
      "CommandService/ListCommandTypes": () => commands.listCommandTypes({}, opts),
      "CommandService/SubmitCommand": () => commands.submitCommand({}, opts),
      "CommandService/GetCommand": () => commands.getCommand({}, opts),
      "CommandService/ListCommands": () => commands.listCommands({}, opts),
      "CommandService/WatchCommand": () => commands.watchCommand({}, opts),
      "CommandService/CancelCommand": () => commands.cancelCommand({}, opts),
      "AuditService/ListAuditLogs": () => audit.listAuditLogs({}, opts),
    };
    return outcome(calls[rpc]!);
  };

  const cases = Object.keys(ALLOWED_FOR).flatMap((rpc) =>
    (["anonymous", "viewer", "engineer", "admin"] as const).map((caller) => ({ rpc, caller, code: expected(rpc, caller) })),
  );

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
      outcome(() => stack.clients.auth.whoAmI({}, { headers: { authorization } }));

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
