import type { SessionRecord, SessionStore } from './types.js';

/** A session never activated is dropped after this long; a stopped one is remembered this long. */
export const UNUSED_TTL_MS = 30 * 60_000;
export const STOPPED_TTL_MS = 10 * 60_000;

/** Seed 002 sessions of one process. `live(token)`: whether the session's room is going on here. */
export class MemorySessions implements SessionStore {
  private readonly sessions = new Map<string, SessionRecord>();
  private readonly byUserHash = new Map<string, SessionRecord>();
  private readonly sweep: NodeJS.Timeout;

  constructor(live: (sessionToken: string) => boolean) {
    this.sweep = setInterval(() => {
      const now = Date.now();
      for (const session of this.sessions.values()) {
        const stale = session.deactivationTime
          ? now - session.deactivationTime > STOPPED_TTL_MS
          : !session.activationTime && !live(session.sessionToken) && now - session.created > UNUSED_TTL_MS;
        if (stale) {
          this.sessions.delete(session.sessionToken);
          this.byUserHash.delete(session.userHash);
        }
      }
    }, 60_000);
    this.sweep.unref();
  }

  async create(draw: () => string, userHash: string): Promise<SessionRecord> {
    let sessionToken = draw();
    while (this.sessions.has(sessionToken)) sessionToken = draw();
    const session: SessionRecord = {
      sessionToken,
      userHash,
      created: Date.now(),
      activationTime: null,
      deactivationTime: null,
    };
    this.sessions.set(sessionToken, session);
    this.byUserHash.set(userHash, session);
    return session;
  }

  async get(sessionToken: string): Promise<SessionRecord | undefined> {
    return this.sessions.get(sessionToken);
  }

  async byUser(userHash: string): Promise<SessionRecord | undefined> {
    return this.byUserHash.get(userHash);
  }

  async activate(sessionToken: string, at: number): Promise<void> {
    const session = this.sessions.get(sessionToken);
    if (session) session.activationTime ??= at;
  }

  async stop(sessionToken: string, at: number): Promise<SessionRecord | undefined> {
    const session = this.sessions.get(sessionToken);
    if (session) session.deactivationTime ??= at;
    return session;
  }

  close(): void {
    clearInterval(this.sweep);
  }
}
