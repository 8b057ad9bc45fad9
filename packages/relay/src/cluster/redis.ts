import { Redis } from 'ioredis';

/**
 * The cluster's one Redis link (ioredis). Commands fail at once while Redis is unreachable (no
 * offline queue, one attempt per command) so a door answers a clear retryable error instead of
 * hanging; the client reconnects by itself with a capped backoff.
 */
export function connectRedis(url: string, onError: (error: Error) => void): Redis {
  const redis = new Redis(url, {
    lazyConnect: false,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    connectTimeout: 2000,
    commandTimeout: 2000,
    retryStrategy: (attempt) => Math.min(100 * attempt, 1000),
    reconnectOnError: () => true,
  });
  redis.on('error', onError);
  return redis;
}
