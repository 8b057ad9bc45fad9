/**
 * The state a door needs wherever a request lands. One process keeps it in memory (state/memory*.ts);
 * a cluster keeps it in Redis (state/redis*.ts) so every node sees the same sessions, passphrases,
 * rate limits and ended rooms.
 */

/** Shared state could not be reached (Redis down or slow): doors answer 503 with Retry-After. */
export class StateUnavailable extends Error {
  /** Seconds a client should wait before it tries again. */
  readonly retryAfter = 2;
  constructor(cause?: unknown) {
    super('shared state is unavailable: try again shortly', { cause });
  }
}

/** A per-key rate limit: `take` answers 0 (allowed) or the seconds to wait. */
export interface Limiter {
  take(key: string): number | Promise<number>;
}

/** What {@link GuessBudget.begin} decided: go on (with one guess reserved) or wait. */
export interface Guess {
  /** 0 = go on; else seconds to wait. */
  readonly wait: number;
  /** When refused: whether the budget of all addresses together was the reason. */
  readonly total?: boolean;
  /** A guess was taken from the budget of all addresses (given back if the guess was right). */
  readonly tookTotal?: boolean;
}

/**
 * Wrong-passphrase budgets, per address and of all addresses together. A guess is reserved before
 * the lookup (so guesses made at once cannot slip past the limit) and given back when it was right.
 * Once the total is spent, only addresses without a recent wrong guess may try.
 */
export interface GuessBudget {
  begin(address: string): Guess | Promise<Guess>;
  /** The guess was right: its reservation goes back. */
  right(address: string, guess: Guess): void | Promise<void>;
}

/** A seed 002 session. */
export interface SessionRecord {
  readonly sessionToken: string;
  /** SHA-256 (hex) of the controller's user token: the token itself is never stored. */
  readonly userHash: string;
  readonly created: number;
  activationTime: number | null;
  deactivationTime: number | null;
}

export interface SessionStore {
  /** Stores a new session under a code drawn from `draw` that no live session holds. */
  create(draw: () => string, userHash: string): Promise<SessionRecord>;
  get(sessionToken: string): Promise<SessionRecord | undefined>;
  byUser(userHash: string): Promise<SessionRecord | undefined>;
  /** Its customer connected: the first activation time is kept. */
  activate(sessionToken: string, at: number): Promise<void>;
  /** Deactivates once (a replayed stop keeps the first time); the record after, if it exists. */
  stop(sessionToken: string, at: number): Promise<SessionRecord | undefined>;
}

/** A seed 004 passphrase session. */
export interface PassRecord {
  readonly id: string;
  readonly initiator: 'customer' | 'agent';
  /** SHA-256 (hex) of the customer token, once the customer side has joined. */
  customerHash?: string;
  /** Until both sides have joined. */
  passphrase?: string;
  readonly expiresAt: number;
  customerJoined: boolean;
  agentJoined: boolean;
  ended: boolean;
  /** Whether the customer's socket is connected (on whichever node holds the room). */
  recorder?: boolean;
}

export type Side = 'customer' | 'agent';

export interface PassphraseStore {
  /** A new session with a passphrase no live session holds; `customerHash` when the customer joins at once. */
  create(initiator: Side, draw: () => string, joined: { customerHash?: string; agent?: boolean }): Promise<PassRecord>;
  get(id: string): Promise<PassRecord | undefined>;
  byCustomer(customerHash: string): Promise<PassRecord | undefined>;
  /**
   * Redeems a passphrase for one side, once, atomically: `invalid` (unknown, ended or expired: a
   * wrong guess), `used` (the other kind of session, or this side already joined), else the record.
   */
  redeem(
    passphrase: string,
    side: Side,
    initiator: Side,
    customerHash?: string,
  ): Promise<PassRecord | 'invalid' | 'used'>;
  /** Ends the session; the record after, if it exists. */
  end(id: string): Promise<PassRecord | undefined>;
}

/** Room revocations shared by a cluster: an end on any node closes the room wherever it lives. */
export interface SharedEndings {
  /** Records that the room `key` ended at `at` (every node refuses its older tokens) and tells every node. */
  ended(key: string, at: number, reason: string): Promise<void>;
  /** When the room `key` last ended, if it did within the tokens' lifetime. */
  endedAt(key: string): Promise<number | undefined>;
}

/** Everything a node's doors share, in memory or in Redis. */
export interface SharedState {
  readonly limits: {
    /** Seed 002 session lookups. */
    readonly lookups: Limiter;
    /** Anonymous session creation (seeds 002 and 004). */
    readonly sessions: Limiter;
    /** Seed 004 wrong passphrases, per address and in total. */
    readonly guesses: GuessBudget;
  };
  readonly sessions: SessionStore;
  readonly passphrases: PassphraseStore;
  /** Absent in one process: the room registry's own revocations suffice. */
  readonly endings?: SharedEndings;
  /** Why shared state cannot be used now (for /readyz), or undefined. */
  unavailable(): string | undefined;
  close(): Promise<void>;
}
