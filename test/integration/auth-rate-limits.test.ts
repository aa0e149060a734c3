import { Code, ConnectError, createClient, createRouterTransport } from "@connectrpc/connect";
import { createLogger, createMetricsRegistry } from "@sovd/platform";
import { AuthService } from "@sovd/proto";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { createAuth, createErrorInterceptor, createGatewayMetrics, loadAuthConfig } from "@sovd/gateway";
import { outcome, TEST_JWT_SECRET, TEST_PASSWORD, useStack } from "../src/index.js";
import { createRateLimits, RateLimitedError } from "../../gateway/src/auth/rate-limits.js";

/**
 * Rate limits, hit and recovered. The clock is faked (Date only: sockets, the
 * database and timers keep running for real), so "a minute later" takes no time.
 */
describe("rate limits", () => {
  const stack = useStack({
    gateway: "auth-only",
    env: { RATE_LIMIT_LOGIN_PER_MIN: "5", RATE_LIMIT_SUBMIT_PER_MIN: "10", RATE_LIMIT_OTHER_PER_MIN: "8" },
  });
  const tokens: Record<string, string> = {};
  beforeEach(async () => {
    vi.useFakeTimers({ toFake: ["Date"] });
    // Each test starts in a fresh window, far from any other test's counters.
    vi.setSystemTime(new Date(Date.UTC(2031, 0, 1) + Math.floor(Math.random() * 1e9) * 1000));
    await stack.db.pool.query("DELETE FROM rate_limits");
  });
  afterEach(() => {
    vi.useRealTimers();
  });
  const minuteLater = () => vi.setSystemTime(Date.now() + 60_001);

  async function limited(p: Promise<unknown>): Promise<{ seconds: number; message: string }> {
    try {
      await p;
    } catch (err) {
      const e = ConnectError.from(err);
      expect(e.code).toBe(Code.ResourceExhausted);
      return { seconds: Number(e.metadata.get("retry-after")), message: e.rawMessage };
    }
    throw new Error("not rate limited");
  }

  const token = async (username: string) => (tokens[username] = (await stack.login(username)).accessToken);

  it("login: 5 per minute per username and address, with a retry hint, then recovers", async () => {
    const attempt = (username: string, address: string, password = "wrong") =>
      stack.clients().auth.login({ username, password }, stack.from(address));
    for (let i = 0; i < 5; i++) expect(await outcome(() => attempt("engineer", "192.0.2.1"))).toBe("Unauthenticated");
    // Even the right password is refused now: the limit is on attempts, not failures.
    const hit = await limited(attempt("engineer", "192.0.2.1", TEST_PASSWORD));
    expect(hit.seconds).toBeGreaterThanOrEqual(1);
    expect(hit.seconds).toBeLessThanOrEqual(60);
    expect(hit.message).toContain(`${hit.seconds} s`);
    // Other address or other username: separate buckets.
    expect(await outcome(() => attempt("engineer", "192.0.2.2", TEST_PASSWORD))).toBe("ok");
    expect(await outcome(() => attempt("viewer", "192.0.2.1", TEST_PASSWORD))).toBe("ok");
    vi.setSystemTime(Date.now() + 30_000);
    await limited(attempt("engineer", "192.0.2.1", TEST_PASSWORD));
    vi.setSystemTime(Date.now() + 30_001);
    expect(await outcome(() => attempt("engineer", "192.0.2.1", TEST_PASSWORD))).toBe("ok");
  });

  it("submit: 10 per minute per user, apart from other calls and other users", async () => {
    const engineer = await token("engineer");
    const other = await token("engineer2");
    const submit = (t: string) => stack.clients().commands.submitCommand({}, stack.as(t));
    for (let i = 0; i < 10; i++) expect(await outcome(() => submit(engineer))).toBe("Unimplemented");
    await limited(submit(engineer));
    expect(await outcome(() => stack.clients().commands.listCommands({}, stack.as(engineer)))).toBe("Unimplemented");
    expect(await outcome(() => submit(other))).toBe("Unimplemented");
    minuteLater();
    expect(await outcome(() => submit(engineer))).toBe("Unimplemented");
  });

  it("other calls: the configured limit per user, then recovers", async () => {
    const viewer = await token("viewer");
    const list = () => stack.clients().vehicles.listVehicles({}, stack.as(viewer));
    for (let i = 0; i < 8; i++) expect(await outcome(list)).toBe("Unimplemented");
    const hit = await limited(list());
    expect(hit.seconds).toBe(60);
    expect(await outcome(() => stack.clients().auth.whoAmI({}, stack.as(viewer)))).toBe("ResourceExhausted");
    minuteLater();
    expect(await outcome(list)).toBe("Unimplemented");
  });

  it("admins are exempt from submit and other limits", async () => {
    const admin = await token("admin");
    for (let i = 0; i < 15; i++) {
      expect(await outcome(() => stack.clients().commands.submitCommand({}, stack.as(admin)))).toBe("Unimplemented");
      expect(await outcome(() => stack.clients().auth.whoAmI({}, stack.as(admin)))).toBe("ok");
    }
  });

  it("counts refusals in rate_limited_total by scope", async () => {
    const text = await stack.registry.getSingleMetricAsString("rate_limited_total");
    expect(text).toMatch(/rate_limited_total\{scope="login"\} [1-9]/);
    expect(text).toMatch(/rate_limited_total\{scope="submit"\} [1-9]/);
    expect(text).toMatch(/rate_limited_total\{scope="other"\} [1-9]/);
  });

  it("holds across gateway instances sharing the database", async () => {
    const instance = () => {
      const logger = createLogger({ service: "gateway-test", level: "silent" });
      const registry = createMetricsRegistry();
      const auth = createAuth(loadAuthConfig({ JWT_SECRET: TEST_JWT_SECRET, RATE_LIMIT_LOGIN_PER_MIN: "5" }), { pool: stack.db.pool, logger, registry });
      // The gateway's interceptor order: domain errors become Connect codes outside auth.
      const interceptors = [createErrorInterceptor({ logger, metrics: createGatewayMetrics(registry) }), auth.interceptor];
      const client = createClient(AuthService, createRouterTransport((r) => r.service(AuthService, auth.authService), { router: { interceptors } }));
      return { auth, client };
    };
    const a = instance();
    const b = instance();
    try {
      const attempt = (c: typeof a) => c.client.login({ username: "admin", password: "wrong" });
      for (const c of [a, b, a, b, a]) expect(await outcome(() => attempt(c))).toBe("Unauthenticated");
      await limited(attempt(b));
    } finally {
      await a.auth.close();
      await b.auth.close();
    }
  });

  it("per-user limits decided in memory hold across instances once they have synced", async () => {
    const logger = createLogger({ service: "gateway-test", level: "silent" });
    const limits = { loginPerMin: 5, submitPerMin: 6, otherPerMin: 100 };
    // The background sync is out of the way (an hour); the test syncs when it means to.
    const a = createRateLimits({ pool: stack.db.pool, limits, logger, syncMs: 3_600_000 });
    const b = createRateLimits({ pool: stack.db.pool, limits, logger, syncMs: 3_600_000 });
    const user = `user-${Math.random()}`;
    const result = (p: Promise<void>) => p.then(() => "ok", (err: unknown) => (err instanceof RateLimitedError ? "limited" : "error"));
    const syncBoth = async () => {
      await a.sync();
      await b.sync();
      await a.sync();
    };
    try {
      for (let i = 0; i < 4; i++) expect(await result(a.consume("submit", user))).toBe("ok");
      await syncBoth();
      // b knows a's four calls: two are left for the user, on either instance.
      expect(await result(b.consume("submit", user))).toBe("ok");
      await syncBoth();
      expect(await result(a.consume("submit", user))).toBe("ok");
      await syncBoth();
      expect(await result(b.consume("submit", user))).toBe("limited");
      expect(await result(a.consume("submit", user))).toBe("limited");
      // Without a sync in between, each instance alone still never lets more than the limit through.
      const c = createRateLimits({ pool: stack.db.pool, limits, logger, syncMs: 3_600_000 });
      const other = `user-${Math.random()}`;
      const outcomes = [];
      for (let i = 0; i < 8; i++) outcomes.push(await result(c.consume("submit", other)));
      expect(outcomes.filter((o) => o === "ok")).toHaveLength(6);
      await c.close();
    } finally {
      await a.close();
      await b.close();
    }
  });
});
