-- Up Migration
-- The tables (architecture §5 "Data"), including what auth needs (refresh tokens, stream tickets).
-- Status and role columns are text with CHECK constraints: readable in psql, cheap to extend.

CREATE TABLE users (
  user_id       uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  username      text NOT NULL UNIQUE CHECK (length(username) BETWEEN 1 AND 64),
  password_hash text NOT NULL,
  role          text NOT NULL CHECK (role IN ('viewer', 'engineer', 'admin')),
  is_active     boolean NOT NULL DEFAULT true,
  created_at    timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE vehicles (
  vehicle_id        uuid PRIMARY KEY,
  vin               text NOT NULL UNIQUE CHECK (vin ~ '^[A-HJ-NPR-Z0-9]{17}$'),
  make              text NOT NULL,
  model             text NOT NULL,
  year              integer NOT NULL CHECK (year BETWEEN 1980 AND 2100),
  connection_status text NOT NULL DEFAULT 'offline' CHECK (connection_status IN ('online', 'offline')),
  last_seen_at      timestamptz,
  -- The vehicle-link session that holds the vehicle now; a stale session never marks it offline.
  session_id        uuid,
  created_at        timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX vehicles_make_model_idx ON vehicles (lower(make), lower(model));

CREATE TABLE commands (
  command_id     uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  vehicle_id     uuid NOT NULL REFERENCES vehicles (vehicle_id),
  user_id        uuid NOT NULL REFERENCES users (user_id),
  command_name   text NOT NULL,
  command_params jsonb NOT NULL DEFAULT '{}'::jsonb,
  status         text NOT NULL CHECK (status IN ('pending', 'queued', 'in_progress', 'completed', 'failed', 'cancelled')),
  error_message  text,
  -- Where a failed command failed: dispatch, delivery or response.
  failure_phase  text CHECK (failure_phase IN ('dispatch', 'delivery', 'response')),
  -- The timeout the command runs under (type default or per request), in ms.
  timeout_ms     integer NOT NULL CHECK (timeout_ms > 0),
  idempotency_key text,
  correlation_id text,
  -- Highest sequence number stored so far: chunks must arrive as last_sequence + 1.
  last_sequence  integer NOT NULL DEFAULT 0,
  submitted_at   timestamptz NOT NULL DEFAULT now(),
  started_at     timestamptz,
  completed_at   timestamptz,
  deadline_at    timestamptz NOT NULL,
  CHECK ((status IN ('completed', 'failed', 'cancelled')) = (completed_at IS NOT NULL))
);
-- History queries: per vehicle, per user, everything; newest first.
CREATE INDEX commands_vehicle_submitted_idx ON commands (vehicle_id, submitted_at DESC, command_id DESC);
CREATE INDEX commands_user_submitted_idx ON commands (user_id, submitted_at DESC, command_id DESC);
CREATE INDEX commands_submitted_idx ON commands (submitted_at DESC, command_id DESC);
-- The deadline sweep only ever looks at open commands.
CREATE INDEX commands_open_deadline_idx ON commands (deadline_at) WHERE status IN ('pending', 'queued', 'in_progress');
-- Delivery of queued commands when a vehicle connects.
CREATE INDEX commands_queued_vehicle_idx ON commands (vehicle_id, submitted_at) WHERE status = 'queued';
CREATE UNIQUE INDEX commands_idempotency_idx ON commands (user_id, idempotency_key) WHERE idempotency_key IS NOT NULL;

CREATE TABLE responses (
  response_id      uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  command_id       uuid NOT NULL REFERENCES commands (command_id),
  response_payload jsonb NOT NULL,
  sequence_number  integer NOT NULL CHECK (sequence_number >= 1),
  is_final         boolean NOT NULL DEFAULT false,
  received_at      timestamptz NOT NULL DEFAULT now(),
  UNIQUE (command_id, sequence_number)
);

CREATE TABLE audit_logs (
  audit_id   uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  user_id    uuid,
  vehicle_id uuid,
  command_id uuid,
  action     text NOT NULL,
  details    jsonb NOT NULL DEFAULT '{}'::jsonb,
  ip_address text,
  user_agent text,
  request_id text,
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX audit_logs_created_idx ON audit_logs (created_at DESC, audit_id DESC);
CREATE INDEX audit_logs_user_idx ON audit_logs (user_id, created_at DESC);
CREATE INDEX audit_logs_command_idx ON audit_logs (command_id);
CREATE INDEX audit_logs_vehicle_idx ON audit_logs (vehicle_id, created_at DESC);
CREATE INDEX audit_logs_action_idx ON audit_logs (action, created_at DESC);

-- The audit log is append-only for the service: no row is ever changed or removed.
CREATE FUNCTION audit_logs_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'audit_logs is append-only';
END;
$$;
CREATE TRIGGER audit_logs_no_update BEFORE UPDATE OR DELETE ON audit_logs
  FOR EACH ROW EXECUTE FUNCTION audit_logs_append_only();

-- Rotating refresh tokens. A family is one login; reusing a rotated token revokes the family.
CREATE TABLE refresh_tokens (
  token_id    uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  family_id   uuid NOT NULL,
  user_id     uuid NOT NULL REFERENCES users (user_id),
  token_hash  text NOT NULL UNIQUE,
  expires_at  timestamptz NOT NULL,
  rotated_at  timestamptz,
  revoked_at  timestamptz,
  created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX refresh_tokens_family_idx ON refresh_tokens (family_id);

-- Short-lived single-use tickets for the WebSocket bridge.
CREATE TABLE stream_tickets (
  ticket_hash text PRIMARY KEY,
  user_id     uuid NOT NULL REFERENCES users (user_id),
  command_id  uuid,
  expires_at  timestamptz NOT NULL,
  used_at     timestamptz,
  created_at  timestamptz NOT NULL DEFAULT now()
);

-- Down Migration
DROP TABLE stream_tickets;
DROP TABLE refresh_tokens;
DROP TABLE audit_logs;
DROP FUNCTION audit_logs_append_only();
DROP TABLE responses;
DROP TABLE commands;
DROP TABLE vehicles;
DROP TABLE users;
