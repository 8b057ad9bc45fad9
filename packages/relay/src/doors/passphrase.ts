import type { IncomingMessage, ServerResponse } from 'node:http';
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
import { BodyError, header, readJsonBody, sendJson } from '../http-util.js';
import type { Core } from '../core.js';
import { authenticate, credentialListed } from '../auth.js';
import { originAllowed } from '../cors.js';
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

const FAILED_ATTEMPTS_PER_MINUTE = 10;

class Refusal extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/**
 * Seed 004: passphrase sessions under `/services/CoBrowse/v1`. Passphrases are short, drawn from
 * characters that cannot be confused aloud, single-use per side, and expire. Customer calls after
 * the first carry the customer token (`Authorization: Bearer …`); agent calls carry the agent's credential.
 */
export function passphraseDoor(core: Core, router: Router): void {
  const sessions = new Map<string, PassSession>();
  const byPassphrase = new Map<string, PassSession>();
  const byCustomer = new Map<string, PassSession>();
  const failures = new Map<string, { count: number; since: number }>();
  const ttl = core.options.passphraseTtlMs;

  const sweep = setInterval(() => {
    const now = Date.now();
    for (const session of sessions.values()) {
      if (session.passphrase && now > session.expiresAt) {
        byPassphrase.delete(session.passphrase);
        session.passphrase = undefined;
      }
      if ((session.ended || !session.passphrase) && !core.roomLive(session.id) && now > session.expiresAt) {
        sessions.delete(session.id);
        byCustomer.delete(session.customerToken);
      }
    }
    for (const [address, entry] of failures) if (now - entry.since > 60_000) failures.delete(address);
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

  /** Looks a passphrase up; counts failures per address and refuses after too many. */
  const redeem = (req: IncomingMessage, value: unknown): PassSession => {
    const address = req.socket.remoteAddress ?? '?';
    const entry = failures.get(address);
    if (entry && entry.count >= FAILED_ATTEMPTS_PER_MINUTE && Date.now() - entry.since < 60_000) {
      throw new Refusal(429, 'TOO_MANY_ATTEMPTS', 'too many wrong passphrases: wait a minute');
    }
    if (typeof value !== 'string' || !value) throw new Refusal(400, 'BAD_REQUEST', 'passphrase is mandatory');
    const normalized = value.toUpperCase().replace(/[\s-]/g, '');
    const session = byPassphrase.get(normalized);
    if (!session || session.ended || Date.now() > session.expiresAt) {
      const now = Date.now();
      const current = failures.get(address);
      if (!current || now - current.since > 60_000) failures.set(address, { count: 1, since: now });
      else current.count++;
      throw new Refusal(404, 'PASSPHRASE_INVALID', 'the passphrase is not valid, already used, or expired');
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
  ): Promise<PassphraseJoined> => {
    const info = await core.issue(req, {
      roomId: session.id,
      role,
      userId: user,
      userName: role === 'recorder' ? 'Customer' : 'Agent',
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

  const state = (session: PassSession): PassphraseSessionState =>
    session.ended ? 'ended' : core.recorderConnected(session.id) ? 'active' : 'waiting';

  const customer = (req: IncomingMessage): PassSession => {
    const token = /^Bearer (\S+)$/.exec(header(req, 'authorization') ?? '')?.[1];
    if (!token) throw new Refusal(401, 'UNAUTHORIZED', 'missing Authorization: Bearer <customer token>');
    const session = byCustomer.get(token);
    if (!session || !credentialListed(token, [session.customerToken]))
      throw new Refusal(401, 'UNAUTHORIZED', 'unknown customer token');
    return session;
  };

  const agent = async (req: IncomingMessage): Promise<Principal> => {
    const token = /^Bearer (\S+)$/.exec(header(req, 'authorization') ?? '')?.[1];
    const principal = await authenticate(core.options, req, 'passphrase', token, core.options.passphraseAgentTokens);
    if (!principal)
      throw new Refusal(
        401,
        'UNAUTHORIZED',
        token ? 'invalid agent token' : 'missing Authorization: Bearer <agent token>',
      );
    return principal;
  };

  const body = async (req: IncomingMessage): Promise<Record<string, unknown>> => {
    if (!req.headers['content-length'] && !req.headers['transfer-encoding']) return {};
    try {
      return await readJsonBody(req, core.options.maxBodyBytes);
    } catch (error) {
      if (error instanceof BodyError) throw new Refusal(error.status, 'BAD_REQUEST', error.message);
      throw error;
    }
  };

  type Action = (req: IncomingMessage, res: ServerResponse) => Promise<unknown>;
  const route = (method: string, path: string, action: Action) =>
    router.on(method, PASSPHRASE_PREFIX + path, async (req, res) => {
      try {
        if (req.headers.origin && !originAllowed(core.options, req.headers.origin))
          throw new Refusal(403, 'FORBIDDEN', 'origin not allowed');
        sendJson(res, 200, await action(req, res));
      } catch (error) {
        if (!(error instanceof Refusal)) throw error;
        req.resume();
        sendJson(res, error.status, { error: error.code, message: error.message });
      }
    });

  // Customer side.
  route('POST', '/customer/session/request', async (req) => {
    await body(req);
    const session = create('customer');
    session.customerJoined = true;
    return connection(req, session, 'recorder', `customer-${session.id}`);
  });
  route('POST', '/customer/session/join', async (req) => {
    const session = redeem(req, (await body(req)).passphrase);
    if (session.initiator !== 'agent' || session.customerJoined)
      throw new Refusal(404, 'PASSPHRASE_INVALID', 'the passphrase is not valid, already used, or expired');
    session.customerJoined = true;
    retire(session);
    return connection(req, session, 'recorder', `customer-${session.id}`);
  });
  route('POST', '/customer/session/logout', async (req) => {
    const session = customer(req);
    session.ended = true;
    core.endRoom(session.id, 'the customer logged out');
    return { sessionId: session.id, state: 'ended' };
  });
  route('GET', '/customer/status', async (req) => {
    const session = customer(req);
    if (session.ended) return { sessionId: session.id, state: 'ended' };
    return { state: state(session), ...(await connection(req, session, 'recorder', `customer-${session.id}`)) };
  });

  // Agent side.
  route('POST', '/agent/session/request', async (req) => {
    const principal = await agent(req);
    const { autojoin } = await body(req);
    if (autojoin !== undefined && typeof autojoin !== 'boolean')
      throw new Refusal(400, 'BAD_REQUEST', 'autojoin must be true or false');
    const session = create('agent');
    if (autojoin !== true)
      return { sessionId: session.id, passphrase: session.passphrase, expiresAt: session.expiresAt };
    session.agentJoined = true;
    return connection(req, session, 'replayer', principal.id);
  });
  const agentJoin =
    (initiator: PassSession['initiator']): Action =>
    async (req) => {
      const principal = await agent(req);
      const session = redeem(req, (await body(req)).passphrase);
      if (session.initiator !== initiator || session.agentJoined)
        throw new Refusal(404, 'PASSPHRASE_INVALID', 'the passphrase is not valid, already used, or expired');
      session.agentJoined = true;
      const joined = await connection(req, session, 'replayer', principal.id);
      retire(session);
      return joined;
    };
  route('POST', '/agent/session/join', agentJoin('agent'));
  route('POST', '/agent/session/live/join', agentJoin('customer'));
  route('POST', '/agent/session/logout', async (req) => {
    await agent(req);
    const { sessionId } = await body(req);
    const session = typeof sessionId === 'string' ? sessions.get(sessionId) : undefined;
    if (!session) throw new Refusal(404, 'NOT_FOUND', 'no such session');
    session.ended = true;
    core.endRoom(session.id, 'the agent ended the session');
    return { sessionId: session.id, state: 'ended' };
  });
  route('GET', '/agent/status', async (req) => {
    const principal = await agent(req);
    const sessionId = new URL(req.url ?? '/', 'http://relay').searchParams.get('sessionId');
    const session = sessionId ? sessions.get(sessionId) : undefined;
    if (!session) throw new Refusal(404, 'NOT_FOUND', 'no such session (pass ?sessionId=)');
    if (session.ended) return { sessionId: session.id, state: 'ended' };
    return {
      state: state(session),
      customer: core.recorderConnected(session.id),
      ...(await connection(req, session, 'replayer', principal.id)),
    };
  });

  route('GET', '/server/status', async () => ({ status: 'successful', rooms: core.rooms.size }));

  router.otherwise(PASSPHRASE_PREFIX, (req, res, [why]) => {
    req.resume();
    sendJson(res, why === 'wrong-method' ? 405 : 404, {
      error: why === 'wrong-method' ? 'METHOD_NOT_ALLOWED' : 'NOT_FOUND',
      message: 'no such resource',
    });
  });
  router.onError(PASSPHRASE_PREFIX, (res) => sendJson(res, 500, { error: 'INTERNAL', message: 'internal error' }));
}
