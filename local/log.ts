/** Line-oriented logger for the local runner: `hh:mm:ss.mmm component  message`. */

export type LogLevel = 'debug' | 'info' | 'warn' | 'error' | 'silent';

const ORDER: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40, silent: 100 };

export interface LocalLogger {
  debug(message: string): void;
  info(message: string): void;
  warn(message: string): void;
  error(message: string): void;
  /** A logger for a sub-component, sharing level and sink. */
  child(component: string): LocalLogger;
}

export interface LoggerOptions {
  readonly level?: LogLevel;
  /** Where lines go; defaults to stdout (info, debug) and stderr (warn, error). */
  readonly sink?: (level: Exclude<LogLevel, 'silent'>, line: string) => void;
}

export function isLogLevel(value: string | undefined): value is LogLevel {
  return value !== undefined && value in ORDER;
}

const defaultSink = (level: Exclude<LogLevel, 'silent'>, line: string): void => {
  if (level === 'warn' || level === 'error') process.stderr.write(`${line}\n`);
  else process.stdout.write(`${line}\n`);
};

export function createLogger(component: string, options: LoggerOptions = {}): LocalLogger {
  const level = options.level ?? 'info';
  const sink = options.sink ?? defaultSink;
  const emit = (at: Exclude<LogLevel, 'silent'>, message: string): void => {
    if (ORDER[at] < ORDER[level]) return;
    const time = new Date().toISOString().slice(11, 23);
    const tag = at === 'warn' ? ' WARN' : at === 'error' ? ' ERROR' : '';
    sink(at, `${time} ${component.padEnd(16)}${tag} ${message}`);
  };
  return {
    debug: (m) => emit('debug', m),
    info: (m) => emit('info', m),
    warn: (m) => emit('warn', m),
    error: (m) => emit('error', m),
    child: (name) => createLogger(name, options),
  };
}

/** Formats an unknown thrown value for one log line. */
export function describeError(error: unknown): string {
  if (error instanceof Error) return `${error.name}: ${error.message}`;
  return String(error);
}
