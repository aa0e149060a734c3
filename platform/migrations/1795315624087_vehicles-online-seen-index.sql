-- Up Migration
-- The connector's presence sweep: online vehicles whose last_seen_at is old (their connector
-- died without marking them offline). Partial, so it only ever holds the online fleet.
CREATE INDEX vehicles_online_seen_idx ON vehicles (last_seen_at) WHERE connection_status = 'online';

-- Down Migration
DROP INDEX vehicles_online_seen_idx;
