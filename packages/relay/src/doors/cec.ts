import type { IncomingMessage, ServerResponse } from 'node:http';
import { CEC_PATH, CEC_TOKEN_COOKIE, type CecResponse, CecRetCode, isRole } from '@cobrowse/protocol';
import { BodyError, header, readCookie, readJsonBody, sendJson } from '../http-util.js';
import { type Core, validRoomId } from '../core.js';
import { authenticate } from '../auth.js';
import { originAllowed } from '../cors.js';
import type { Router } from '../router.js';

const BODY_CODES: Record<number, string> = {
  400: CecRetCode.BadRequest,
  413: CecRetCode.TooLarge,
  415: CecRetCode.UnsupportedMediaType,
};

/**
 * Seed 000: `POST /service-cloud/rest/webadapter/v1/connectionInfo/getConnectionInfo`.
 * Token from the `ccmessaging-token` cookie (or header of that name); every body field mandatory;
 * replies `{retCode, retMsg, data}` with retCode "0" on success.
 */
export function cecDoor(core: Core, router: Router): void {
  router.on('POST', CEC_PATH, (req, res) => getConnectionInfo(core, req, res));
  router.otherwise(CEC_PATH, (_req, res) => {
    res.setHeader('allow', 'POST, OPTIONS');
    sendJson(res, 405, { retCode: CecRetCode.BadRequest, retMsg: 'method not allowed: use POST' });
  });
  router.onError(CEC_PATH, (res) => sendJson(res, 500, { retCode: CecRetCode.Internal, retMsg: 'internal error' }));
}

async function getConnectionInfo(core: Core, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const reply = (status: number, retCode: string, retMsg: string, data?: CecResponse['data']) =>
    sendJson(res, status, data ? { retCode, retMsg, data } : { retCode, retMsg });
  const { options } = core;
  if (req.headers.origin && !originAllowed(options, req.headers.origin)) {
    req.resume();
    return reply(403, CecRetCode.Forbidden, 'origin not allowed');
  }
  const credential = readCookie(header(req, 'cookie'), CEC_TOKEN_COOKIE) ?? header(req, CEC_TOKEN_COOKIE);
  const principal = await authenticate(options, req, 'cec', credential, options.cecTokens);
  if (!principal) {
    req.resume();
    return reply(
      401,
      CecRetCode.Unauthorized,
      credential ? 'invalid ccmessaging-token' : 'missing ccmessaging-token cookie',
    );
  }
  let body: Record<string, unknown>;
  try {
    body = await readJsonBody(req, options.maxBodyBytes);
  } catch (error) {
    if (error instanceof BodyError) return reply(error.status, BODY_CODES[error.status]!, error.message);
    throw error;
  }
  for (const field of ['roomId', 'userId', 'userName', 'role'] as const) {
    const value = body[field];
    if (value === undefined || value === null || value === '')
      return reply(400, CecRetCode.BadRequest, `${field} is mandatory`);
    if (typeof value !== 'string') return reply(400, CecRetCode.BadRequest, `${field} must be a string`);
    if (value.length > 128) return reply(400, CecRetCode.BadRequest, `${field} is longer than 128 characters`);
  }
  if (!validRoomId(body.roomId))
    return reply(400, CecRetCode.BadRequest, 'roomId may hold only letters, digits and . _ : @ -');
  const role = body.role === 'observer' ? 'replayer' : body.role;
  if (!isRole(role)) return reply(400, CecRetCode.BadRequest, 'role must be recorder or replayer (observer)');
  const { expiresAt: _, ...data } = await core.issue(req, {
    roomId: body.roomId,
    role,
    userId: body.userId as string,
    userName: body.userName as string,
  });
  reply(200, CecRetCode.Ok, 'success', data);
}
