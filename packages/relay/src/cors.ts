import type { IncomingMessage, ServerResponse } from 'node:http';
import { SOCKET_AHEAD_HEADER } from '@cobrowse/protocol';
import type { ResolvedOptions } from './options.js';

const ALLOWED_HEADERS =
  'content-type, ccmessaging-token, x-app-key, authorization, x-tenantspaceid, guid, x-cobrowse-user-token';

/** Whether a browser at `origin` may call the REST doors. */
export function originAllowed(options: ResolvedOptions, origin: string | undefined): boolean {
  if (!origin) return false;
  return options.dev || options.corsOrigins.includes(origin);
}

/**
 * Adds CORS headers for an allowed Origin. Returns true when the request was a preflight and has
 * been answered. Requests without an Origin (server to server) pass through untouched.
 */
export function applyCors(options: ResolvedOptions, req: IncomingMessage, res: ServerResponse): boolean {
  const origin = req.headers.origin;
  const allowed = originAllowed(options, origin);
  if (allowed) {
    res.setHeader('access-control-allow-origin', origin!);
    res.setHeader('access-control-allow-credentials', 'true');
    res.setHeader('vary', 'Origin');
    // A prepared agent view reads where the relay's socket opened ahead is (its warm-up's answer).
    res.setHeader('access-control-expose-headers', SOCKET_AHEAD_HEADER);
  }
  if (req.method === 'OPTIONS' && req.headers['access-control-request-method']) {
    if (allowed) {
      res.writeHead(204, {
        'access-control-allow-methods': 'GET, POST, DELETE, OPTIONS',
        'access-control-allow-headers': ALLOWED_HEADERS,
        'access-control-max-age': '600',
      });
    } else {
      res.writeHead(403, { 'content-type': 'text/plain; charset=utf-8' });
    }
    res.end(allowed ? undefined : 'origin not allowed');
    return true;
  }
  return false;
}
