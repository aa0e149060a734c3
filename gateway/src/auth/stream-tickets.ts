import type { Pool } from "@sovd/platform";
import { hashOpaqueToken, newOpaqueToken } from "./opaque-token.js";
import { isUuid } from "../rpc/index.js";

/**
 * Single-use tickets for the WebSocket bridge: a browser asks for one with its access token
 * and opens `/ws/responses/{id}?ticket=…`, so the JWT never lands in a URL (proxy logs,
 * history). Stored hashed; consumed atomically, so two sockets racing with one
 * ticket cannot both get in.
 */
export interface StreamTickets {
  create(userId: string, commandId: string | undefined): Promise<{ ticket: string; expiresAt: Date }>;
  /** The user id of a valid, unused, unexpired ticket good for `commandId`; undefined otherwise. Burns it. */
  consume(ticket: string, commandId: string): Promise<string | undefined>;
  /** Deletes tickets that expired before `before` (housekeeping). */
  purgeExpired(before: Date): Promise<void>;
}

/** Tickets in `stream_tickets`, valid `ttlSeconds` after creation. */
export function createStreamTickets(opts: { pool: Pool; ttlSeconds: number; now: () => Date }): StreamTickets {
  return {
    async create(userId, commandId) {
      const { token: ticket, hash } = newOpaqueToken();
      const expiresAt = new Date(opts.now().getTime() + opts.ttlSeconds * 1000);
      await opts.pool.query("INSERT INTO stream_tickets (ticket_hash, user_id, command_id, expires_at) VALUES ($1, $2, $3, $4)", [
        hash,
        userId,
        commandId ?? null,
        expiresAt,
      ]);
      return { ticket, expiresAt };
    },
    async consume(ticket, commandId) {
      // A ticket bound to a command is good for that command only; a non-UUID id matches none.
      const { rows } = await opts.pool.query<{ user_id: string }>(
        `UPDATE stream_tickets SET used_at = $2
          WHERE ticket_hash = $1 AND used_at IS NULL AND expires_at > $2
            AND (command_id IS NULL OR command_id = $3::uuid)
          RETURNING user_id`,
        [hashOpaqueToken(ticket), opts.now(), isUuid(commandId) ? commandId : null],
      );
      return rows[0]?.user_id;
    },
    async purgeExpired(before) {
      await opts.pool.query("DELETE FROM stream_tickets WHERE expires_at < $1", [before]);
    },
  };
}
