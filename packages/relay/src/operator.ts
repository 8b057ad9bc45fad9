import type { IncomingMessage, ServerResponse } from 'node:http';
import { DEV_CREDENTIAL, credentialListed } from './auth.js';
import { header, sendJson } from './http-util.js';
import type { ResolvedOptions } from './options.js';

/**
 * The operator credential: config `operatorToken` (env `COBROWSE_OPERATOR_TOKEN`), sent as
 * `Authorization: Bearer <token>`; under `--dev` the token `dev` works too. It guards every
 * endpoint that reveals rooms, users or recordings (status, metrics, recordings).
 */
export function isOperator(options: ResolvedOptions, req: IncomingMessage): boolean {
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header(req, 'authorization') ?? '');
  if (!match) return false;
  const token = match[1]!;
  if (options.operatorToken && credentialListed(token, [options.operatorToken])) return true;
  return options.dev && token === DEV_CREDENTIAL;
}

/**
 * Refuses a request that lacks the operator credential: 401 with a `WWW-Authenticate` challenge
 * when none was sent, 403 when a wrong one was. Returns true when the caller may go on.
 */
export function requireOperator(options: ResolvedOptions, req: IncomingMessage, res: ServerResponse): boolean {
  if (isOperator(options, req)) return true;
  req.resume();
  const sent = header(req, 'authorization') !== undefined;
  if (!sent) res.setHeader('www-authenticate', 'Bearer realm="cobrowse-relay operator"');
  sendJson(res, sent ? 403 : 401, { error: sent ? 'operator credential refused' : 'operator credential required' });
  return false;
}
