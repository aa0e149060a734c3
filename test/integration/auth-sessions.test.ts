import { Code, ConnectError } from "@connectrpc/connect";
import { timestampDate } from "@bufbuild/protobuf/wkt";
import { Role } from "@sovd/proto";
import { InvalidTokenError } from "@sovd/gateway";
import { beforeAll, describe, expect, it } from "vitest";
import { outcome, TEST_PASSWORD, useStack } from "../src/index.js";

async function connectError(p: Promise<unknown>): Promise<ConnectError> {
  try {
    await p;
  } catch (err) {
    return ConnectError.from(err);
  }
  throw new Error("call succeeded");
}

describe("sessions: login, refresh rotation, logout, stream tickets", () => {
  let clock = Date.now();
  const now = () => new Date(clock);
  const stack = useStack({ gateway: "auth-only", now });

  const auditRows = async (action: string) =>
    (
      await stack.db.pool.query<{ user_id: string | null; details: Record<string, unknown>; ip_address: string; user_agent: string; request_id: string }>(
        "SELECT user_id, details, ip_address, user_agent, request_id FROM audit_logs WHERE action = $1 ORDER BY created_at, audit_id",
        [action],
      )
    ).rows;
  const familyRows = async (familyOf: string) =>
    (
      await stack.db.pool.query<{ rotated_at: Date | null; revoked_at: Date | null }>(
        `SELECT rotated_at, revoked_at FROM refresh_tokens
          WHERE family_id = (SELECT family_id FROM refresh_tokens WHERE user_id = $1 ORDER BY created_at DESC LIMIT 1)`,
        [familyOf],
      )
    ).rows;

  describe("Login", () => {
    it("answers tokens, the access expiry and the user, and audits user_login with address, agent and request id", async () => {
      const res = await stack.clients().auth.login(
        { username: "engineer", password: TEST_PASSWORD },
        { headers: { ...(stack.from("198.51.100.7").headers as Record<string, string>), "x-request-id": "login-req-1" } },
      );
      expect(res.accessToken.split(".")).toHaveLength(3);
      expect(res.refreshToken).toMatch(/^[A-Za-z0-9_-]{43}$/);
      expect(timestampDate(res.expiresAt!).getTime() - clock).toBeGreaterThan(899_000);
      expect(res.user).toMatchObject({ userId: stack.users.engineer.userId, username: "engineer", role: Role.ENGINEER });
      const [row] = (await auditRows("user_login")).filter((r) => r.request_id === "login-req-1");
      expect(row).toMatchObject({ user_id: stack.users.engineer.userId, ip_address: "198.51.100.7", user_agent: "auth-test/1.0", details: { username: "engineer" } });
      // Only the hash is stored.
      const stored = await stack.db.pool.query("SELECT 1 FROM refresh_tokens WHERE token_hash = $1", [res.refreshToken]);
      expect(stored.rowCount).toBe(0);
    });

    it("answers the same unauthenticated message for a wrong password, an unknown user and an inactive user", async () => {
      await stack.createUser("dormant", "viewer", { active: false });
      const attempts = [
        { username: "engineer", password: "wrong password" },
        { username: "nobody-here", password: TEST_PASSWORD },
        { username: "dormant", password: TEST_PASSWORD },
      ];
      for (const a of attempts) {
        const err = await connectError(stack.clients().auth.login(a, stack.from()));
        expect(err.code).toBe(Code.Unauthenticated);
        expect(err.rawMessage).toBe("invalid username or password");
      }
      const failed = await auditRows("user_login_failed");
      expect(failed.map((r) => r.details.username)).toEqual(["engineer", "nobody-here", "dormant"]);
      expect(failed[0]!.user_id).toBe(stack.users.engineer.userId);
      expect(failed[1]!.user_id).toBeNull();
      expect(JSON.stringify(failed)).not.toContain("wrong password");
      expect(JSON.stringify(failed)).not.toContain(TEST_PASSWORD);
    });

    it("refuses oversized or missing fields as invalid_argument naming the field", async () => {
      const long = await connectError(stack.clients().auth.login({ username: "u".repeat(65), password: "x" }, stack.from()));
      expect([long.code, long.rawMessage]).toEqual([Code.InvalidArgument, "username: must be at most 64 characters"]);
      const huge = await connectError(stack.clients().auth.login({ username: "engineer", password: "p".repeat(100_000) }, stack.from()));
      expect([huge.code, huge.rawMessage]).toEqual([Code.InvalidArgument, "password: must be at most 256 characters"]);
      const none = await connectError(stack.clients().auth.login({ username: "engineer" }, stack.from()));
      expect(none.rawMessage).toBe("password: is required");
    });
  });

  describe("Refresh", () => {
    it("rotates: each token works once and yields a new one of the same family", async () => {
      const first = await stack.login("viewer");
      const second = await stack.clients().auth.refresh({ refreshToken: first.refreshToken }, stack.from());
      expect(second.refreshToken).not.toBe(first.refreshToken);
      expect(second.user?.username).toBe("viewer");
      expect(await outcome(() => stack.clients().auth.whoAmI({}, stack.as(second.accessToken)))).toBe("ok");
      const third = await stack.clients().auth.refresh({ refreshToken: second.refreshToken }, stack.from());
      expect(third.refreshToken).not.toBe(second.refreshToken);
      const family = await familyRows(stack.users.viewer.userId);
      expect(family).toHaveLength(3);
      expect(family.filter((r) => r.rotated_at !== null)).toHaveLength(2);
      expect(family.every((r) => r.revoked_at === null)).toBe(true);
    });

    it("reusing a rotated token revokes the whole family and is audited", async () => {
      const victim = await stack.createUser("victim", "engineer");
      const original = await stack.login("victim");
      const legit = await stack.clients().auth.refresh({ refreshToken: original.refreshToken }, stack.from());
      // The stolen copy of `original` is replayed:
      const replay = await connectError(stack.clients().auth.refresh({ refreshToken: original.refreshToken }, stack.from("203.0.113.66")));
      expect([replay.code, replay.rawMessage]).toEqual([Code.Unauthenticated, "invalid or expired refresh token"]);
      // ...so the legitimate newest token is dead too.
      expect(await outcome(() => stack.clients().auth.refresh({ refreshToken: legit.refreshToken }, stack.from()))).toBe("Unauthenticated");
      const family = await familyRows(victim.userId);
      expect(family.length).toBeGreaterThan(0);
      expect(family.every((r) => r.revoked_at !== null)).toBe(true);
      const reuse = (await auditRows("refresh_token_reuse")).filter((r) => r.user_id === victim.userId);
      expect(reuse).toHaveLength(1);
      expect(reuse[0]!.ip_address).toBe("203.0.113.66");
      expect(await stack.registry.getSingleMetricAsString("auth_failures_total")).toMatch(/reason="refresh_token_reuse"\} 1/);
    });

    it("two refreshes racing with one token: one wins, the other counts as reuse", async () => {
      const u = await stack.createUser("two-tabs", "viewer");
      const { refreshToken } = await stack.login("two-tabs");
      const results = await Promise.allSettled([1, 2].map(() => stack.clients().auth.refresh({ refreshToken }, stack.from())));
      expect(results.map((r) => r.status).sort()).toEqual(["fulfilled", "rejected"]);
      expect((await familyRows(u.userId)).every((r) => r.revoked_at !== null)).toBe(true);
    });

    it("refuses an expired, unknown or malformed token", async () => {
      const { refreshToken } = await stack.login("engineer2");
      clock += 7 * 24 * 3600 * 1000 + 1000;
      expect(await outcome(() => stack.clients().auth.refresh({ refreshToken }, stack.from()))).toBe("Unauthenticated");
      expect(await outcome(() => stack.clients().auth.refresh({ refreshToken: "A".repeat(43) }, stack.from()))).toBe("Unauthenticated");
      expect(await outcome(() => stack.clients().auth.refresh({ refreshToken: "' OR 1=1 --" }, stack.from()))).toBe("InvalidArgument");
    });

    it("refuses the token of a user deactivated since", async () => {
      const u = await stack.createUser("quitter", "viewer");
      const { refreshToken } = await stack.login("quitter");
      await stack.db.pool.query("UPDATE users SET is_active = false WHERE user_id = $1", [u.userId]);
      expect(await outcome(() => stack.clients().auth.refresh({ refreshToken }, stack.from()))).toBe("Unauthenticated");
    });
  });

  describe("Logout", () => {
    it("revokes the session's family; another user's token is left alone", async () => {
      const mine = await stack.login("engineer");
      const theirs = await stack.login("engineer2");
      await stack.clients().auth.logout({ refreshToken: theirs.refreshToken }, stack.as(mine.accessToken));
      expect(await outcome(() => stack.clients().auth.refresh({ refreshToken: theirs.refreshToken }, stack.from()))).toBe("ok");
      await stack.clients().auth.logout({ refreshToken: mine.refreshToken }, stack.as(mine.accessToken));
      expect(await outcome(() => stack.clients().auth.refresh({ refreshToken: mine.refreshToken }, stack.from()))).toBe("Unauthenticated");
      const logouts = (await auditRows("user_logout")).filter((r) => r.user_id === stack.users.engineer.userId);
      expect(logouts).toHaveLength(1);
    });
  });

  describe("stream tickets and authenticateStream", () => {
    const commandA = "0b6f3a52-5a43-4c1e-9a59-2f1ac3e0a00a";
    const commandB = "0b6f3a52-5a43-4c1e-9a59-2f1ac3e0a00b";
    let access: string;
    beforeAll(async () => {
      access = (await stack.login("engineer")).accessToken;
    });
    const refusal = async (p: Promise<unknown>) => {
      const err = await p.then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(InvalidTokenError);
      return (err as InvalidTokenError).reason;
    };

    it("a ticket works once", async () => {
      const { ticket, expiresAt } = await stack.clients().auth.createStreamTicket({}, stack.as(access));
      expect(timestampDate(expiresAt!).getTime() - clock).toBe(30_000);
      const principal = await stack.auth.authenticateStream({ ticket }, commandA);
      expect(principal).toEqual({ userId: stack.users.engineer.userId, username: "engineer", role: "engineer" });
      expect(await refusal(stack.auth.authenticateStream({ ticket }, commandA))).toBe("invalid");
    });

    it("two sockets racing with one ticket: exactly one gets in", async () => {
      const { ticket } = await stack.clients().auth.createStreamTicket({}, stack.as(access));
      const results = await Promise.allSettled([1, 2, 3].map(() => stack.auth.authenticateStream({ ticket }, commandA)));
      expect(results.filter((r) => r.status === "fulfilled")).toHaveLength(1);
    });

    it("an expired ticket is refused", async () => {
      const { ticket } = await stack.clients().auth.createStreamTicket({}, stack.as(access));
      clock += 30_001;
      expect(await refusal(stack.auth.authenticateStream({ ticket }, commandA))).toBe("invalid");
    });

    it("a ticket bound to a command is good for that command only", async () => {
      const { ticket } = await stack.clients().auth.createStreamTicket({ commandId: commandA }, stack.as(access));
      expect(await refusal(stack.auth.authenticateStream({ ticket }, commandB))).toBe("invalid");
      expect(await refusal(stack.auth.authenticateStream({ ticket }, "not-a-uuid"))).toBe("invalid");
      await expect(stack.auth.authenticateStream({ ticket }, commandA)).resolves.toMatchObject({ username: "engineer" });
      expect(await outcome(() => stack.clients().auth.createStreamTicket({ commandId: "x" }, stack.as(access)))).toBe("InvalidArgument");
    });

    it("the ?token= form takes an access token; anything else is refused", async () => {
      const fresh = (await stack.login("viewer")).accessToken;
      await expect(stack.auth.authenticateStream({ token: fresh }, commandA)).resolves.toMatchObject({ role: "viewer" });
      expect(await refusal(stack.auth.authenticateStream({ token: `${fresh}x` }, commandA))).toBe("invalid");
      expect(await refusal(stack.auth.authenticateStream({}, commandA))).toBe("missing");
      expect(await refusal(stack.auth.authenticateStream({ ticket: "../../etc/passwd" }, commandA))).toBe("invalid");
      clock += 901_000;
      expect(await refusal(stack.auth.authenticateStream({ token: fresh }, commandA))).toBe("expired");
    });
  });
});
