import type { ResolvedOptions } from '../options.js';
import { KeyedLimiter } from '../limiter.js';
import { MemoryGuesses } from './guesses.js';
import { MemorySessions } from './memory-sessions.js';
import { MemoryPassphrases } from './memory-passphrases.js';
import type { SharedState } from './types.js';
import { Scope } from '../scope.js';

/** Whether a room of a scope is going on at this node. */
export type LiveRooms = (scope: string, roomId: string) => boolean;

/** One process: the doors' state in its own memory, as fast as before there was a cluster. */
export function memoryState(options: ResolvedOptions, live: LiveRooms): SharedState {
  const sessions = new MemorySessions((token) => live(Scope.session, token));
  const passphrases = new MemoryPassphrases(options.passphraseTtlMs, (id) => live(Scope.passphrase, id));
  return {
    limits: {
      lookups: new KeyedLimiter(options.lookupsPerMinute),
      sessions: new KeyedLimiter(options.sessionsPerMinute),
      guesses: new MemoryGuesses(options.passphraseFailuresPerMinute, options.passphraseFailuresPerMinuteTotal),
    },
    sessions,
    passphrases,
    unavailable: () => undefined,
    close: async () => {
      sessions.close();
      passphrases.close();
    },
  };
}
