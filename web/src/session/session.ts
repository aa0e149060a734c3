import { Code, ConnectError, type Client } from "@connectrpc/connect";
import { Role, type AuthService, type LoginResponse, type RefreshResponse, type User } from "@sovd/proto";
import type { TokenSource } from "../api/auth-interceptor.js";
import { timestampMs } from "../lib/time.js";

/** What the app shows: still restoring a session, signed out (maybe with a notice), or signed in. */
export type SessionState =
  | { readonly status: "restoring" }
  | { readonly status: "signed-out"; readonly notice?: string }
  | { readonly status: "signed-in"; readonly user: User };

/** Where the refresh token lives between page loads; `sessionStorage` in the browser. */
export type TokenStorage = Pick<Storage, "getItem" | "setItem" | "removeItem">;

/** Options of a SessionManager. */
export interface SessionOptions {
  readonly storage: TokenStorage;
  /** Clock, for tests. */
  readonly now?: () => number;
  /** Refresh this long before the access token expires at most (default 60 s). */
  readonly maxRefreshMarginMs?: number;
}

/** Notices the login page shows when a session ended without the user signing out. */
export const SessionNotices = {
  expired: "Your session has expired. Please sign in again.",
  unreachable: "Your session could not be renewed because the gateway was unreachable. Please sign in again.",
  signedOut: "You have signed out.",
} as const;

const REFRESH_TOKEN_KEY = "sovd.refreshToken";

/**
 * The browser's session with the gateway (the tokens are described in docs/architecture.md
 * §7, Auth). The access token lives in
 * memory only, so script injected into the page later cannot lift it from storage and it
 * dies with the tab. The refresh token lives in `sessionStorage`: it survives a reload of
 * the tab (no new login after F5), is gone when the tab closes, and is not shared between
 * tabs — important because refresh tokens rotate and reusing a rotated one revokes the
 * whole session, which two tabs refreshing one shared token would do.
 *
 * The access token is renewed with `AuthService.Refresh` shortly before it expires (a fifth
 * of its lifetime, at most `maxRefreshMarginMs` early). A rejected refresh, or a call the
 * gateway answers with `unauthenticated`, ends the session with a notice for the login page.
 */
export class SessionManager implements TokenSource {
  private current: SessionState = { status: "restoring" };
  private token: string | undefined;
  private expiresAtMs = 0;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private refreshing: Promise<void> | undefined;
  private failedRefreshes = 0;
  private readonly listeners = new Set<() => void>();
  private readonly now: () => number;
  private readonly maxMargin: number;

  constructor(
    private readonly auth: Client<typeof AuthService>,
    private readonly options: SessionOptions,
  ) {
    this.now = options.now ?? Date.now;
    this.maxMargin = options.maxRefreshMarginMs ?? 60_000;
  }

  /** The state to render; a new object on every change (for useSyncExternalStore). */
  get state(): SessionState {
    return this.current;
  }

  /** Registers a listener for state changes; returns the unsubscribe function. */
  subscribe = (listener: () => void): (() => void) => {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  };

  /** The current state, as a stable function for useSyncExternalStore. */
  getState = (): SessionState => this.current;

  accessToken(): string | undefined {
    return this.token;
  }

  onUnauthenticated(): void {
    if (this.current.status === "signed-in") this.end(SessionNotices.expired);
  }

  /** When the access token expires (ms since epoch), 0 when signed out. */
  get accessTokenExpiresAt(): number {
    return this.expiresAtMs;
  }

  /** On page load: resumes the tab's session from its stored refresh token, if any. */
  async restore(): Promise<void> {
    const stored = this.options.storage.getItem(REFRESH_TOKEN_KEY);
    if (!stored) {
      this.set({ status: "signed-out" });
      return;
    }
    try {
      this.accept(await this.auth.refresh({ refreshToken: stored }));
    } catch (err) {
      this.options.storage.removeItem(REFRESH_TOKEN_KEY);
      const code = ConnectError.from(err).code;
      this.set({ status: "signed-out", notice: code === Code.Unavailable ? SessionNotices.unreachable : SessionNotices.expired });
    }
  }

  /** Signs in; throws the ConnectError of a rejected login for the form to show. */
  async login(username: string, password: string): Promise<void> {
    this.accept(await this.auth.login({ username, password }));
  }

  /** Signs out: revokes the refresh token at the gateway (best effort) and forgets it. */
  async logout(): Promise<void> {
    const refreshToken = this.options.storage.getItem(REFRESH_TOKEN_KEY);
    const accessToken = this.token;
    this.end(SessionNotices.signedOut);
    if (refreshToken) {
      try {
        // The session is already gone here, so the call carries its last access token itself.
        await this.auth.logout({ refreshToken }, accessToken ? { headers: { authorization: `Bearer ${accessToken}` } } : {});
      } catch {
        // The token is forgotten locally either way; it expires on its own at the gateway.
      }
    }
  }

  /** Stops the refresh timer (the app is going away). */
  dispose(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
  }

  /** Renews the access token now; shared by concurrent callers. */
  refresh(): Promise<void> {
    this.refreshing ??= this.doRefresh().finally(() => {
      this.refreshing = undefined;
    });
    return this.refreshing;
  }

  private async doRefresh(): Promise<void> {
    const refreshToken = this.options.storage.getItem(REFRESH_TOKEN_KEY);
    if (!refreshToken || this.current.status !== "signed-in") return;
    try {
      const res = await this.auth.refresh({ refreshToken });
      if (this.current.status !== "signed-in") return; // signed out meanwhile
      this.failedRefreshes = 0;
      this.accept(res);
    } catch (err) {
      if (this.current.status !== "signed-in") return;
      const code = ConnectError.from(err).code;
      if (code !== Code.Unavailable && code !== Code.DeadlineExceeded && code !== Code.Unknown && code !== Code.Internal) {
        this.end(SessionNotices.expired);
        return;
      }
      // The gateway is unreachable for now: try again with backoff while the token lasts.
      this.failedRefreshes += 1;
      const remaining = this.expiresAtMs - this.now();
      if (remaining <= 0) {
        this.end(SessionNotices.unreachable);
        return;
      }
      this.arm(Math.min(remaining, 1_000 * 2 ** Math.min(this.failedRefreshes, 5)));
    }
  }

  private accept(res: LoginResponse | RefreshResponse): void {
    const user = res.user;
    if (!user || user.role === Role.UNSPECIFIED) throw new ConnectError("the gateway sent a session without a user", Code.Internal);
    this.token = res.accessToken;
    this.options.storage.setItem(REFRESH_TOKEN_KEY, res.refreshToken);
    const now = this.now();
    this.expiresAtMs = res.expiresAt ? timestampMs(res.expiresAt) : now + 15 * 60_000;
    const lifetime = Math.max(0, this.expiresAtMs - now);
    this.arm(Math.max(0, lifetime - Math.min(this.maxMargin, lifetime / 5)));
    if (this.current.status !== "signed-in" || this.current.user.userId !== user.userId || this.current.user.role !== user.role) {
      this.set({ status: "signed-in", user });
    }
  }

  private arm(delayMs: number): void {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.refresh();
    }, delayMs);
  }

  private end(notice: string): void {
    this.dispose();
    this.token = undefined;
    this.expiresAtMs = 0;
    this.failedRefreshes = 0;
    this.options.storage.removeItem(REFRESH_TOKEN_KEY);
    this.set({ status: "signed-out", notice });
  }

  private set(state: SessionState): void {
    this.current = state;
    for (const listener of this.listeners) listener();
  }
}
