import { Code, ConnectError, type Interceptor } from "@connectrpc/connect";
import { AuthService } from "@sovd/proto";

/** What the interceptor needs from the session: the current token and a way to end it. */
export interface TokenSource {
  /** The access token to send, or undefined when signed out. */
  accessToken(): string | undefined;
  /** Called when the gateway rejected a token the session sent: the session is over. */
  onUnauthenticated(): void;
}

/** Calls that establish a session themselves: their `unauthenticated` means bad credentials. */
const SESSION_METHODS = new Set(["Login", "Refresh", "Logout"]);

function isSessionCall(serviceName: string, methodName: string): boolean {
  return serviceName === AuthService.typeName && SESSION_METHODS.has(methodName);
}

/**
 * Adds `authorization: Bearer <access token>` to every call, and turns an `unauthenticated`
 * answer to a call that carried a token into the end of the session (back to the login page
 * with a message), for unary calls and for errors that end a server stream alike.
 */
export function createAuthInterceptor(tokens: TokenSource): Interceptor {
  return (next) => async (req) => {
    const token = tokens.accessToken();
    if (token) req.header.set("authorization", `Bearer ${token}`);
    const watch = token !== undefined && !isSessionCall(req.service.typeName, req.method.name);
    const check = (err: unknown): void => {
      if (watch && ConnectError.from(err).code === Code.Unauthenticated) tokens.onUnauthenticated();
    };
    try {
      const res = await next(req);
      if (!res.stream) return res;
      return { ...res, message: watchStream(res.message, check) };
    } catch (err) {
      check(err);
      throw err;
    }
  };
}

async function* watchStream<T>(messages: AsyncIterable<T>, check: (err: unknown) => void): AsyncIterable<T> {
  try {
    yield* messages;
  } catch (err) {
    check(err);
    throw err;
  }
}
