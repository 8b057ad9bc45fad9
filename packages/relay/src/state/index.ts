import type { ResolvedOptions } from '../options.js';
import type { Rooms } from '../rooms.js';
import { memoryState } from './memory.js';
import { redisState } from './redis.js';
import type { SharedState } from './types.js';

export type { SharedState } from './types.js';
export { StateUnavailable } from './types.js';

/** The doors' state: in Redis when the relay is a cluster node (`redis`), else in this process's memory. */
export function createState(options: ResolvedOptions, rooms: Rooms, onError: (error: Error) => void): SharedState {
  return options.redis
    ? redisState(options.redis, options, rooms, onError)
    : memoryState(options, (scope, roomId) => rooms.live(scope, roomId));
}
