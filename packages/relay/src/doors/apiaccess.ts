import type { IncomingMessage } from 'node:http';
import { randomUUID } from 'node:crypto';
import {
  APIACCESS_PATH,
  APIACCESS_PREFIX,
  ApiaccessErrorCode,
  type ApiaccessResponse,
  isRole,
} from '@cobrowse/protocol';
import { header } from '../http-util.js';
import { type Core, Scope, validRoomId, validTenant } from '../core.js';
import { credentialId, credentialListed, DEV_CREDENTIAL } from '../auth.js';
import { Door, Refusal, type RefusalKind } from '../door.js';
import type { Principal } from '../options.js';
import type { Router } from '../router.js';

const CODES: Partial<Record<RefusalKind, number>> = {
  unauthorized: ApiaccessErrorCode.Unauthorized,
  forbidden: ApiaccessErrorCode.Unauthorized,
  'not-found': ApiaccessErrorCode.NotFound,
  method: ApiaccessErrorCode.NotFound,
  'too-large': ApiaccessErrorCode.TooLarge,
  internal: ApiaccessErrorCode.Internal,
  unavailable: ApiaccessErrorCode.Unavailable,
};

/**
 * Seed 001: `POST /apiaccess/api/cobrowse/getConnectionInfo` behind an API gateway. Headers
 * `x-app-key`, `Authorization: Bearer <token>`, `X-TenantSpaceID`; `roomId` optional (a UUID is made);
 * `{success, data:{roomId, wssUrl, wssUrlOut, connectParam}, errorCode, errorReason}`; 401/404/500.
 * Rooms live in their tenant space: a token of one tenant never reaches another tenant's room.
 */
export function apiaccessDoor(core: Core, router: Router): void {
  const door = new Door(core, router, {
    name: 'apiaccess',
    prefix: APIACCESS_PREFIX,
    allow: 'POST, OPTIONS',
    refusal: (r): ApiaccessResponse => ({
      success: false,
      data: null,
      errorCode: CODES[r.kind] ?? ApiaccessErrorCode.BadRequest,
      errorReason: r.kind === 'method' ? 'method not allowed: use POST' : r.message,
    }),
  });
  door.route({
    method: 'POST',
    path: APIACCESS_PATH,
    credential: (req) => principalFor(core, req),
    handle: async ({ req, body, principal }) => {
      for (const field of ['roomId', 'userId', 'userName', 'workNo'] as const) {
        const value = body[field];
        if (value !== undefined && value !== null && (typeof value !== 'string' || value.length > 128))
          throw new Refusal('bad-request', `${field} must be a string of at most 128 characters`);
      }
      if (body.role === undefined || body.role === null || body.role === '')
        throw new Refusal('bad-request', 'role is mandatory');
      if (!isRole(body.role)) throw new Refusal('bad-request', 'role must be recorder or replayer');
      const roomId = (body.roomId as string | undefined) || randomUUID();
      if (!validRoomId(roomId)) throw new Refusal('bad-request', 'roomId may hold only letters, digits and . _ : @ -');
      const userId =
        (body.userId as string | undefined) ||
        (body.workNo as string | undefined) ||
        (body.role === 'recorder' ? 'customer' : 'agent');
      const info = await core.issue(req, {
        scope: Scope.apiaccess(principal.tenant!),
        roomId,
        role: body.role,
        userId,
        userName: (body.userName as string | undefined) || userId,
        tenant: principal.tenant,
        principalId: principal.id,
      });
      const reply: ApiaccessResponse = {
        success: true,
        data: { roomId: info.roomId, wssUrl: info.wssUrl, wssUrlOut: info.wssUrlOut, connectParam: info.signature },
        errorCode: null,
        errorReason: null,
      };
      return reply;
    },
  });
}

/** App key + bearer token + tenant, against the configured apps (or `dev` in dev mode, or the library hook). */
async function principalFor(core: Core, req: IncomingMessage): Promise<Principal & { tenant: string }> {
  const appKey = header(req, 'x-app-key');
  const authorization = header(req, 'authorization');
  const tenant = header(req, 'x-tenantspaceid');
  const refuse = (message: string) => new Refusal('unauthorized', message);
  if (!appKey) throw refuse('missing x-app-key');
  if (!authorization) throw refuse('missing Authorization');
  const bearer = /^Bearer (\S+)$/.exec(authorization);
  if (!bearer) throw refuse('Authorization must be "Bearer <token>" (with one space)');
  if (!tenant) throw refuse('missing X-TenantSpaceID');
  if (!validTenant(tenant)) throw refuse('bad X-TenantSpaceID');
  const token = bearer[1]!;
  const { options } = core;
  if (options.authenticate) {
    const principal = await options.authenticate({ dialect: 'apiaccess', headers: req.headers, credential: token });
    if (!principal) throw refuse('authentication failed');
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
  throw refuse('authentication failed');
}
