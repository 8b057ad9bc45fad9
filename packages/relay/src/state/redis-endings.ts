import type { Redis } from 'ioredis';
import { ENDED_CHANNEL, keys, shared } from './redis-keys.js';
import type { SharedEndings } from './types.js';

/** What a node publishes on {@link ENDED_CHANNEL} when a room ends there. */
export interface EndedMessage {
  readonly key: string;
  readonly at: number;
  readonly reason: string;
  readonly node: string;
}

/**
 * Room revocations a cluster shares: `ended:{room key}` holds when the room ended (for as long as
 * a token may live), and a message on the channel tells every node to close the room's sockets.
 */
export class RedisEndings implements SharedEndings {
  constructor(
    private readonly redis: Redis,
    private readonly nodeId: string,
    private readonly ttlMs: number,
  ) {}

  async ended(key: string, at: number, reason: string): Promise<void> {
    const message: EndedMessage = { key, at, reason: reason.slice(0, 200), node: this.nodeId };
    await shared(
      this.redis
        .multi()
        .set(keys.ended(key), String(at), 'PX', this.ttlMs)
        .publish(ENDED_CHANNEL, JSON.stringify(message))
        .exec(),
    );
  }

  async endedAt(key: string): Promise<number | undefined> {
    const value = await shared(this.redis.get(keys.ended(key)));
    return value ? Number(value) : undefined;
  }
}

/** A message from the channel, if it is one this code wrote. */
export function parseEnded(raw: string): EndedMessage | undefined {
  try {
    const m = JSON.parse(raw) as Partial<EndedMessage>;
    if (
      typeof m.key === 'string' &&
      typeof m.at === 'number' &&
      typeof m.reason === 'string' &&
      typeof m.node === 'string'
    )
      return m as EndedMessage;
  } catch {}
  return undefined;
}
