import { InvalidTokenError, type AccessTokens } from "./access-token.js";
import type { AuthMetrics, AuthFailureReason } from "./auth-metrics.js";
import type { Principal } from "./principal.js";
import type { StreamTickets } from "./stream-tickets.js";
import type { UserDirectory } from "./user-directory.js";
import { MAX_ACCESS_TOKEN_LENGTH, OPAQUE_TOKEN } from "./validate.js";

/**
 * Turns a credential into the caller, for the interceptor (Bearer JWT) and the WebSocket
 * bridge (JWT or stream ticket). The token proves who; the user directory says whether that
 * user is still active and what role they have now (a demotion applies before the token
 * expires). Every refusal is an InvalidTokenError with a fixed message.
 */
export interface Authenticator {
  fromAccessToken(token: string | undefined): Promise<Principal>;
  fromStreamCredential(credential: { token?: string; ticket?: string }, commandId: string): Promise<Principal>;
}

const FAILURE: Record<InvalidTokenError["reason"], AuthFailureReason> = {
  missing: "missing_token",
  expired: "expired_token",
  invalid: "invalid_token",
  inactive: "inactive_user",
};

/** Wires tokens, tickets and the user directory; counts every refusal in auth_failures_total. */
export function createAuthenticator(deps: {
  accessTokens: AccessTokens;
  users: UserDirectory;
  streamTickets: StreamTickets;
  metrics: AuthMetrics;
}): Authenticator {
  const activeUser = async (userId: string): Promise<Principal> => {
    const user = await deps.users.get(userId);
    if (!user || !user.isActive) throw new InvalidTokenError("inactive");
    return { userId: user.userId, username: user.username, role: user.role };
  };

  const fromAccessToken = async (token: string | undefined): Promise<Principal> => {
    if (!token) throw new InvalidTokenError("missing");
    if (token.length > MAX_ACCESS_TOKEN_LENGTH) throw new InvalidTokenError("invalid");
    const claims = await deps.accessTokens.verify(token);
    return activeUser(claims.userId);
  };

  const counted = async (attempt: Promise<Principal>, ticket = false): Promise<Principal> => {
    try {
      return await attempt;
    } catch (err) {
      if (err instanceof InvalidTokenError) deps.metrics.failure(ticket && err.reason === "invalid" ? "invalid_stream_ticket" : FAILURE[err.reason]);
      throw err;
    }
  };

  return {
    fromAccessToken: (token) => counted(fromAccessToken(token)),
    fromStreamCredential(credential, commandId) {
      const { ticket, token } = credential;
      if (ticket) {
        return counted(
          (async () => {
            if (!OPAQUE_TOKEN.test(ticket)) throw new InvalidTokenError("invalid");
            const userId = await deps.streamTickets.consume(ticket, commandId);
            if (!userId) throw new InvalidTokenError("invalid");
            return activeUser(userId);
          })(),
          true,
        );
      }
      return counted(fromAccessToken(token));
    },
  };
}
