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
import { authenticate, credentialHash, credentialId, credentialMatches } from '../auth.js';
import { codeFrom, secretToken } from '../ids.js';
import type { Principal } from '../options.js';
import type { Router } from '../router.js';
import type { PassRecord, Side } from '../state/types.js';

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
 * Rooms are in the `passphrase` scope. Guessing is limited per address, and relay-wide (every node
 * of a cluster together): once wrong guesses from everywhere pass their budget, only addresses without a recent wrong guess may try,
 * so an attacker's guesses never lock out the real holder of a passphrase.
 */
export function passphraseDoor(core: Core, router: Router): void {
  const scope = Scope.passphrase;
  const store = core.state.passphrases;
  const { guesses } = core.limits;
  const draw = () => codeFrom(PASSPHRASE_ALPHABET, PASSPHRASE_LENGTH);

  /**
   * Redeems a passphrase for one side, once (atomically, on any node). Wrong ones count against the
   * address and against the budget of all addresses; a guess is reserved first and given back when right.
   */
  const redeem = async (
    address: string,
    value: unknown,
    side: Side,
    initiator: Side,
    customerHash?: string,
  ): Promise<{ session: PassRecord; passphrase: string }> => {
    const guess = await guesses.begin(address);
    if (guess.wait)
      throw new Refusal(
        'rate-limited',
        guess.total
          ? 'too many wrong passphrases are being tried: wait a minute'
          : 'too many wrong passphrases: wait a minute',
        'TOO_MANY_ATTEMPTS',
        guess.wait,
      );
    let result: Awaited<ReturnType<typeof store.redeem>>;
    let normalized = '';
    try {
      if (typeof value !== 'string' || !value) throw new Refusal('bad-request', 'passphrase is mandatory');
      normalized = value.toUpperCase().replace(/[\s-]/g, '');
      result = normalized.length <= 64 ? await store.redeem(normalized, side, initiator, customerHash) : 'invalid';
    } catch (error) {
      await guesses.right(address, guess);
      throw error;
    }
    if (result === 'invalid') throw new Refusal('not-found', INVALID, 'PASSPHRASE_INVALID');
    await guesses.right(address, guess);
    if (result === 'used') throw new Refusal('not-found', INVALID, 'PASSPHRASE_INVALID');
    return { session: result, passphrase: normalized };
  };

  const connection = async (
    req: IncomingMessage,
    session: PassRecord,
    role: Role,
    user: string,
    principalId: string,
    customerToken?: string,
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
      ...(customerToken ? { token: customerToken } : {}),
      roomId: info.roomId,
      wssUrl: info.wssUrl,
      wssUrlOut: info.wssUrlOut,
      signature: info.signature,
    };
  };
  /** The customer's connection; `token` is the customer token (known from the request, never stored). */
  const customerConnection = (req: IncomingMessage, session: PassRecord, token: string) =>
    connection(req, session, 'recorder', `customer-${session.id}`, credentialId(token), token);

  const state = (session: PassRecord): PassphraseSessionState =>
    session.ended ? 'ended' : customerConnected(session) ? 'active' : 'waiting';
  /** Told by the node that holds the room (a cluster), or seen here. */
  const customerConnected = (session: PassRecord) =>
    !!session.recorder || core.rooms.recorderConnected(scope, session.id);

  const customer = async (req: IncomingMessage): Promise<{ session: PassRecord; token: string }> => {
    const token = /^Bearer (\S+)$/.exec(header(req, 'authorization') ?? '')?.[1];
    if (!token) throw new Refusal('unauthorized', 'missing Authorization: Bearer <customer token>');
    const session = token.length <= 256 ? await store.byCustomer(credentialHash(token)) : undefined;
    if (!session?.customerHash || !credentialMatches(token, session.customerHash))
      throw new Refusal('unauthorized', 'unknown customer token');
    return { session, token };
  };

  const agent = async (req: IncomingMessage): Promise<Principal> => {
    const token = /^Bearer (\S+)$/.exec(header(req, 'authorization') ?? '')?.[1];
    const principal = await authenticate(core.options, req, 'passphrase', token, core.options.passphraseAgentTokens);
    if (!principal)
      throw new Refusal('unauthorized', token ? 'invalid agent token' : 'missing Authorization: Bearer <agent token>');
    return principal;
  };

  /** An agent names a session by its id (`pp-…`). */
  const byId = async (sessionId: unknown): Promise<PassRecord | undefined> =>
    typeof sessionId === 'string' && /^pp-[A-Za-z0-9_-]{1,32}$/.test(sessionId) ? store.get(sessionId) : undefined;

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
    handle: async ({ req }) => {
      const token = secretToken();
      const session = await store.create('customer', draw, { customerHash: credentialHash(token) });
      return customerConnection(req, session, token);
    },
  });
  door.route({
    method: 'POST',
    path: path('/customer/session/join'),
    body: 'optional',
    handle: async ({ req, body, address }) => {
      const token = secretToken();
      const { session } = await redeem(address, body.passphrase, 'customer', 'agent', credentialHash(token));
      return customerConnection(req, session, token);
    },
  });
  /** Either side's logout: the session ends, and its room (on whichever node holds it) with every token issued for it so far. */
  const logout = async (id: string, reason: string) => {
    await store.end(id);
    await core.rooms.endRoom(scope, id, reason);
    return { sessionId: id, state: 'ended' };
  };
  door.route({
    method: 'POST',
    path: path('/customer/session/logout'),
    body: 'optional',
    credential: customer,
    handle: ({ principal: { session } }) => logout(session.id, 'the customer logged out'),
  });
  door.route({
    method: 'GET',
    path: path('/customer/status'),
    credential: customer,
    handle: async ({ req, principal: { session, token } }) => {
      if (session.ended) return { sessionId: session.id, state: 'ended' };
      return { state: state(session), ...(await customerConnection(req, session, token)) };
    },
  });

  // Agent side.
  door.route({
    method: 'POST',
    path: path('/agent/session/request'),
    limit: core.limits.sessions,
    body: 'optional',
    credential: agent,
    handle: async ({ req, body: { autojoin }, principal }) => {
      if (autojoin !== undefined && typeof autojoin !== 'boolean')
        throw new Refusal('bad-request', 'autojoin must be true or false');
      const session = await store.create('agent', draw, { agent: autojoin === true });
      if (autojoin !== true)
        return { sessionId: session.id, passphrase: session.passphrase, expiresAt: session.expiresAt };
      return connection(req, session, 'replayer', principal.id, principal.id);
    },
  });
  const agentJoin = (tail: string, initiator: Side) =>
    door.route({
      method: 'POST',
      path: path(tail),
      body: 'optional',
      credential: agent,
      handle: async ({ req, body, address, principal }) => {
        const { session, passphrase } = await redeem(address, body.passphrase, 'agent', initiator);
        // The agent's reply still names the passphrase it joined with.
        return connection(req, { ...session, passphrase }, 'replayer', principal.id, principal.id);
      },
    });
  agentJoin('/agent/session/join', 'agent');
  agentJoin('/agent/session/live/join', 'customer');
  door.route({
    method: 'POST',
    path: path('/agent/session/logout'),
    body: 'optional',
    credential: agent,
    handle: async ({ body: { sessionId } }) => {
      const session = await byId(sessionId);
      if (!session) throw new Refusal('not-found', 'no such session', 'NOT_FOUND');
      return logout(session.id, 'the agent ended the session');
    },
  });
  door.route({
    method: 'GET',
    path: path('/agent/status'),
    credential: agent,
    handle: async ({ req, principal }) => {
      const sessionId = new URL(req.url ?? '/', 'http://relay').searchParams.get('sessionId');
      const session = await byId(sessionId);
      if (!session) throw new Refusal('not-found', 'no such session (pass ?sessionId=)', 'NOT_FOUND');
      if (session.ended) return { sessionId: session.id, state: 'ended' };
      return {
        state: state(session),
        customer: customerConnected(session),
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
