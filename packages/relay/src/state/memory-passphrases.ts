import { secretToken } from '../ids.js';
import type { PassRecord, PassphraseStore, Side } from './types.js';

/** Seed 004 sessions of one process. `live(id)`: whether the session's room is going on here. */
export class MemoryPassphrases implements PassphraseStore {
  private readonly sessions = new Map<string, PassRecord>();
  private readonly byPassphrase = new Map<string, PassRecord>();
  private readonly byCustomerHash = new Map<string, PassRecord>();
  private readonly sweep: NodeJS.Timeout;

  constructor(
    private readonly ttlMs: number,
    live: (id: string) => boolean,
  ) {
    this.sweep = setInterval(() => {
      const now = Date.now();
      for (const session of this.sessions.values()) {
        if (session.passphrase && now > session.expiresAt) {
          this.byPassphrase.delete(session.passphrase);
          session.passphrase = undefined;
        }
        if ((session.ended || !session.passphrase) && !live(session.id) && now > session.expiresAt) {
          this.sessions.delete(session.id);
          if (session.customerHash) this.byCustomerHash.delete(session.customerHash);
        }
      }
    }, 30_000);
    this.sweep.unref();
  }

  async create(
    initiator: Side,
    draw: () => string,
    joined: { customerHash?: string; agent?: boolean },
  ): Promise<PassRecord> {
    let passphrase = draw();
    while (this.byPassphrase.has(passphrase)) passphrase = draw();
    const session: PassRecord = {
      id: `pp-${secretToken(9)}`,
      initiator,
      customerHash: joined.customerHash,
      passphrase,
      expiresAt: Date.now() + this.ttlMs,
      customerJoined: !!joined.customerHash,
      agentJoined: !!joined.agent,
      ended: false,
    };
    this.sessions.set(session.id, session);
    this.byPassphrase.set(passphrase, session);
    if (joined.customerHash) this.byCustomerHash.set(joined.customerHash, session);
    return session;
  }

  async get(id: string): Promise<PassRecord | undefined> {
    return this.sessions.get(id);
  }

  async byCustomer(customerHash: string): Promise<PassRecord | undefined> {
    return this.byCustomerHash.get(customerHash);
  }

  async redeem(
    passphrase: string,
    side: Side,
    initiator: Side,
    customerHash?: string,
  ): Promise<PassRecord | 'invalid' | 'used'> {
    const session = this.byPassphrase.get(passphrase);
    if (!session || session.ended || Date.now() > session.expiresAt) return 'invalid';
    if (session.initiator !== initiator || (side === 'customer' ? session.customerJoined : session.agentJoined))
      return 'used';
    if (side === 'customer') {
      session.customerJoined = true;
      session.customerHash = customerHash;
      if (customerHash) this.byCustomerHash.set(customerHash, session);
    } else session.agentJoined = true;
    // Both sides have joined: the passphrase has done its job.
    if (session.customerJoined && session.agentJoined) {
      this.byPassphrase.delete(passphrase);
      session.passphrase = undefined;
    }
    return session;
  }

  async end(id: string): Promise<PassRecord | undefined> {
    const session = this.sessions.get(id);
    if (session) session.ended = true;
    return session;
  }

  close(): void {
    clearInterval(this.sweep);
  }
}
