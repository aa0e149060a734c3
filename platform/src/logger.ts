import { randomUUID } from "node:crypto";
import { Writable } from "node:stream";
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

/** Log lines kept in memory, so a test can read back what a service logged (or did not). */
export interface CapturedLogs {
  /** A logger for the service `captureLogs` was given. */
  readonly logger: Logger;
  /** Every line written so far by any of its loggers, parsed, in order. */
  readonly lines: readonly Record<string, unknown>[];
  /** Everything written so far, as the raw text a log shipper would receive. */
  text(): string;
  /** Another service's logger writing into the same capture, built as `createLogger` builds any. */
  loggerFor(service: string, level?: LogLevel): Logger;
  /** Forgets the lines written so far. */
  clear(): void;
}

/**
 * A memory sink behind real `createLogger` loggers (redaction and all), for tests that assert
 * on log lines: one helper instead of a hand-written stream in every test. Level debug
 * unless told.
 */
export function captureLogs(opts: { service: string; level?: LogLevel }): CapturedLogs {
  const lines: Record<string, unknown>[] = [];
  let text = "";
  const destination = new Writable({
    write(chunk: Buffer, _encoding, done) {
      const written = chunk.toString("utf8");
      text += written;
      for (const line of written.split("\n")) if (line.trim()) lines.push(JSON.parse(line) as Record<string, unknown>);
      done();
    },
  });
  const loggerFor = (service: string, level: LogLevel = "debug"): Logger => createLogger({ service, level, destination });
  return {
    logger: loggerFor(opts.service, opts.level),
    lines,
    text: () => text,
    loggerFor,
    clear() {
      lines.length = 0;
      text = "";
    },
  };
}
