import type { Redis } from 'ioredis';
import type { ResolvedOptions } from '../options.js';
import type { Rooms } from '../rooms.js';
import { memoryState } from './memory.js';
import { deferredState } from './deferred.js';
import type { SharedState } from './types.js';

export type { SharedState } from './types.js';
export { StateUnavailable } from './types.js';

/**
 * The doors' state: in this process's memory, or in Redis when the relay is a cluster node
 * (`redis`). The Redis code is loaded only then; until it is, doors answer 503. `link` is the node's
 * one command connection (shared with the cluster); the state adds its own subscriber.
 */
export function createState(
  options: ResolvedOptions,
  rooms: Rooms,
  onError: (error: Error) => void,
  link?: () => Promise<Redis>,
): SharedState {
  const url = options.redis;
  if (!url || !link) return memoryState(options, (scope, roomId) => rooms.live(scope, roomId));
  return deferredState(
    async () => (await import('./redis.js')).redisState(await link(), url, options, rooms, onError),
    onError,
  );
}
