/**
 * A token bucket: `rate` per second sustained, bursts up to `burst`. `take(n)` answers whether n
 * more fit now.
 */
export class TokenBucket {
  private tokens: number;
  private last = Date.now();

  constructor(
    private readonly rate: number,
    private readonly burst: number,
  ) {
    this.tokens = burst;
  }

  /** `now`: the caller's clock reading (ms), when it has one already. */
  take(amount = 1, now = Date.now()): boolean {
    this.tokens = Math.min(this.burst, this.tokens + ((now - this.last) / 1000) * this.rate);
    this.last = now;
    if (this.tokens < amount) return false;
    this.tokens -= amount;
    return true;
  }
}

/** Counts open connections per key (IP address). */
export class Counter {
  private readonly counts = new Map<string, number>();

  get(key: string): number {
    return this.counts.get(key) ?? 0;
  }

  add(key: string): void {
    this.counts.set(key, this.get(key) + 1);
  }

  remove(key: string): void {
    const next = this.get(key) - 1;
    if (next <= 0) this.counts.delete(key);
    else this.counts.set(key, next);
  }
}

/**
 * Token buckets per key (a client address): `perMinute` sustained, bursts of as many. Keys are
 * forgotten once their bucket is full again, and at most `maxKeys` are tracked (past that the
 * oldest go first), so an attacker with many addresses cannot grow it without bound.
 */
export class KeyedLimiter {
  private readonly buckets = new Map<string, { tokens: number; last: number }>();

  constructor(
    private readonly perMinute: number,
    private readonly maxKeys = 100_000,
  ) {}

  /** Takes one for `key`; returns 0 when allowed, else the seconds to wait before one is free. */
  take(key: string, now = Date.now()): number {
    if (this.perMinute <= 0) return 0;
    const rate = this.perMinute / 60_000;
    let bucket = this.buckets.get(key);
    if (bucket) bucket.tokens = Math.min(this.perMinute, bucket.tokens + (now - bucket.last) * rate);
    else {
      if (this.buckets.size >= this.maxKeys) this.prune(now);
      bucket = { tokens: this.perMinute, last: now };
      this.buckets.set(key, bucket);
    }
    bucket.last = now;
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1;
      return 0;
    }
    return Math.max(1, Math.ceil((1 - bucket.tokens) / rate / 1000));
  }

  /** Gives one back to `key` (a reservation that was not needed), up to a full bucket. */
  give(key: string): void {
    const bucket = this.buckets.get(key);
    if (bucket) bucket.tokens = Math.min(this.perMinute, bucket.tokens + 1);
  }

  /** Seconds until `key` may take one again (0 = now), without taking. */
  wait(key: string, now = Date.now()): number {
    const bucket = this.buckets.get(key);
    if (!bucket || this.perMinute <= 0) return 0;
    const rate = this.perMinute / 60_000;
    const tokens = Math.min(this.perMinute, bucket.tokens + (now - bucket.last) * rate);
    return tokens >= 1 ? 0 : Math.max(1, Math.ceil((1 - tokens) / rate / 1000));
  }

  /** Whether `key` has used any of its allowance lately. */
  touched(key: string, now = Date.now()): boolean {
    const bucket = this.buckets.get(key);
    if (!bucket) return false;
    return bucket.tokens + (now - bucket.last) * (this.perMinute / 60_000) < this.perMinute;
  }

  private prune(now: number): void {
    const rate = this.perMinute / 60_000;
    for (const [key, bucket] of this.buckets)
      if (bucket.tokens + (now - bucket.last) * rate >= this.perMinute) this.buckets.delete(key);
    // Still full: drop the oldest (Map order is insertion order).
    for (const key of this.buckets.keys()) {
      if (this.buckets.size < this.maxKeys) break;
      this.buckets.delete(key);
    }
  }
}
