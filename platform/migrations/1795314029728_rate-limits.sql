-- Up Migration
-- Rate limit counters of the gateway (architecture §7 "Gateway HTTP"), shared by every
-- gateway instance so "5 logins per minute" holds behind a load balancer. Layout of
-- rate-limiter-flexible's RateLimiterPostgres: `expire` is epoch milliseconds; rows past it
-- are reset on next use and deleted by the gateway's housekeeping.
CREATE TABLE rate_limits (
  key    varchar(255) PRIMARY KEY,
  points integer NOT NULL DEFAULT 0,
  expire bigint
);
CREATE INDEX rate_limits_expire_idx ON rate_limits (expire);

-- Housekeeping deletes used and expired stream tickets by expiry.
CREATE INDEX stream_tickets_expires_idx ON stream_tickets (expires_at);

-- Down Migration
DROP INDEX stream_tickets_expires_idx;
DROP TABLE rate_limits;
