/**
 * Berth's operational log: one JSON object per line (time, level, msg, fields), so a container
 * platform, CloudWatch or Workers Logs can index it. BERTH_LOG_LEVEL picks the least severe
 * level written (debug < info < warn < error; `off` writes nothing). Nothing secret is ever
 * passed in: callers log account names, never passwords or tokens.
 */
import { ConfigError, type EnvLike } from '../config.ts';

export const LOG_LEVELS = ['debug', 'info', 'warn', 'error'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];
export type LogFields = Record<string, unknown>;

export interface Logger {
  debug(msg: string, fields?: LogFields): void;
  info(msg: string, fields?: LogFields): void;
  warn(msg: string, fields?: LogFields): void;
  error(msg: string, fields?: LogFields): void;
  /** True when a line of `level` would be written (skip building costly fields otherwise). */
  enabled(level: LogLevel): boolean;
}

export interface LoggerOptions {
  /** Least severe level written; null writes nothing. */
  level: LogLevel | null;
  write?: (line: string) => void;
  now?: () => Date;
}

export function createLogger(options: LoggerOptions): Logger {
  const write = options.write ?? ((line: string) => console.log(line));
  const now = options.now ?? (() => new Date());
  const threshold = options.level === null ? Infinity : LOG_LEVELS.indexOf(options.level);
  const enabled = (level: LogLevel): boolean => LOG_LEVELS.indexOf(level) >= threshold;
  const emit = (level: LogLevel) => (msg: string, fields: LogFields = {}): void => {
    if (!enabled(level)) return;
    write(JSON.stringify({ time: now().toISOString(), level, msg, ...fields }));
  };
  return { debug: emit('debug'), info: emit('info'), warn: emit('warn'), error: emit('error'), enabled };
}

/** BERTH_LOG_LEVEL: debug, info (default), warn, error or off. */
export function logLevelFromEnv(env: EnvLike): LogLevel | null {
  const raw = env.BERTH_LOG_LEVEL?.trim().toLowerCase();
  if (!raw) return 'info';
  if (raw === 'off' || raw === 'none') return null;
  if ((LOG_LEVELS as readonly string[]).includes(raw)) return raw as LogLevel;
  throw new ConfigError(`BERTH_LOG_LEVEL must be one of ${LOG_LEVELS.join(', ')} or off, got "${env.BERTH_LOG_LEVEL}"`);
}

/**
 * Adapts modules that log whole lines (auth start-up, GC) to the logger: a line that is a JSON
 * object keeps its fields (its `t` becomes the message), any other line becomes the message.
 */
export function lineSink(logger: Logger, level: LogLevel = 'info'): (line: string) => void {
  return (line) => {
    if (line.startsWith('{')) {
      try {
        const { t, ...fields } = JSON.parse(line) as LogFields;
        logger[level](typeof t === 'string' ? t : 'event', fields);
        return;
      } catch {
        // not JSON after all: log it as text
      }
    }
    logger[level](line);
  };
}

/** An error as log fields: name, message and the chain of causes (depth-limited). */
export function errorFields(error: unknown, depth = 0): LogFields {
  if (!(error instanceof Error)) return { message: String(error) };
  const fields: LogFields = { name: error.name, message: error.message };
  const code = (error as { code?: unknown }).code;
  if (typeof code === 'string' || typeof code === 'number') fields.code = code;
  if (error.cause !== undefined && depth < 5) fields.cause = errorFields(error.cause, depth + 1);
  if (depth === 0 && error.stack) fields.stack = error.stack.split('\n').slice(1, 6).map((l) => l.trim());
  return fields;
}
