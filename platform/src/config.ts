/**
 * Environment parsing shared by every service (architecture §4 "Environment variables"). Each
 * reader fails at start with a ConfigError naming the variable and what was wrong with it,
 * never later.
 */

/** A bad or missing environment variable. The message names it. */
export class ConfigError extends Error {
  override readonly name = "ConfigError";
}

/** The environment as a plain record, so tests pass their own. */
export type Env = Readonly<Record<string, string | undefined>>;

const present = (env: Env, name: string): string | undefined => {
  const v = env[name];
  return v === undefined || v.trim() === "" ? undefined : v.trim();
};

export function envString(env: Env, name: string, fallback?: string): string {
  const v = present(env, name) ?? fallback;
  if (v === undefined) throw new ConfigError(`${name} is required`);
  return v;
}

export function envOptional(env: Env, name: string): string | undefined {
  return present(env, name);
}

export function envInt(env: Env, name: string, fallback: number, bounds: { min?: number; max?: number } = {}): number {
  const raw = present(env, name);
  if (raw === undefined) return fallback;
  if (!/^-?\d+$/.test(raw)) throw new ConfigError(`${name} must be an integer, got "${raw}"`);
  const n = Number(raw);
  if (bounds.min !== undefined && n < bounds.min) throw new ConfigError(`${name} must be at least ${bounds.min}, got ${n}`);
  if (bounds.max !== undefined && n > bounds.max) throw new ConfigError(`${name} must be at most ${bounds.max}, got ${n}`);
  return n;
}

/** A probability in [0, 1]. */
export function envRate(env: Env, name: string, fallback: number): number {
  const raw = present(env, name);
  if (raw === undefined) return fallback;
  const n = Number(raw);
  if (!Number.isFinite(n) || n < 0 || n > 1) throw new ConfigError(`${name} must be a number between 0 and 1, got "${raw}"`);
  return n;
}

export function envBool(env: Env, name: string, fallback: boolean): boolean {
  const raw = present(env, name);
  if (raw === undefined) return fallback;
  if (/^(1|true|yes|on)$/i.test(raw)) return true;
  if (/^(0|false|no|off)$/i.test(raw)) return false;
  throw new ConfigError(`${name} must be true or false, got "${raw}"`);
}

export function envUrl(env: Env, name: string, protocols: readonly string[]): string | undefined {
  const raw = present(env, name);
  if (raw === undefined) return undefined;
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new ConfigError(`${name} must be a URL, got "${redactUrl(raw)}"`);
  }
  if (!protocols.includes(url.protocol)) {
    throw new ConfigError(`${name} must use ${protocols.join(" or ")}, got "${url.protocol}"`);
  }
  return raw;
}

/** `host:port`, as CONNECTOR_URL is written. */
export function envHostPort(env: Env, name: string, fallback: string): string {
  const v = present(env, name) ?? fallback;
  if (!/^[A-Za-z0-9.\-[\]:]+:\d{1,5}$/.test(v)) throw new ConfigError(`${name} must be host:port, got "${v}"`);
  return v;
}

const LOG_LEVELS = ["fatal", "error", "warn", "info", "debug", "trace", "silent"] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export function envLogLevel(env: Env, name = "LOG_LEVEL", fallback: LogLevel = "info"): LogLevel {
  const v = present(env, name) ?? fallback;
  if (!(LOG_LEVELS as readonly string[]).includes(v)) throw new ConfigError(`${name} must be one of ${LOG_LEVELS.join(", ")}, got "${v}"`);
  return v as LogLevel;
}

/** Hides the password of a connection URL for logs and error messages. */
export function redactUrl(raw: string): string {
  try {
    const url = new URL(raw);
    if (url.password) url.password = "***";
    return url.toString();
  } catch {
    return raw.replace(/\/\/([^:@/]+):[^@/]*@/, "//$1:***@");
  }
}

/**
 * A rough measure of how guessable a secret is, in bits: its length times the Shannon entropy
 * of its characters. Random keys score close to their real strength (32 random hex digits
 * about 110, `openssl rand -base64 48` about 350); repeated characters and short alphabets
 * score low ("a" x 32 scores 0), which is what production refuses (architecture §4
 * "Environment variables").
 */
export function secretEntropyBits(secret: string): number {
  const counts = new Map<string, number>();
  for (const ch of secret) counts.set(ch, (counts.get(ch) ?? 0) + 1);
  const length = [...secret].length;
  let perChar = 0;
  for (const n of counts.values()) perChar -= (n / length) * Math.log2(n / length);
  return length * perChar;
}
