import type { IncomingMessage } from 'node:http';
import {
  PASSPHRASE_ALPHABET,
  PASSPHRASE_LENGTH,
  PASSPHRASE_PREFIX,
  PASSPHRASE_SOCKET_AGENT,
  PASSPHRASE_SOCKET_CUSTOMER,
  type PassphraseJoined,
  type PassphraseSessionState,
  type Role,
} from '@cobrowse/protocol';
import { header } from '../http-util.js';
import { type Core, Scope } from '../core.js';
import { Door, Refusal, type RefusalKind } from '../door.js';
import { isOperator } from '../operator.js';
import { authenticate, credentialId, credentialListed } from '../auth.js';
import { codeFrom, secretToken } from '../ids.js';
import type { Principal } from '../options.js';
import type { Router } from '../router.js';

interface PassSession {
  readonly id: string;
  readonly initiator: 'customer' | 'agent';
  readonly customerToken: string;
  passphrase: string | undefined;
  readonly expiresAt: number;
  customerJoined: boolean;
  agentJoined: boolean;
  ended: boolean;
}

const CODES: Partial<Record<RefusalKind, string>> = {
  unauthorized: 'UNAUTHORIZED',
  forbidden: 'FORBIDDEN',
  'not-found': 'NOT_FOUND',
  method: 'METHOD_NOT_ALLOWED',
  'rate-limited': 'RATE_LIMITED',
  gone: 'ENDED',
  internal: 'INTERNAL',
  unavailable: 'UNAVAILABLE',
};
const INVALID = 'the passphrase is not valid, already used, or expired';

/**
 * Seed 004: passphrase sessions under `/services/CoBrowse/v1`. Passphrases are short, drawn from
 * characters that cannot be confused aloud, single-use per side, and expire. Customer calls after
 * the first carry the customer token (`Authorization: Bearer …`); agent calls carry the agent's credential.
 * Rooms are in the `passphrase` scope. Guessing is limited per address, and node-wide: once wrong
 * guesses from everywhere pass their budget, only addresses without a recent wrong guess may try,
 * so an attacker's guesses never lock out the real holder of a passphrase.
 */
