import type { ReactNode } from "react";
import { configure } from "@testing-library/react";
import { createRouterTransport, type ConnectRouter } from "@connectrpc/connect";
import { AuthService, Role, commandTypesOf, type CommandType } from "@sovd/proto";
import { createApi, type Api } from "../api/api.js";
import { ApiProvider } from "../api/api-context.js";
import { createAuthInterceptor } from "../api/auth-interceptor.js";
import { SessionManager } from "../session/session.js";
import { SessionProvider } from "../session/session-context.js";
import { timestampInit } from "../lib/time.js";

// Component tests share the machine with integration suites: give async queries room.
configure({ asyncUtilTimeout: 5_000 });

/** A Storage in memory, standing in for `sessionStorage`. */
export function memoryStorage(): Storage {
  const data = new Map<string, string>();
  return {
    get length() {
      return data.size;
    },
    clear: () => data.clear(),
    getItem: (k) => data.get(k) ?? null,
    key: (i) => [...data.keys()][i] ?? null,
    removeItem: (k) => void data.delete(k),
    setItem: (k, v) => void data.set(k, v),
  };
}

/** What a component test gets: the clients, the session, and the Authorization headers seen. */
export interface FakeGateway {
  readonly api: Api;
  readonly session: SessionManager;
  readonly storage: Storage;
  /** The `authorization` header of every call the fake services received, in order. */
  readonly authHeaders: (string | null)[];
  /** Wraps a component in the providers the app's components need. */
  wrap(children: ReactNode): ReactNode;
}

/**
 * The app's real clients, interceptor and session over connect's in-memory router transport,
 * serving the fake service implementations a test registers in `routes`. An AuthService
 * that signs anyone in with `role` is added unless the test registers its own.
 */
export function createFakeGateway(routes: (router: ConnectRouter) => void, options: { role?: Role; authRoutes?: boolean } = {}): FakeGateway {
  const role = options.role ?? Role.ENGINEER;
  const authHeaders: (string | null)[] = [];
  const current: { session?: SessionManager } = {};
  const transport = createRouterTransport(
    (router) => {
      if (options.authRoutes !== false) {
        let n = 0;
        const session = () => {
          n += 1;
          return {
            accessToken: `access-${n}`,
            refreshToken: `refresh-${n}`,
            expiresAt: timestampInit(Date.now() + 15 * 60_000),
            user: { userId: "u-1", username: "alice", role },
          };
        };
        router.service(AuthService, {
          login: () => session(),
          refresh: () => session(),
          logout: () => ({}),
          whoAmI: () => ({ user: { userId: "u-1", username: "alice", role } }),
        });
      }
      routes(router);
    },
    {
      router: {
        interceptors: [
          (next) => (req) => {
            authHeaders.push(req.header.get("authorization"));
            return next(req);
          },
        ],
      },
      transport: {
        interceptors: [
          createAuthInterceptor({
            accessToken: () => current.session?.accessToken(),
            onUnauthenticated: () => current.session?.onUnauthenticated(),
          }),
        ],
      },
    },
  );
  const api = createApi(transport);
  const storage = memoryStorage();
  const session = new SessionManager(api.auth, { storage });
  current.session = session;
  return {
    api,
    session,
    storage,
    authHeaders,
    wrap: (children) => (
      <ApiProvider api={api}>
        <SessionProvider session={session}>{children}</SessionProvider>
      </ApiProvider>
    ),
  };
}

/**
 * A push-driven async iterable for a fake server stream: the test pushes events (or an
 * error) when it wants the page to see them, and ends the stream.
 */
export function createStreamControl<T>(): {
  stream: () => AsyncIterable<T>;
  push: (value: T) => void;
  fail: (error: Error) => void;
  end: () => void;
} {
  const queue: ({ value: T } | { error: Error } | { done: true })[] = [];
  let wake: (() => void) | undefined;
  const add = (item: (typeof queue)[number]): void => {
    queue.push(item);
    wake?.();
  };
  async function* stream(): AsyncIterable<T> {
    for (;;) {
      while (queue.length === 0) await new Promise<void>((resolve) => (wake = resolve));
      const item = queue.shift()!;
      if ("done" in item) return;
      if ("error" in item) throw item.error;
      yield item.value;
    }
  }
  return { stream, push: (value) => add({ value }), fail: (error) => add({ error }), end: () => add({ done: true }) };
}

/** The shared catalog as ListCommandTypes answers it (what the gateway serves). */
export function catalogCommandTypes(): CommandType[] {
  return commandTypesOf();
}
