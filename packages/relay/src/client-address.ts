import type { IncomingMessage } from 'node:http';
import type { ResolvedOptions } from './options.js';

/**
 * The caller's address for per-address limits: the socket's, unless `trustProxy` names how many
 * proxies in front of the relay append to `X-Forwarded-For` — then the entry that many hops from
 * the right (entries further left are whatever the caller wrote, so never trusted).
 */
export function clientAddress(options: ResolvedOptions, req: IncomingMessage): string {
  const socketAddress = req.socket.remoteAddress ?? '?';
  if (!options.trustProxy) return socketAddress;
  const forwarded = req.headers['x-forwarded-for'];
  const list = (Array.isArray(forwarded) ? forwarded.join(',') : (forwarded ?? ''))
    .split(',')
    .map((part) => part.trim())
    .filter(Boolean);
  const entry = list[list.length - options.trustProxy];
  return entry && entry.length <= 64 ? entry : socketAddress;
}
