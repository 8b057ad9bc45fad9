import { createHash, randomBytes } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { pino, type Logger } from 'pino';
import { header } from './http-util.js';

export type { Logger };

/** Levels `logLevel` (CLI `--log-level`, env `COBROWSE_LOG_LEVEL`) accepts. */
export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/**
 * Fields that must never reach a log line, whatever a caller passes: credentials, connection
 * signatures, tokens, cookies and passphrases. The relay does not log them in the first place;
 * this is the second lock.
 */
const REDACT = [
  'signature',
  'token',
  'passphrase',
  'secret',
  'cookie',
  'authorization',
  'headers',
  'url',
  '*.signature',
  '*.token',
  '*.passphrase',
  '*.secret',
  '*.cookie',
  '*.authorization',
  '*.headers',
  '*.url',
];

/**
 * The relay's structured logger: one JSON object per line (pino), each written through `log`
 * (the library option; default stderr) as a string without its newline.
 */
export function createLogger(level: LogLevel, log: (line: string) => void): Logger {
  return pino(
    {
      level,
      base: { name: 'cobrowse-relay' },
      redact: { paths: REDACT, censor: '[redacted]' },
      formatters: { level: (label) => ({ level: label }) },
      timestamp: pino.stdTimeFunctions.isoTime,
    },
    { write: (chunk: string) => log(chunk.endsWith('\n') ? chunk.slice(0, -1) : chunk) },
  );
}

const PREFIX = randomBytes(4).toString('hex');
let sequence = 0;

/**
 * A request's id, on every line logged about it and in its `X-Request-Id` response header: the
 * caller's `X-Request-Id` when the relay sits behind trusted proxies (`trustProxy`) and the value
 * is short and plain, else a fresh one (process prefix + counter).
 */
export function requestId(req: IncomingMessage, trustProxy: number): string {
  if (trustProxy > 0) {
    const given = header(req, 'x-request-id');
    if (given && /^[A-Za-z0-9._:-]{1,64}$/.test(given)) return given;
  }
  return `${PREFIX}-${(++sequence).toString(36)}`;
}

/**
 * A room as logs name it: its key (scope/id), except where the id is itself a secret someone
 * could join with. Seed 002's room id is the session token the customer reads out: logs carry
 * only a hash prefix of it.
 */
export function roomRef(key: string): string {
  if (key.startsWith('session/')) return `session/#${createHash('sha256').update(key).digest('hex').slice(0, 12)}`;
  return key;
}

/** The room a request is about (its key), noted by the core when it signs a token for it. */
const requestRooms = new WeakMap<IncomingMessage, string>();

export function noteRoom(req: IncomingMessage, key: string): void {
  requestRooms.set(req, key);
}

export function roomOf(req: IncomingMessage): string | undefined {
  return requestRooms.get(req);
}
