import { COMMAND_CATALOG } from "@sovd/proto";
import { envInt, type Env } from "@sovd/platform";

/** Per command type timeouts in ms, keyed by command name. */
export type CommandTimeouts = Readonly<Record<string, number>>;

/**
 * `COMMAND_TIMEOUT_<NAME>_MS` for every catalog command, name upper-cased
 * (architecture §4 "Environment variables"), defaulting to the catalog's timeout. Only the
 * gateway reads them: it stores `timeout_ms` and `deadline_at` with the command, and the
 * connector arms its timer from those columns.
 */
export function loadCommandTimeouts(env: Env): CommandTimeouts {
  const out: Record<string, number> = {};
  for (const c of COMMAND_CATALOG) {
    out[c.name] = envInt(env, `COMMAND_TIMEOUT_${c.name.toUpperCase()}_MS`, c.defaultTimeoutMs, { min: 1, max: 3_600_000 });
  }
  return Object.freeze(out);
}
