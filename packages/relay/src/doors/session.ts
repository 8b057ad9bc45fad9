import type { IncomingMessage } from 'node:http';
import {
  SESSION_COOKIE,
  SESSION_PREFIX,
  SESSION_USER_TOKEN_HEADER,
  type SessionCreated,
  type SessionInfo,
  type SessionStopped,
} from '@cobrowse/protocol';
import { header } from '../http-util.js';
import { type Core, Scope } from '../core.js';
import { authenticate, credentialId, credentialListed } from '../auth.js';
import { numericCode, secretToken } from '../ids.js';
import { Door, Refusal, Reply } from '../door.js';
import type { Router } from '../router.js';
import type { Principal } from '../options.js';

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
 * short numeric token to the agent; the agent joins by typing it. The session token is the room id,
 * in the `session` scope. Creating sessions and looking them up are limited per client address
 * (429 with `Retry-After`), so the short token cannot be found by trying.
 */
export function sessionDoor(core: Core, router: Router): void {
  const sessions = new Map<string, LiveSession>();
  const byUser = new Map<string, LiveSession>();
  const scope = Scope.session;
  const sweep = setInterval(() => {
    const now = Date.now();
    for (const session of sessions.values()) {
      const stale = session.deactivationTime
        ? now - session.deactivationTime > STOPPED_TTL_MS
        : !session.activationTime &&
          !core.rooms.live(scope, session.sessionToken) &&
          now - session.created > UNUSED_TTL_MS;
      if (stale) {
        sessions.delete(session.sessionToken);
        byUser.delete(session.userToken);
      }
    }
  }, 60_000);
  sweep.unref();

  const door = new Door(core, router, {
    name: 'session',
    prefix: SESSION_PREFIX,
    refusal: (r) => ({ error: r.message, status: r.status }),
  });

  /** Marks a session active once its customer is connected. */
  const refresh = (session: LiveSession) => {
    if (!session.activationTime && core.rooms.live(scope, session.sessionToken)) session.activationTime = Date.now();
  };

  const customerConnection = (req: IncomingMessage, session: LiveSession) =>
    core.issueAt(req, {
      scope,
      roomId: session.sessionToken,
      role: 'recorder',
      userId: `customer-${session.sessionToken}`,
      userName: 'Customer',
      principalId: credentialId(session.userToken),
    });

  door.route({
    method: 'POST',
    path: `${SESSION_PREFIX}/sessions`,
    limit: core.limits.sessions,
    body: 'none',
    handle: async ({ req }) => {
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
      // The session's node (in a cluster, its owner) is named by the reply and the sticky cookie.
      const { info, owner } = await customerConnection(req, session);
      const body: SessionCreated = {
        sessionToken,
        sessionServerName: owner.serverName,
        userToken: session.userToken,
        roomId: info.roomId,
        wssUrl: info.wssUrl,
        wssUrlOut: info.wssUrlOut,
        signature: info.signature,
      };
      return new Reply(200, body, {
        'set-cookie': `${SESSION_COOKIE}=${encodeURIComponent(owner.serverName)}; Path=/; HttpOnly; SameSite=Lax`,
      });
    },
  });

  door.route({
    method: 'GET',
    path: new RegExp(`^${SESSION_PREFIX}/sessions/([^/]+)$`),
    // Subject to CORS control: Origin or Referer must name an allowed origin.
    origin: 'named',
    handle: async ({ req, params: [id], address }) => {
      // Lookups are limited per agent credential when a valid one is sent (a contact centre's
      // agents share one address), else per address: either way the short token is no oracle.
      const agent = await agentFor(core, req);
      const wait = core.limits.lookups.take(agent ? `agent:${agent.id}` : address);
      if (wait) throw new Refusal('rate-limited', 'too many requests: try again later', undefined, wait);
      const session = sessions.get(id!);
      if (!session || session.deactivationTime) throw new Refusal('not-found', 'no such session');
      refresh(session);
      const connection = await connectionFor(core, req, session, customerConnection, agent);
      const owner = await core.locate(req, scope, session.sessionToken);
      const body: SessionInfo = {
        sessionToken: session.sessionToken,
        sessionServerName: owner.serverName,
        ...(owner.serverUrl ? { sessionServerUrl: owner.serverUrl } : {}),
        ...connection,
      };
      return body;
    },
  });

  door.route({
    method: 'GET',
    path: new RegExp(`^${SESSION_PREFIX}/users/([^/]+)/session/stop$`),
    handle: ({ params: [userToken] }) => {
      const session = byUser.get(userToken!);
      if (!session || !credentialListed(userToken!, [session.userToken]))
        throw new Refusal('not-found', 'no session for this user token');
      refresh(session);
      session.deactivationTime ??= Date.now();
      // Ends the room and revokes every token issued for it so far.
      core.rooms.endRoom(scope, session.sessionToken, 'the customer stopped the session');
      const body: SessionStopped = {
        activationTime: session.activationTime,
        deactivationTime: session.deactivationTime,
      };
      return body;
    },
  });
}

/** The agent a request's `Authorization: Bearer …` names, if it is a valid agent credential. */
async function agentFor(core: Core, req: IncomingMessage): Promise<Principal | undefined> {
  const bearer = /^Bearer (\S+)$/.exec(header(req, 'authorization') ?? '')?.[1];
  if (!bearer) return undefined;
  return authenticate(core.options, req, 'session', bearer, core.options.sessionAgentTokens);
}

/**
 * Connection info for whoever asks about a session: the controller (its user token in a header) gets
 * a recorder connection, an authenticated agent (`Authorization: Bearer …`) a replayer one, anyone
 * else only the public data. A credential that is present but wrong is refused (401).
 */
async function connectionFor(
  core: Core,
  req: IncomingMessage,
  session: LiveSession,
  customerConnection: (req: IncomingMessage, session: LiveSession) => ReturnType<Core['issueAt']>,
  agent: Principal | undefined,
): Promise<Partial<SessionInfo>> {
  const userToken = header(req, SESSION_USER_TOKEN_HEADER);
  if (userToken) {
    if (!credentialListed(userToken, [session.userToken]))
      throw new Refusal('unauthorized', `${SESSION_USER_TOKEN_HEADER} does not own this session`);
    const { expiresAt: _, ...info } = (await customerConnection(req, session)).info;
    return info;
  }
  if (!header(req, 'authorization')) return {};
  if (!agent) throw new Refusal('unauthorized', 'invalid agent token (Authorization: Bearer <agent token>)');
  const { expiresAt: _, ...info } = await core.issue(req, {
    scope: Scope.session,
    roomId: session.sessionToken,
    role: 'replayer',
    userId: agent.id,
    userName: 'Agent',
    principalId: agent.id,
  });
  return info;
}
