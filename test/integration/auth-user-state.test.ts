import { describe, expect, it } from "vitest";
import { outcome, TEST_PASSWORD, useStack } from "../src/index.js";

/** A valid token is not enough: the user must still exist and be active, with its current role. */
describe("user state behind a valid token", () => {
  let clock = Date.now();
  const stack = useStack({ gateway: "auth-only", now: () => new Date(clock), env: { AUTH_USER_CACHE_MS: "5000" } });

  it("a deactivated user is refused once the short cache expires", async () => {
    const u = await stack.createUser("leaver", "engineer");
    const { accessToken } = await stack.login("leaver");
    expect(await outcome(() => stack.clients().auth.whoAmI({}, stack.as(accessToken)))).toBe("ok");
    await stack.db.pool.query("UPDATE users SET is_active = false WHERE user_id = $1", [u.userId]);
    clock += 5_001;
    expect(await outcome(() => stack.clients().auth.whoAmI({}, stack.as(accessToken)))).toBe("Unauthenticated");
    // ...and cannot log in again: same answer as a wrong password.
    const login = await stack.clients().auth.login({ username: "leaver", password: TEST_PASSWORD }, stack.from()).catch((e: Error) => e);
    expect(String((login as Error).message)).toContain("invalid username or password");
  });

  it("a demoted admin loses the audit log within the cache ttl", async () => {
    const u = await stack.createUser("temp-admin", "admin");
    const { accessToken } = await stack.login("temp-admin");
    expect(await outcome(() => stack.clients().audit.listAuditLogs({}, stack.as(accessToken)))).toBe("ok");
    await stack.db.pool.query("UPDATE users SET role = 'viewer' WHERE user_id = $1", [u.userId]);
    clock += 5_001;
    expect(await outcome(() => stack.clients().audit.listAuditLogs({}, stack.as(accessToken)))).toBe("PermissionDenied");
    const me = await stack.clients().auth.whoAmI({}, stack.as(accessToken));
    expect(me.user?.username).toBe("temp-admin");
  });

  it("an access token expires after 15 minutes of the injected clock", async () => {
    const { accessToken } = await stack.login("viewer");
    clock += 899_000;
    expect(await outcome(() => stack.clients().auth.whoAmI({}, stack.as(accessToken)))).toBe("ok");
    clock += 2_000;
    expect(await outcome(() => stack.clients().auth.whoAmI({}, stack.as(accessToken)))).toBe("Unauthenticated");
  });
});
