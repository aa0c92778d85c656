/**
 * pino JSON logger. Secrets never reach it: the redact list covers every header and field
 * that can carry a password or token, as a second line of defence behind code that never
 * passes them.
 */
import { pino, type Logger } from 'pino';

export type { Logger };

/**
 * A JSON logger on stdout. Lines are written asynchronously: under load, lines logged while
 * a write is in flight go out together in the next one instead of one write(2) each (one
 * access-log line per request made that a visible share of a manifest GET). pino flushes
 * what is pending when the process exits.
 */
export function createLogger(options: { level?: string; name?: string } = {}): Logger {
  return pino({
    name: options.name,
    level: options.level ?? process.env.LOG_LEVEL ?? 'info',
    redact: {
      paths: [
        'req.headers.authorization',
        'headers.authorization',
        'password',
        'secret',
        'token',
        'refresh_token',
        'access_token',
        '*.password',
        '*.secret',
        '*.token',
      ],
      censor: '[redacted]',
    },
  }, pino.destination({ dest: 1, sync: false }));
}

/** A logger that writes nothing, for tests. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
