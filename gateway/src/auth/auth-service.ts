import { create } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import type { HandlerContext, ServiceImpl } from "@connectrpc/connect";
import { DUMMY_PASSWORD_HASH, insertAudit, verifyPassword } from "@sovd/domain";
import { withTransaction, type Logger, type Pool } from "@sovd/platform";
import {
  CreateStreamTicketResponseSchema,
  LoginResponseSchema,
  LogoutResponseSchema,
  RefreshResponseSchema,
  UserSchema,
  WhoAmIResponseSchema,
  type AuthService,
  type User,
} from "@sovd/proto";
import { clientInfoKey } from "../request-context.js";
import type { AccessTokens } from "./access-token.js";
import type { AuthMetrics } from "./auth-metrics.js";
import { hashOpaqueToken } from "./opaque-token.js";
import { requirePrincipal, type Principal } from "./principal.js";
import { RefreshTokenError, type AuditContext, type RefreshTokens } from "./refresh-tokens.js";
import { isRoleName, roleToProto } from "./roles.js";
import type { StreamTickets } from "./stream-tickets.js";
import { optionalUuid, requireString, requireText, UnauthenticatedError } from "../rpc/index.js";
import { MAX_PASSWORD_LENGTH, MAX_USERNAME_LENGTH, requireOpaqueToken } from "./validate.js";

/** The one answer to a failed login, whatever failed (unknown user, wrong password, inactive): nothing to enumerate. */
const LOGIN_FAILED_MESSAGE = "invalid username or password";
/** The one answer to a refused refresh token (unknown, expired, revoked, reused). */
const REFRESH_FAILED_MESSAGE = "invalid or expired refresh token";

interface LoginRow {
  user_id: string;
  username: string;
  password_hash: string;
  role: string;
  is_active: boolean;
}

/** What the AuthService handlers are built from; createAuth wires them. */
export interface AuthServiceDeps {
  pool: Pool;
  logger: Logger;
  metrics: AuthMetrics;
  accessTokens: AccessTokens;
  refreshTokens: RefreshTokens;
  streamTickets: StreamTickets;
}

const userMessage = (p: Principal): User => create(UserSchema, { userId: p.userId, username: p.username, role: roleToProto(p.role) });

function auditContext(ctx: HandlerContext): AuditContext {
  const c = ctx.values.get(clientInfoKey);
  return { ipAddress: c.ipAddress, userAgent: c.userAgent, requestId: c.requestId || null };
}

/** AuthService (architecture §4 "Services"): login, rotating refresh, logout, who-am-i, stream tickets. */
export function createAuthService(deps: AuthServiceDeps): ServiceImpl<typeof AuthService> {
  const { pool, logger, metrics } = deps;

  const session = async (user: Principal, refresh: { token: string }) => {
    const access = await deps.accessTokens.issue(user);
    return {
      accessToken: access.token,
      refreshToken: refresh.token,
      expiresAt: timestampFromDate(access.expiresAt),
      user: userMessage(user),
    };
  };

  return {
    async login(req, ctx) {
      const username = requireText("username", req.username, MAX_USERNAME_LENGTH);
      const password = requireString("password", req.password, MAX_PASSWORD_LENGTH);
      const audit = auditContext(ctx);
      const { rows } = await pool.query<LoginRow>(
        "SELECT user_id, username, password_hash, role, is_active FROM users WHERE username = $1",
        [username],
      );
      const row = rows[0];
      // Always run scrypt, against a dummy hash for unknown users, so timing tells nothing.
      const passwordOk = await verifyPassword(password, row?.password_hash ?? DUMMY_PASSWORD_HASH);
      if (!row || !passwordOk || !row.is_active || !isRoleName(row.role)) {
        const reason = !row ? "unknown_user" : !passwordOk ? "wrong_password" : "inactive_user";
        await insertAudit(pool, { action: "user_login_failed", userId: row?.user_id ?? null, details: { username, reason }, ...audit });
        metrics.failure("bad_credentials");
        // Logs travel further than the admin-only audit table: an unknown "username" is often a
        // password typed into the wrong field, so only known usernames are logged verbatim.
        logger.info({ username: row ? username : `unknown#${hashOpaqueToken(username).slice(0, 12)}`, reason, requestId: audit.requestId }, "login failed");
        throw new UnauthenticatedError(LOGIN_FAILED_MESSAGE);
      }
      const user: Principal = { userId: row.user_id, username: row.username, role: row.role };
      const refresh = await withTransaction(pool, async (tx) => {
        const r = await deps.refreshTokens.startFamily(tx, user.userId);
        await insertAudit(tx, { action: "user_login", userId: user.userId, details: { username: user.username }, ...audit });
        return r;
      });
      logger.info({ userId: user.userId, username: user.username, requestId: audit.requestId }, "user logged in");
      return create(LoginResponseSchema, await session(user, refresh));
    },

    async refresh(req, ctx) {
      const token = requireOpaqueToken("refresh_token", req.refreshToken);
      const audit = auditContext(ctx);
      try {
        const rotated = await deps.refreshTokens.rotate(token, audit);
        return create(RefreshResponseSchema, await session(rotated.user, rotated));
      } catch (err) {
        if (!(err instanceof RefreshTokenError)) throw err;
        metrics.failure(err.reason === "reused" ? "refresh_token_reuse" : "invalid_refresh_token");
        const log = { reason: err.reason, requestId: audit.requestId };
        if (err.reason === "reused") logger.warn(log, "refresh token reused; its family is revoked");
        else logger.info(log, "refresh refused");
        throw new UnauthenticatedError(REFRESH_FAILED_MESSAGE);
      }
    },

    async logout(req, ctx) {
      const principal = requirePrincipal(ctx);
      const token = requireOpaqueToken("refresh_token", req.refreshToken);
      // Someone else's or an unknown token: nothing to revoke, and nothing to reveal either.
      await deps.refreshTokens.revokeFamily(token, principal.userId, auditContext(ctx));
      return create(LogoutResponseSchema);
    },

    whoAmI(_req, ctx) {
      return create(WhoAmIResponseSchema, { user: userMessage(requirePrincipal(ctx)) });
    },

    async createStreamTicket(req, ctx) {
      const principal = requirePrincipal(ctx);
      const commandId = optionalUuid("command_id", req.commandId);
      const { ticket, expiresAt } = await deps.streamTickets.create(principal.userId, commandId);
      return create(CreateStreamTicketResponseSchema, { ticket, expiresAt: timestampFromDate(expiresAt) });
    },
  };
}
