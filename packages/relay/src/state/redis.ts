import type { Redis } from 'ioredis';
import { connectRedis } from '../cluster/redis.js';
import type { ResolvedOptions } from '../options.js';
import type { Rooms } from '../rooms.js';
import { Scope } from '../scope.js';
import { defineScripts } from './redis-scripts.js';
import { RedisGuesses, RedisLimiter } from './redis-limits.js';
import { RedisSessions } from './redis-sessions.js';
import { RedisPassphrases } from './redis-passphrases.js';
import { RedisEndings, parseEnded } from './redis-endings.js';
import { ENDED_CHANNEL } from './redis-keys.js';
import type { SharedState } from './types.js';

/** An ended room's tokens stay refused this much longer than the longest token lives. */
const REVOCATION_MARGIN_MS = 60_000;
/** How often the node holding a room renews the TTL of its session's records. */
const KEEP_EVERY_MS = 60_000;

/**
 * A cluster node: the doors' state in Redis, shared by every node. Two connections: the node's
 * command connection `commands` (shared with the cluster, which owns it; fail fast while Redis is
 * away: doors answer 503), and one of its own subscribed to the channel on which nodes say that a
 * room ended, so a stop that reaches any node closes the room where it lives.
 */
export function redisState(
  commands: Redis,
  url: string,
  options: ResolvedOptions,
  rooms: Rooms,
  onError: (error: Error) => void,
): SharedState {
  commands.on('error', onError);
  const redis = defineScripts(commands);
  const subscriber = connectRedis(url, onError);
  const sessions = new RedisSessions(redis);
  const passphrases = new RedisPassphrases(redis, options.passphraseTtlMs, options.tokenTtlMs);
  const endings = new RedisEndings(redis, options.nodeId, options.tokenTtlMs + REVOCATION_MARGIN_MS);
  const warn = (error: unknown) => onError(error instanceof Error ? error : new Error(String(error)));

  // Rooms ended elsewhere end here too; after a lost subscription, the revocation keys are read again.
  const openedAt = new Map<string, number>();
  rooms.on('opened', (room) => openedAt.set(room.id, Date.now()));
  rooms.on('closed', (room) => openedAt.delete(room.id));
  let subscribedBefore = false;
  subscriber.on('message', (channel: string, raw: string) => {
    const message = channel === ENDED_CHANNEL ? parseEnded(raw) : undefined;
    if (!message || message.node === options.nodeId) return;
    try {
      rooms.endedElsewhere(message.key, message.at, message.reason);
    } catch (error) {
      warn(error);
    }
  });
  let subscribed = false;
  subscriber.on('ready', () => {
    subscriber
      .subscribe(ENDED_CHANNEL)
      .then(() => {
        subscribed = true;
        // Endings published while the subscription was lost: read the revocation keys of this node's rooms.
        if (subscribedBefore) return resync();
        subscribedBefore = true;
      })
      .catch(warn);
  });
  subscriber.on('close', () => (subscribed = false));
  const resync = async () => {
    for (const [key, opened] of [...openedAt]) {
      const at = await endings.endedAt(key);
      if (at !== undefined && at >= opened) rooms.endedElsewhere(key, at, 'the session has ended');
    }
  };

  // What other nodes' doors read about rooms this node holds: activation (seed 002) and whether the customer is connected (seed 004).
  const idIn = (scope: string, key: string) => (key.startsWith(`${scope}/`) ? key.slice(scope.length + 1) : undefined);
  rooms.on('joined', (room, member) => {
    if (member.claims.role !== 'recorder') return;
    const token = idIn(Scope.session, room.id);
    if (token) sessions.activate(token, Date.now()).catch(warn);
    const id = idIn(Scope.passphrase, room.id);
    if (id) passphrases.setRecorder(id, true).catch(warn);
  });
  const recorderGone = (roomKey: string) => {
    const id = idIn(Scope.passphrase, roomKey);
    if (id) passphrases.setRecorder(id, false).catch(warn);
  };
  rooms.on('left', (room, member) => {
    if (member.claims.role === 'recorder') recorderGone(room.id);
  });
  rooms.on('ended', (room) => recorderGone(room.id));

  // The node holding a room keeps its session's records alive.
  const keep = setInterval(() => {
    const tokens: string[] = [];
    const ids: string[] = [];
    for (const room of rooms) {
      const token = idIn(Scope.session, room.id);
      if (token) tokens.push(token);
      const id = idIn(Scope.passphrase, room.id);
      if (id) ids.push(id);
    }
    sessions.keep(tokens).catch(warn);
    passphrases.keep(ids).catch(warn);
  }, KEEP_EVERY_MS);
  keep.unref();

  return {
    limits: {
      lookups: new RedisLimiter(redis, 'lookups', options.lookupsPerMinute),
      sessions: new RedisLimiter(redis, 'sessions', options.sessionsPerMinute),
      guesses: new RedisGuesses(redis, options.passphraseFailuresPerMinute, options.passphraseFailuresPerMinuteTotal),
    },
    sessions,
    passphrases,
    endings,
    unavailable: () =>
      redis.status !== 'ready' ? 'redis unreachable' : subscribed ? undefined : 'not yet subscribed to room endings',
    close: async () => {
      clearInterval(keep);
      commands.off('error', onError);
      subscriber.disconnect();
    },
  };
}
