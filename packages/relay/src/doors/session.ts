import type { IncomingMessage, ServerResponse } from 'node:http';
import {
  SESSION_COOKIE,
  SESSION_PREFIX,
  SESSION_USER_TOKEN_HEADER,
  type SessionCreated,
  type SessionInfo,
  type SessionStopped,
} from '@cobrowse/protocol';
import { header, sendJson } from '../http-util.js';
import type { Core } from '../core.js';
import { authenticate, credentialListed } from '../auth.js';
import { originAllowed } from '../cors.js';
import { numericCode, secretToken } from '../ids.js';
import type { Router } from '../router.js';

interface LiveSession {
  readonly sessionToken: string;
  readonly userToken: string;
  readonly created: number;
  activationTime: number | null;
  deactivationTime: number | null;
}

/** A session never activated is dropped after this long; a stopped one is remembered this long. */
const UNUSED_TTL_MS = 30 * 60_000;
const STOPPED_TTL_MS = 10 * 60_000;

/**
 * Seed 002: session REST under `/cobrowse/rest/live`. The customer creates a session and reads its
 * short numeric token to the agent; the agent joins by typing it. The session token is the room id.
 */
export function sessionDoor(core: Core, router: Router): void {
  const sessions = new Map<string, LiveSession>();
  const byUser = new Map<string, LiveSession>();
  const sweep = setInterval(() => {
    const now = Date.now();
    for (const session of sessions.values()) {
      const stale = session.deactivationTime
        ? now - session.deactivationTime > STOPPED_TTL_MS
        : !session.activationTime && !core.roomLive(session.sessionToken) && now - session.created > UNUSED_TTL_MS;
      if (stale) {
        sessions.delete(session.sessionToken);
        byUser.delete(session.userToken);
      }
    }
  }, 60_000);
  sweep.unref();

  const error = (res: ServerResponse, status: number, message: string) =>
    sendJson(res, status, { error: message, status });
  const serverName = core.options.serverName;

  /** Marks a session active once its customer is connected. */
  const refresh = (session: LiveSession) => {
    if (!session.activationTime && core.roomLive(session.sessionToken)) session.activationTime = Date.now();
  };

  router.on('POST', `${SESSION_PREFIX}/sessions`, async (req, res) => {
    req.resume();
    if (req.headers.origin && !originAllowed(core.options, req.headers.origin))
      return error(res, 403, 'origin not allowed');
    let sessionToken = numericCode(9);
    while (sessions.has(sessionToken)) sessionToken = numericCode(9);
    const session: LiveSession = {
      sessionToken,
      userToken: secretToken(),
      created: Date.now(),
      activationTime: null,
      deactivationTime: null,
    };
    sessions.set(sessionToken, session);
    byUser.set(session.userToken, session);
    const info = await core.issue(req, {
      roomId: sessionToken,
      role: 'recorder',
      userId: `customer-${sessionToken}`,
      userName: 'Customer',
    });
    const body: SessionCreated = {
      sessionToken,
      sessionServerName: serverName,
      userToken: session.userToken,
      roomId: info.roomId,
      wssUrl: info.wssUrl,
      wssUrlOut: info.wssUrlOut,
      signature: info.signature,
    };
    sendJson(res, 200, body, {
      'set-cookie': `${SESSION_COOKIE}=${encodeURIComponent(serverName)}; Path=/; HttpOnly; SameSite=Lax`,
    });
  });

  router.on('GET', new RegExp(`^${SESSION_PREFIX}/sessions/([^/]+)$`), async (req, res, [id]) => {
    // Subject to CORS control: Origin or Referer must name an allowed origin.
    const origin = req.headers.origin ?? refererOrigin(header(req, 'referer'));
    if (!origin || !originAllowed(core.options, origin))
      return error(res, 403, 'Origin or Referer must name an allowed origin');
    const session = sessions.get(decodeURIComponent(id!));
    if (!session || session.deactivationTime) return error(res, 404, 'no such session');
    refresh(session);
    const connection = await connectionFor(core, req, session);
    if (typeof connection === 'string') return error(res, 401, connection);
    const body: SessionInfo = {
      sessionToken: session.sessionToken,
      sessionServerName: serverName,
      ...(core.options.serverUrl ? { sessionServerUrl: core.options.serverUrl } : {}),
      ...connection,
    };
    sendJson(res, 200, body);
  });

  router.on('GET', new RegExp(`^${SESSION_PREFIX}/users/([^/]+)/session/stop$`), (req, res, [userToken]) => {
    const session = byUser.get(decodeURIComponent(userToken!));
    if (!session) return error(res, 404, 'no session for this user token');
    refresh(session);
    session.deactivationTime ??= Date.now();
    core.endRoom(session.sessionToken, 'the customer stopped the session');
    const body: SessionStopped = { activationTime: session.activationTime, deactivationTime: session.deactivationTime };
    sendJson(res, 200, body);
  });

  router.otherwise(SESSION_PREFIX, (req, res, [why]) => {
    req.resume();
    error(res, why === 'wrong-method' ? 405 : 404, why === 'wrong-method' ? 'method not allowed' : 'no such resource');
  });
  router.onError(SESSION_PREFIX, (res) => error(res, 500, 'internal error'));
}

function refererOrigin(referer: string | undefined): string | undefined {
  if (!referer) return undefined;
  try {
    return new URL(referer).origin;
  } catch {
    return undefined;
  }
}

/**
 * Connection info for whoever asks about a session: the controller (its user token in a header) gets
 * a recorder connection, an authenticated agent (`Authorization: Bearer …`) a replayer one, anyone
 * else only the public data. A credential that is present but wrong is an error (a string).
 */
async function connectionFor(
  core: Core,
  req: IncomingMessage,
  session: LiveSession,
): Promise<Partial<SessionInfo> | string> {
  const userToken = header(req, SESSION_USER_TOKEN_HEADER);
  if (userToken) {
    if (!credentialListed(userToken, [session.userToken]))
      return `${SESSION_USER_TOKEN_HEADER} does not own this session`;
    const { expiresAt: _, ...info } = await core.issue(req, {
      roomId: session.sessionToken,
      role: 'recorder',
      userId: `customer-${session.sessionToken}`,
      userName: 'Customer',
    });
    return info;
  }
  const authorization = header(req, 'authorization');
  if (!authorization) return {};
  const bearer = /^Bearer (\S+)$/.exec(authorization)?.[1];
  if (!bearer) return 'Authorization must be "Bearer <agent token>"';
  const agent = await authenticate(core.options, req, 'session', bearer, core.options.sessionAgentTokens);
  if (!agent) return 'invalid agent token';
  const { expiresAt: _, ...info } = await core.issue(req, {
    roomId: session.sessionToken,
    role: 'replayer',
    userId: agent.id,
    userName: 'Agent',
  });
  return info;
}
