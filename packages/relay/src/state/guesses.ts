import { KeyedLimiter } from '../limiter.js';
import type { Guess, GuessBudget } from './types.js';

/** One process's wrong-passphrase budgets: token buckets per address and one for all addresses ('*'). */
export class MemoryGuesses implements GuessBudget {
  private readonly perAddress: KeyedLimiter;
  private readonly total: KeyedLimiter;

  constructor(perAddressPerMinute: number, totalPerMinute: number) {
    this.perAddress = new KeyedLimiter(perAddressPerMinute);
    this.total = new KeyedLimiter(totalPerMinute);
  }

  begin(address: string): Guess {
    const wait = this.perAddress.wait(address);
    if (wait) return { wait };
    const totalWait = this.total.wait('*');
    if (totalWait && this.perAddress.touched(address)) return { wait: totalWait, total: true };
    this.perAddress.take(address);
    return { wait: 0, tookTotal: this.total.take('*') === 0 };
  }

  right(address: string, guess: Guess): void {
    this.perAddress.give(address);
    if (guess.tookTotal) this.total.give('*');
  }
}
