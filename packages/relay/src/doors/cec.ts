import { CEC_PATH, CEC_TOKEN_COOKIE, CecRetCode, isRole } from '@cobrowse/protocol';
import { header, readCookie } from '../http-util.js';
import { type Core, Scope, validRoomId } from '../core.js';
import { authenticate } from '../auth.js';
import { Door, Refusal, type RefusalKind } from '../door.js';
import type { Router } from '../router.js';

const CODES: Partial<Record<RefusalKind, string>> = {
  unauthorized: CecRetCode.Unauthorized,
  forbidden: CecRetCode.Forbidden,
  'not-found': CecRetCode.NotFound,
  'too-large': CecRetCode.TooLarge,
  'unsupported-media': CecRetCode.UnsupportedMediaType,
  internal: CecRetCode.Internal,
  unavailable: CecRetCode.Unavailable,
};

/**
 * Seed 000: `POST /service-cloud/rest/webadapter/v1/connectionInfo/getConnectionInfo`.
 * Token from the `ccmessaging-token` cookie (or header of that name); every body field mandatory;
 * replies `{retCode, retMsg, data}` with retCode "0" on success. Rooms opened here are in the
 * `cec` scope (per tenant when the `authenticate` hook names one).
 */
export function cecDoor(core: Core, router: Router): void {
  const door = new Door(core, router, {
    name: 'cec',
    prefix: CEC_PATH,
    allow: 'POST, OPTIONS',
    refusal: (r) => ({
      retCode: r.code ?? CODES[r.kind] ?? CecRetCode.BadRequest,
      retMsg: r.kind === 'method' ? 'method not allowed: use POST' : r.message,
    }),
  });
  door.route({
    method: 'POST',
    path: CEC_PATH,
    credential: async (req) => {
      const credential = readCookie(header(req, 'cookie'), CEC_TOKEN_COOKIE) ?? header(req, CEC_TOKEN_COOKIE);
      const principal = await authenticate(core.options, req, 'cec', credential, core.options.cecTokens);
      if (!principal)
        throw new Refusal(
          'unauthorized',
          credential ? 'invalid ccmessaging-token' : 'missing ccmessaging-token cookie',
        );
      return principal;
    },
    handle: async ({ req, body, principal }) => {
      for (const field of ['roomId', 'userId', 'userName', 'role'] as const) {
        const value = body[field];
        if (value === undefined || value === null || value === '')
          throw new Refusal('bad-request', `${field} is mandatory`);
        if (typeof value !== 'string') throw new Refusal('bad-request', `${field} must be a string`);
        if (value.length > 128) throw new Refusal('bad-request', `${field} is longer than 128 characters`);
      }
      if (!validRoomId(body.roomId))
        throw new Refusal('bad-request', 'roomId may hold only letters, digits and . _ : @ -');
      const role = body.role === 'observer' ? 'replayer' : body.role;
      if (!isRole(role)) throw new Refusal('bad-request', 'role must be recorder or replayer (observer)');
      const { expiresAt: _, ...data } = await core.issue(req, {
        scope: Scope.cec(principal.tenant),
        roomId: body.roomId,
        role,
        userId: body.userId as string,
        userName: body.userName as string,
        principalId: principal.id,
      });
      return { retCode: CecRetCode.Ok, retMsg: 'success', data };
    },
  });
}
