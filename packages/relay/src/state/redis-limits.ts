import type { ScriptedRedis } from './redis-scripts.js';
import { keys, shared } from './redis-keys.js';
import type { Guess, GuessBudget, Limiter } from './types.js';

/** A per-key token bucket every node shares (one Lua step per take). */
export class RedisLimiter implements Limiter {
  constructor(
    private readonly redis: ScriptedRedis,
    private readonly name: string,
    private readonly perMinute: number,
  ) {}

  async take(key: string): Promise<number> {
    if (this.perMinute <= 0) return 0;
    return Number(await shared(this.redis.cobrowseTake(keys.limit(this.name, key), this.perMinute, 1)));
  }
}

/** Wrong-passphrase budgets every node shares: checked and reserved in one Lua step. */
export class RedisGuesses implements GuessBudget {
  constructor(
    private readonly redis: ScriptedRedis,
    private readonly perAddress: number,
    private readonly total: number,
  ) {}

  async begin(address: string): Promise<Guess> {
    const [wait, flag] = await shared(
      this.redis.cobrowseGuess(
        keys.limit('guesses', address),
        keys.limit('guesses-total', '*'),
        this.perAddress,
        this.total,
      ),
    );
    return Number(wait) ? { wait: Number(wait), total: flag === 1 } : { wait: 0, tookTotal: flag === 1 };
  }

  async right(address: string, guess: Guess): Promise<void> {
    const gives = [];
    if (this.perAddress > 0) gives.push(this.redis.cobrowseTake(keys.limit('guesses', address), this.perAddress, -1));
    if (guess.tookTotal) gives.push(this.redis.cobrowseTake(keys.limit('guesses-total', '*'), this.total, -1));
    await shared(Promise.all(gives));
  }
}