export function passphraseDoor(core: Core, router: Router): void {
  const sessions = new Map<string, PassSession>();
  const byPassphrase = new Map<string, PassSession>();
  const byCustomer = new Map<string, PassSession>();
  const ttl = core.options.passphraseTtlMs;
  const scope = Scope.passphrase;
  const { passphraseFailures, passphraseFailuresTotal } = core.limits;

  const sweep = setInterval(() => {
    const now = Date.now();
    for (const session of sessions.values()) {
      if (session.passphrase && now > session.expiresAt) {
        byPassphrase.delete(session.passphrase);
        session.passphrase = undefined;
      }
      if ((session.ended || !session.passphrase) && !core.rooms.live(scope, session.id) && now > session.expiresAt) {
        sessions.delete(session.id);
        byCustomer.delete(session.customerToken);
      }
    }
  }, 30_000);
  sweep.unref();

  const create = (initiator: PassSession['initiator']): PassSession => {
    let passphrase = codeFrom(PASSPHRASE_ALPHABET, PASSPHRASE_LENGTH);
    while (byPassphrase.has(passphrase)) passphrase = codeFrom(PASSPHRASE_ALPHABET, PASSPHRASE_LENGTH);
    const session: PassSession = {
      id: `pp-${secretToken(9)}`,
      initiator,
      customerToken: secretToken(),
      passphrase,
      expiresAt: Date.now() + ttl,
      customerJoined: false,
      agentJoined: false,
      ended: false,
    };
    sessions.set(session.id, session);
    byPassphrase.set(passphrase, session);
    byCustomer.set(session.customerToken, session);
    return session;
  };

  /** Looks a passphrase up; wrong ones count against the address and against the node's budget. */
  const redeem = (address: string, value: unknown): PassSession => {
    const wait = passphraseFailures.wait(address);
    if (wait) throw new Refusal('rate-limited', 'too many wrong passphrases: wait a minute', 'TOO_MANY_ATTEMPTS', wait);
    if (passphraseFailuresTotal.wait('*') && passphraseFailures.touched(address))
      throw new Refusal(
        'rate-limited',
        'too many wrong passphrases are being tried: wait a minute',
        'TOO_MANY_ATTEMPTS',
        passphraseFailuresTotal.wait('*'),
      );
    if (typeof value !== 'string' || !value) throw new Refusal('bad-request', 'passphrase is mandatory');
    const normalized = value.toUpperCase().replace(/[\s-]/g, '');
    const session = byPassphrase.get(normalized);
    if (!session || session.ended || Date.now() > session.expiresAt) {
      passphraseFailures.take(address);
      passphraseFailuresTotal.take('*');
      throw new Refusal('not-found', INVALID, 'PASSPHRASE_INVALID');
    }
    return session;
  };

  /** Both sides have joined: the passphrase has done its job. */
  const retire = (session: PassSession) => {
    if (session.customerJoined && session.agentJoined && session.passphrase) {
      byPassphrase.delete(session.passphrase);
      session.passphrase = undefined;
    }
  };

  const connection = async (
    req: IncomingMessage,
    session: PassSession,
    role: Role,
    user: string,
    principalId: string,
  ): Promise<PassphraseJoined> => {
    const info = await core.issue(req, {
      scope,
      roomId: session.id,
      role,
      userId: user,
      userName: role === 'recorder' ? 'Customer' : 'Agent',
      principalId,
      socketPath: role === 'recorder' ? PASSPHRASE_SOCKET_CUSTOMER : PASSPHRASE_SOCKET_AGENT,
    });
    return {
      sessionId: session.id,
      ...(session.passphrase ? { passphrase: session.passphrase, expiresAt: session.expiresAt } : {}),
      ...(role === 'recorder' ? { token: session.customerToken } : {}),
      roomId: info.roomId,
      wssUrl: info.wssUrl,
      wssUrlOut: info.wssUrlOut,
      signature: info.signature,
    };
  };
  const customerConnection = (req: IncomingMessage, session: PassSession) =>
    connection(req, session, 'recorder', `customer-${session.id}`, credentialId(session.customerToken));

  const state = (session: PassSession): PassphraseSessionState =>
    session.ended ? 'ended' : core.rooms.recorderConnected(scope, session.id) ? 'active' : 'waiting';

  const customer = (req: IncomingMessage): PassSession => {
    const token = /^Bearer (\S+)$/.exec(header(req, 'authorization') ?? '')?.[1];
    if (!token) throw new Refusal('unauthorized', 'missing Authorization: Bearer <customer token>');
    const session = byCustomer.get(token);
    if (!session || !credentialListed(token, [session.customerToken]))
      throw new Refusal('unauthorized', 'unknown customer token');
    return session;
  };

  const agent = async (req: IncomingMessage): Promise<Principal> => {
    const token = /^Bearer (\S+)$/.exec(header(req, 'authorization') ?? '')?.[1];
    const principal = await authenticate(core.options, req, 'passphrase', token, core.options.passphraseAgentTokens);
    if (!principal)
      throw new Refusal('unauthorized', token ? 'invalid agent token' : 'missing Authorization: Bearer <agent token>');
    return principal;
  };

  const door = new Door(core, router, {
    name: 'passphrase',
    prefix: PASSPHRASE_PREFIX,
    refusal: (r) => ({
      error: r.code ?? CODES[r.kind] ?? 'BAD_REQUEST',
      message: r.kind === 'method' || r.kind === 'not-found' ? (r.code ? r.message : 'no such resource') : r.message,
    }),
  });
  const path = (tail: string) => PASSPHRASE_PREFIX + tail;

  // Customer side.
  door.route({
    method: 'POST',
    path: path('/customer/session/request'),
    limit: core.limits.sessions,
    body: 'optional',
    handle: ({ req }) => {
      const session = create('customer');
      session.customerJoined = true;
      return customerConnection(req, session);
    },
  });
  door.route({
    method: 'POST',
    path: path('/customer/session/join'),
    body: 'optional',
    handle: ({ req, body, address }) => {
      const session = redeem(address, body.passphrase);
      if (session.initiator !== 'agent' || session.customerJoined)
        throw new Refusal('not-found', INVALID, 'PASSPHRASE_INVALID');
      session.customerJoined = true;
      retire(session);
      return customerConnection(req, session);
    },
  });
  door.route({
    method: 'POST',
    path: path('/customer/session/logout'),
    body: 'optional',
    credential: customer,
    handle: ({ principal: session }) => {
      session.ended = true;
      // Ends the room and revokes every token issued for it so far.
      core.rooms.endRoom(scope, session.id, 'the customer logged out');
      return { sessionId: session.id, state: 'ended' };
    },
  });
  door.route({
    method: 'GET',
    path: path('/customer/status'),
    credential: customer,
    handle: async ({ req, principal: session }) => {
      if (session.ended) return { sessionId: session.id, state: 'ended' };
      return { state: state(session), ...(await customerConnection(req, session)) };
    },
  });

  // Agent side.
  door.route({
    method: 'POST',
    path: path('/agent/session/request'),
    limit: core.limits.sessions,
    body: 'optional',
    credential: agent,
    handle: ({ req, body: { autojoin }, principal }) => {
      if (autojoin !== undefined && typeof autojoin !== 'boolean')
        throw new Refusal('bad-request', 'autojoin must be true or false');
      const session = create('agent');
      if (autojoin !== true)
        return { sessionId: session.id, passphrase: session.passphrase, expiresAt: session.expiresAt };
      session.agentJoined = true;
      return connection(req, session, 'replayer', principal.id, principal.id);
    },
  });
  const agentJoin = (tail: string, initiator: PassSession['initiator']) =>
    door.route({
      method: 'POST',
      path: path(tail),
      body: 'optional',
      credential: agent,
      handle: async ({ req, body, address, principal }) => {
        const session = redeem(address, body.passphrase);
        if (session.initiator !== initiator || session.agentJoined)
          throw new Refusal('not-found', INVALID, 'PASSPHRASE_INVALID');
        session.agentJoined = true;
        const joined = await connection(req, session, 'replayer', principal.id, principal.id);
        retire(session);
        return joined;
      },
    });
  agentJoin('/agent/session/join', 'agent');
  agentJoin('/agent/session/live/join', 'customer');
  door.route({
    method: 'POST',
    path: path('/agent/session/logout'),
    body: 'optional',
    credential: agent,
    handle: ({ body: { sessionId } }) => {
      const session = typeof sessionId === 'string' ? sessions.get(sessionId) : undefined;
      if (!session) throw new Refusal('not-found', 'no such session', 'NOT_FOUND');
      session.ended = true;
      core.rooms.endRoom(scope, session.id, 'the agent ended the session');
      return { sessionId: session.id, state: 'ended' };
    },
  });
  door.route({
    method: 'GET',
    path: path('/agent/status'),
    credential: agent,
    handle: async ({ req, principal }) => {
      const sessionId = new URL(req.url ?? '/', 'http://relay').searchParams.get('sessionId');
      const session = sessionId ? sessions.get(sessionId) : undefined;
      if (!session) throw new Refusal('not-found', 'no such session (pass ?sessionId=)', 'NOT_FOUND');
      if (session.ended) return { sessionId: session.id, state: 'ended' };
      return {
        state: state(session),
        customer: core.rooms.recorderConnected(scope, session.id),
        ...(await connection(req, session, 'replayer', principal.id, principal.id)),
      };
    },
  });

  // Counts of rooms are for the operator only (config operatorToken).
  door.route({
    method: 'GET',
    path: path('/server/status'),
    handle: ({ req }) => ({
      status: 'successful',
      ...(isOperator(core.options, req) ? { rooms: core.rooms.size } : {}),
    }),
  });
}
