import { randomUUID } from "node:crypto";
import { pino, type Logger } from "pino";
import type { LogLevel } from "./config.js";

export type { Logger } from "pino";

/**
 * Paths pino blanks out in every log line: passwords and tokens never reach a log
 * (architecture §8 "Observability").
 */
const REDACT_PATHS = [
  "password",
  "*.password",
  "token",
  "*.token",
  "accessToken",
  "*.accessToken",
  "refreshToken",
  "*.refreshToken",
  "ticket",
  "*.ticket",
  "authorization",
  "*.authorization",
  "headers.authorization",
  "*.headers.authorization",
  "headers.cookie",
  "*.headers.cookie",
  // Wire (snake_case) spellings and the other secrets a config or row object may carry.
  "access_token",
  "*.access_token",
  "refresh_token",
  "*.refresh_token",
  "password_hash",
  "*.password_hash",
  "passwordHash",
  "*.passwordHash",
  "jwtSecret",
  "*.jwtSecret",
  "*.*.jwtSecret",
];

export interface LoggerOptions {
  service: string;
  level?: LogLevel;
  /** Human-readable output (LOG_PRETTY=1); JSON otherwise. */
  pretty?: boolean;
  /** Distinguishes replicas; a random id when absent. */
  instance?: string;
  /** Where lines go; stdout when absent. Tests pass a stream to read the lines back. */
  destination?: NodeJS.WritableStream;
}

/** One logger per service, every line carrying `service` and `instance`. */
export function createLogger(opts: LoggerOptions): Logger {
  const base = { service: opts.service, instance: opts.instance ?? randomUUID().slice(0, 8) };
  const options = { level: opts.level ?? "info", base, redact: { paths: REDACT_PATHS, censor: "[redacted]" } };
  if (opts.destination) return pino(options, opts.destination as pino.DestinationStream);
  if (opts.pretty) {
    return pino({ ...options, transport: { target: "pino-pretty", options: { colorize: true, translateTime: "SYS:HH:MM:ss.l" } } });
  }
  return pino(options);
}
