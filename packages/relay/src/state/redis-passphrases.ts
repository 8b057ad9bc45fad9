import { secretToken } from '../ids.js';
import type { ScriptedRedis } from './redis-scripts.js';
import { keys, record, shared } from './redis-keys.js';
import type { PassRecord, PassphraseStore, Side } from './types.js';

/**
 * Seed 004 sessions in Redis: `s004:code:{passphrase}` → session id (SET NX, expires with the
 * passphrase), `s004:session:{id}` the record (JSON), `s004:customer:{hash}` → id from the hash of
 * the customer token. A record lives for the passphrase's lifetime plus a token's, renewed every
 * minute by the node that holds its room ({@link RedisPassphrases.keep}).
 */
export class RedisPassphrases implements PassphraseStore {
  private readonly recordTtlMs: number;

  constructor(
    private readonly redis: ScriptedRedis,
    private readonly ttlMs: number,
    tokenTtlMs: number,
  ) {
    this.recordTtlMs = ttlMs + tokenTtlMs;
  }

  async create(
    initiator: Side,
    draw: () => string,
    joined: { customerHash?: string; agent?: boolean },
  ): Promise<PassRecord> {
    const id = `pp-${secretToken(9)}`;
    let passphrase = draw();
    while (!(await shared(this.redis.set(keys.passphrase(passphrase), id, 'PX', this.ttlMs, 'NX'))))
      passphrase = draw();
    const session: PassRecord = {
      id,
      initiator,
      ...(joined.customerHash ? { customerHash: joined.customerHash } : {}),
      passphrase,
      expiresAt: Date.now() + this.ttlMs,
      customerJoined: !!joined.customerHash,
      agentJoined: !!joined.agent,
      ended: false,
    };
    const write = this.redis.multi().set(keys.passSession(id), JSON.stringify(session), 'PX', this.recordTtlMs);
    if (joined.customerHash) write.set(keys.passCustomer(joined.customerHash), id, 'PX', this.recordTtlMs);
    await shared(write.exec());
    return session;
  }

  async get(id: string): Promise<PassRecord | undefined> {
    return record<PassRecord>(await shared(this.redis.get(keys.passSession(id))));
  }

  async byCustomer(customerHash: string): Promise<PassRecord | undefined> {
    const id = await shared(this.redis.get(keys.passCustomer(customerHash)));
    const session = id ? await this.get(id) : undefined;
    return session?.customerHash === customerHash ? session : undefined;
  }

  async redeem(
    passphrase: string,
    side: Side,
    initiator: Side,
    customerHash?: string,
  ): Promise<PassRecord | 'invalid' | 'used'> {
    const id = await shared(this.redis.get(keys.passphrase(passphrase)));
    if (!id) return 'invalid';
    const result = await shared(
      this.redis.cobrowseRedeem(
        keys.passphrase(passphrase),
        keys.passSession(id),
        keys.passCustomer(customerHash ?? '-'),
        id,
        side,
        initiator,
        Date.now(),
        customerHash ?? '',
        this.recordTtlMs,
      ),
    );
    if (result === 'invalid' || result === 'used') return result;
    return record<PassRecord>(result) ?? 'invalid';
  }

  async end(id: string): Promise<PassRecord | undefined> {
    return record<PassRecord>(
      await shared(this.redis.cobrowsePatch(keys.passSession(id), JSON.stringify({ ended: true }), '0', '')),
    );
  }

  /** Whether the customer's socket is connected: written by the node that holds the room. */
  async setRecorder(id: string, connected: boolean): Promise<void> {
    await shared(this.redis.cobrowsePatch(keys.passSession(id), JSON.stringify({ recorder: connected }), '0', ''));
  }

  /** Sessions whose rooms this node holds stay (their records and customer-token index). */
  async keep(ids: string[]): Promise<void> {
    for (const id of ids) {
      const session = await this.get(id);
      if (!session) continue;
      const write = this.redis.multi().pexpire(keys.passSession(id), this.recordTtlMs);
      if (session.customerHash) write.pexpire(keys.passCustomer(session.customerHash), this.recordTtlMs);
      await shared(write.exec());
    }
  }
}
