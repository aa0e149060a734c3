import { act, cleanup, fireEvent, render, screen } from "@testing-library/react";
import { afterEach, describe, expect, it, vi } from "vitest";
import { Code, ConnectError } from "@connectrpc/connect";
import { AuthService, Role, VehicleService, type RefreshRequest } from "@sovd/proto";
import { App } from "../app.js";
import { timestampInit } from "../lib/time.js";
import { createFakeGateway } from "../testing/fake-gateway.js";
import { SessionNotices } from "./session.js";

const sessions: { dispose(): void }[] = [];

afterEach(() => {
  cleanup();
  for (const s of sessions.splice(0)) s.dispose();
  vi.useRealTimers();
  window.location.hash = "";
});

const START = Date.parse("2026-11-22T12:00:00Z");
const LIFETIME = 10 * 60_000;
const user = { userId: "u-1", username: "alice", role: Role.ENGINEER };

/** A gateway whose AuthService issues 10-minute tokens and whose Refresh the test controls. */
function gatewayWithAuth(refresh: (req: RefreshRequest, n: number) => void = () => {}) {
  const refreshes: RefreshRequest[] = [];
  const gateway = createFakeGateway(
    (router) => {
      router.service(AuthService, {
        login: (req) => {
          if (req.password !== "pw") throw new ConnectError("invalid credentials", Code.Unauthenticated);
          return { accessToken: "access-0", refreshToken: "refresh-0", expiresAt: timestampInit(Date.now() + LIFETIME), user };
        },
        refresh: (req) => {
          refreshes.push(req);
          refresh(req, refreshes.length);
          const n = refreshes.length;
          return { accessToken: `access-${n}`, refreshToken: `refresh-${n}`, expiresAt: timestampInit(Date.now() + LIFETIME), user };
        },
        logout: () => ({}),
      });
      router.service(VehicleService, {
        listVehicles: () => {
          throw new ConnectError("token expired", Code.Unauthenticated);
        },
      });
    },
    { authRoutes: false },
  );
  sessions.push(gateway.session);
  return { gateway, refreshes };
}

describe("SessionManager", () => {
  it("refreshes shortly before the access token expires, rotating the stored refresh token", async () => {
    vi.useFakeTimers({ now: START });
    const { gateway, refreshes } = gatewayWithAuth();
    await gateway.session.login("alice", "pw");
    expect(gateway.session.accessToken()).toBe("access-0");
    expect(gateway.storage.getItem("sovd.refreshToken")).toBe("refresh-0");

    // 10-minute token: refreshed 1 minute (the cap) before it expires, not earlier.
    await vi.advanceTimersByTimeAsync(LIFETIME - 60_000 - 1);
    expect(refreshes).toHaveLength(0);
    await vi.advanceTimersByTimeAsync(1);
    expect(refreshes.map((r) => r.refreshToken)).toEqual(["refresh-0"]);
    expect(gateway.session.accessToken()).toBe("access-1");
    expect(gateway.storage.getItem("sovd.refreshToken")).toBe("refresh-1");

    // And again for the next token, with the rotated refresh token.
    await vi.advanceTimersByTimeAsync(LIFETIME - 60_000);
    expect(refreshes.map((r) => r.refreshToken)).toEqual(["refresh-0", "refresh-1"]);
    expect(gateway.session.getState()).toMatchObject({ status: "signed-in", user: { username: "alice" } });
  });

  it("refreshes a short-lived token a fifth of its lifetime early", async () => {
    vi.useFakeTimers({ now: START });
    const refreshes: RefreshRequest[] = [];
    const gateway = createFakeGateway(
      (router) =>
        router.service(AuthService, {
          login: () => ({ accessToken: "a", refreshToken: "r", expiresAt: timestampInit(Date.now() + 10_000), user }),
          refresh: (req) => {
            refreshes.push(req);
            return { accessToken: "b", refreshToken: "r2", expiresAt: timestampInit(Date.now() + 10_000), user };
          },
        }),
      { authRoutes: false },
    );
    await gateway.session.login("alice", "pw");
    await vi.advanceTimersByTimeAsync(7_999);
    expect(refreshes).toHaveLength(0);
    await vi.advanceTimersByTimeAsync(1);
    expect(refreshes).toHaveLength(1);
  });

  it("ends the session with a notice when the refresh is rejected", async () => {
    vi.useFakeTimers({ now: START });
    const { gateway } = gatewayWithAuth(() => {
      throw new ConnectError("refresh token revoked", Code.Unauthenticated);
    });
    await gateway.session.login("alice", "pw");
    await vi.advanceTimersByTimeAsync(LIFETIME);
    expect(gateway.session.getState()).toEqual({ status: "signed-out", notice: SessionNotices.expired });
    expect(gateway.session.accessToken()).toBeUndefined();
    expect(gateway.storage.getItem("sovd.refreshToken")).toBeNull();
  });

  it("retries a refresh while the gateway is unreachable, and keeps the session when it comes back", async () => {
    vi.useFakeTimers({ now: START });
    const { gateway, refreshes } = gatewayWithAuth((_req, n) => {
      if (n <= 2) throw new ConnectError("fetch failed", Code.Unavailable);
    });
    await gateway.session.login("alice", "pw");
    await vi.advanceTimersByTimeAsync(LIFETIME - 60_000);
    expect(refreshes).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(2_000);
    expect(refreshes).toHaveLength(2);
    await vi.advanceTimersByTimeAsync(4_000);
    expect(refreshes).toHaveLength(3);
    expect(gateway.session.accessToken()).toBe("access-3");
    expect(gateway.session.getState().status).toBe("signed-in");
  });

  it("resumes the tab's session from sessionStorage on reload", async () => {
    const { gateway, refreshes } = gatewayWithAuth();
    gateway.storage.setItem("sovd.refreshToken", "refresh-stored");
    await gateway.session.restore();
    expect(refreshes.map((r) => r.refreshToken)).toEqual(["refresh-stored"]);
    expect(gateway.session.getState()).toMatchObject({ status: "signed-in" });
  });

  it("sends the access token as a bearer token", async () => {
    const { gateway } = gatewayWithAuth();
    await gateway.session.login("alice", "pw");
    await gateway.api.vehicles.listVehicles({}).catch(() => undefined);
    expect(gateway.authHeaders.at(-1)).toBe("Bearer access-0");
  });
});

describe("App with an expired session", () => {
  it("returns to the login page with a message when the gateway rejects the token", async () => {
    const { gateway } = gatewayWithAuth();
    await gateway.session.login("alice", "pw");
    window.location.hash = "#/fleet";
    render(gateway.wrap(<App />));
    expect(await screen.findByText(SessionNotices.expired)).toBeTruthy();
    expect(screen.getByRole("button", { name: "Sign in" })).toBeTruthy();
    expect(gateway.storage.getItem("sovd.refreshToken")).toBeNull();
  });

  it("says a wrong password in words", async () => {
    const { gateway } = gatewayWithAuth();
    await act(() => gateway.session.restore());
    render(gateway.wrap(<App />));
    expect(document.activeElement).toBe(screen.getByLabelText("Username"));
    fireEvent.change(screen.getByLabelText("Username"), { target: { value: "alice" } });
    fireEvent.change(screen.getByLabelText("Password"), { target: { value: "nope" } });
    fireEvent.click(screen.getByRole("button", { name: "Sign in" }));
    expect((await screen.findByRole("alert")).textContent).toBe("Wrong username or password.");
  });
});
