import type { ScriptedRedis } from './redis-scripts.js';
import { keys, record, shared } from './redis-keys.js';
import { STOPPED_TTL_MS, UNUSED_TTL_MS } from './memory-sessions.js';
import type { SessionRecord, SessionStore } from './types.js';

/**
 * An activated session lives this long past the last sign that its room is going on (the node
 * holding the room renews it every minute, see {@link RedisSessions.keep}).
 */
export const ACTIVE_TTL_MS = UNUSED_TTL_MS;

/**
 * Seed 002 sessions in Redis: `s002:session:{token}` holds the record (JSON), `s002:user:{hash}`
 * points to it from the hash of the controller's user token. Codes are allocated with SET NX.
 */
export class RedisSessions implements SessionStore {
  constructor(private readonly redis: ScriptedRedis) {}

  async create(draw: () => string, userHash: string): Promise<SessionRecord> {
    for (;;) {
      const session: SessionRecord = {
        sessionToken: draw(),
        userHash,
        created: Date.now(),
        activationTime: null,
        deactivationTime: null,
      };
      const ok = await shared(
        this.redis.set(keys.session(session.sessionToken), JSON.stringify(session), 'PX', UNUSED_TTL_MS, 'NX'),
      );
      if (!ok) continue;
      await shared(this.redis.set(keys.sessionUser(userHash), session.sessionToken, 'PX', UNUSED_TTL_MS));
      return session;
    }
  }

  async get(sessionToken: string): Promise<SessionRecord | undefined> {
    return record<SessionRecord>(await shared(this.redis.get(keys.session(sessionToken))));
  }

  async byUser(userHash: string): Promise<SessionRecord | undefined> {
    const token = await shared(this.redis.get(keys.sessionUser(userHash)));
    const session = token ? await this.get(token) : undefined;
    return session?.userHash === userHash ? session : undefined;
  }

  async activate(sessionToken: string, at: number): Promise<void> {
    await shared(this.redis.cobrowsePatch(keys.session(sessionToken), JSON.stringify({ activationTime: at }), '1', ''));
  }

  async stop(sessionToken: string, at: number): Promise<SessionRecord | undefined> {
    const raw = await shared(
      this.redis.cobrowsePatch(
        keys.session(sessionToken),
        JSON.stringify({ deactivationTime: at }),
        '1',
        String(STOPPED_TTL_MS),
      ),
    );
    return record<SessionRecord>(raw);
  }

  /** Sessions whose rooms this node holds stay (their records and user-token index), unless stopped. */
  async keep(sessionTokens: string[]): Promise<void> {
    for (const token of sessionTokens) {
      const session = await this.get(token);
      if (!session || session.deactivationTime) continue;
      await shared(
        this.redis
          .multi()
          .pexpire(keys.session(token), ACTIVE_TTL_MS)
          .pexpire(keys.sessionUser(session.userHash), ACTIVE_TTL_MS)
          .exec(),
      );
    }
  }
}
