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
import { authenticate, credentialHash, credentialMatches } from '../auth.js';
import { numericCode, secretToken } from '../ids.js';
import { Door, Refusal, Reply } from '../door.js';
import type { Router } from '../router.js';
import type { Principal } from '../options.js';
import type { SessionRecord } from '../state/types.js';

/**
 * Seed 002: session REST under `/cobrowse/rest/live`. The customer creates a session and reads its
 * short numeric token to the agent; the agent joins by typing it. The session token is the room id,
 * in the `session` scope. Creating sessions and looking them up are limited per client address
 * (429 with `Retry-After`), so the short token cannot be found by trying. Sessions live in
 * `core.state.sessions` (memory, or Redis for a cluster: any node answers for any session).
 */
export function sessionDoor(core: Core, router: Router): void {
  const scope = Scope.session;
  const store = core.state.sessions;
  const door = new Door(core, router, {
    name: 'session',
    prefix: SESSION_PREFIX,
    refusal: (r) => ({ error: r.message, status: r.status }),
  });

  /** Marks a session active once its customer is connected to this node (the node holding the room also tells the store). */
  const refresh = async (session: SessionRecord) => {
    if (!session.activationTime && core.rooms.live(scope, session.sessionToken)) {
      session.activationTime = Date.now();
      await store.activate(session.sessionToken, session.activationTime);
    }
  };

  const customerConnection = (req: IncomingMessage, session: SessionRecord) =>
    core.issueAt(req, {
      scope,
      roomId: session.sessionToken,
      role: 'recorder',
      userId: `customer-${session.sessionToken}`,
      userName: 'Customer',
      principalId: session.userHash.slice(0, 12),
    });

  door.route({
    method: 'POST',
    path: `${SESSION_PREFIX}/sessions`,
    limit: core.limits.sessions,
    body: 'none',
    handle: async ({ req }) => {
      const userToken = secretToken();
      const session = await store.create(() => numericCode(9), credentialHash(userToken));
      // The session's node (in a cluster, its owner) is named by the reply and the sticky cookie.
      const { info, owner } = await customerConnection(req, session);
      const body: SessionCreated = {
        sessionToken: session.sessionToken,
        sessionServerName: owner.serverName,
        userToken,
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
      const wait = await core.limits.lookups.take(agent ? `agent:${agent.id}` : address);
      if (wait) throw new Refusal('rate-limited', 'too many requests: try again later', undefined, wait);
      const session = /^\d{1,20}$/.test(id!) ? await store.get(id!) : undefined;
      if (!session || session.deactivationTime) throw new Refusal('not-found', 'no such session');
      await refresh(session);
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
    handle: async ({ params: [userToken] }) => {
      const found = await store.byUser(credentialHash(userToken!));
      if (!found || !credentialMatches(userToken!, found.userHash))
        throw new Refusal('not-found', 'no session for this user token');
      await refresh(found);
      const at = Date.now();
      const session = (await store.stop(found.sessionToken, at)) ?? found;
      // Ends the room (on whichever node holds it) and revokes every token issued for it so far.
      await core.rooms.endRoom(scope, session.sessionToken, 'the customer stopped the session');
      const body: SessionStopped = {
        activationTime: session.activationTime,
        deactivationTime: session.deactivationTime ?? at,
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
  session: SessionRecord,
  customerConnection: (req: IncomingMessage, session: SessionRecord) => ReturnType<Core['issueAt']>,
  agent: Principal | undefined,
): Promise<Partial<SessionInfo>> {
  const userToken = header(req, SESSION_USER_TOKEN_HEADER);
  if (userToken) {
    if (!credentialMatches(userToken, session.userHash))
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
