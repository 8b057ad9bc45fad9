import type { IncomingMessage, ServerResponse } from 'node:http';
import { randomUUID } from 'node:crypto';
import {
  APIACCESS_PATH,
  APIACCESS_PREFIX,
  ApiaccessErrorCode,
  type ApiaccessResponse,
  isRole,
} from '@cobrowse/protocol';
import { BodyError, header, readJsonBody, sendJson } from '../http-util.js';
import { type Core, validRoomId, validTenant } from '../core.js';
import { credentialId, credentialListed, DEV_CREDENTIAL } from '../auth.js';
import { originAllowed } from '../cors.js';
import type { Principal } from '../options.js';
import type { Router } from '../router.js';

type Reply = (
  status: number,
  errorCode: number | null,
  errorReason: string | null,
  data?: ApiaccessResponse['data'],
) => void;

/**
 * Seed 001: `POST /apiaccess/api/cobrowse/getConnectionInfo` behind an API gateway. Headers
 * `x-app-key`, `Authorization: Bearer <token>`, `X-TenantSpaceID`; `roomId` optional (a UUID is made);
 * `{success, data:{roomId, wssUrl, wssUrlOut, connectParam}, errorCode, errorReason}`; 401/404/500.
 * Rooms live in their tenant space: a token of one tenant never reaches another tenant's room.
 */
export function apiaccessDoor(core: Core, router: Router): void {
  router.on('POST', APIACCESS_PATH, (req, res) => getConnectionInfo(core, req, res, replier(res)));
  router.otherwise(APIACCESS_PREFIX, (req, res, [why]) => {
    req.resume();
    if (why === 'wrong-method') {
      res.setHeader('allow', 'POST, OPTIONS');
      return replier(res)(405, ApiaccessErrorCode.NotFound, 'method not allowed: use POST');
    }
    replier(res)(404, ApiaccessErrorCode.NotFound, 'no such resource');
  });
  router.onError(APIACCESS_PREFIX, (res) => replier(res)(500, ApiaccessErrorCode.Internal, 'internal error'));
}

function replier(res: ServerResponse): Reply {
  return (status, errorCode, errorReason, data) =>
    sendJson(res, status, {
      success: status === 200,
      data: data ?? null,
      errorCode,
      errorReason,
    } satisfies ApiaccessResponse);
}

/** App key + bearer token + tenant, against the configured apps (or `dev` in dev mode, or the library hook). */
async function principalFor(core: Core, req: IncomingMessage): Promise<Principal | string> {
  const appKey = header(req, 'x-app-key');
  const authorization = header(req, 'authorization');
  const tenant = header(req, 'x-tenantspaceid');
  if (!appKey) return 'missing x-app-key';
  if (!authorization) return 'missing Authorization';
  const bearer = /^Bearer (\S+)$/.exec(authorization);
  if (!bearer) return 'Authorization must be "Bearer <token>" (with one space)';
  if (!tenant) return 'missing X-TenantSpaceID';
  if (!validTenant(tenant)) return 'bad X-TenantSpaceID';
  const token = bearer[1]!;
  const { options } = core;
  if (options.authenticate) {
    const principal = await options.authenticate({ dialect: 'apiaccess', headers: req.headers, credential: token });
    if (!principal) return 'authentication failed';
    return { ...principal, tenant };
  }
  for (const app of options.apiaccessApps) {
    const tenants = app.tenants ?? [];
    if (
      credentialListed(appKey, [app.appKey]) &&
      credentialListed(token, [app.token]) &&
      (tenants.length === 0 || tenants.includes(tenant))
    ) {
      return { id: credentialId(appKey), tenant };
    }
  }
  if (options.dev && appKey === DEV_CREDENTIAL && token === DEV_CREDENTIAL) return { id: 'dev', tenant };
  return 'authentication failed';
}

async function getConnectionInfo(core: Core, req: IncomingMessage, res: ServerResponse, reply: Reply): Promise<void> {
  if (req.headers.origin && !originAllowed(core.options, req.headers.origin)) {
    req.resume();
    return reply(403, ApiaccessErrorCode.Unauthorized, 'origin not allowed');
  }
  const principal = await principalFor(core, req);
  if (typeof principal === 'string') {
    req.resume();
    return reply(401, ApiaccessErrorCode.Unauthorized, principal);
  }
  let body: Record<string, unknown>;
  try {
    body = await readJsonBody(req, core.options.maxBodyBytes);
  } catch (error) {
    if (error instanceof BodyError)
      return reply(
        error.status,
        error.status === 413 ? ApiaccessErrorCode.TooLarge : ApiaccessErrorCode.BadRequest,
        error.message,
      );
    throw error;
  }
  for (const field of ['roomId', 'userId', 'userName', 'workNo'] as const) {
    const value = body[field];
    if (value !== undefined && value !== null && (typeof value !== 'string' || value.length > 128)) {
      return reply(400, ApiaccessErrorCode.BadRequest, `${field} must be a string of at most 128 characters`);
    }
  }
  if (body.role === undefined || body.role === null || body.role === '')
    return reply(400, ApiaccessErrorCode.BadRequest, 'role is mandatory');
  if (!isRole(body.role)) return reply(400, ApiaccessErrorCode.BadRequest, 'role must be recorder or replayer');
  const roomId = (body.roomId as string | undefined) || randomUUID();
  if (!validRoomId(roomId))
    return reply(400, ApiaccessErrorCode.BadRequest, 'roomId may hold only letters, digits and . _ : @ -');
  const userId =
    (body.userId as string | undefined) ||
    (body.workNo as string | undefined) ||
    (body.role === 'recorder' ? 'customer' : 'agent');
  const info = await core.issue(req, {
    roomId,
    role: body.role,
    userId,
    userName: (body.userName as string | undefined) || userId,
    tenant: principal.tenant,
  });
  reply(200, null, null, {
    roomId: info.roomId,
    wssUrl: info.wssUrl,
    wssUrlOut: info.wssUrlOut,
    connectParam: info.signature,
  });
}
