import { type SharedState, StateUnavailable } from './types.js';

/** State that cannot be reached: every operation fails with {@link StateUnavailable} (doors answer 503). */
export function unavailableState(reason: () => string): SharedState {
  const fail = async (): Promise<never> => {
    throw new StateUnavailable();
  };
  return {
    limits: { lookups: { take: fail }, sessions: { take: fail }, guesses: { begin: fail, right: fail } },
    sessions: { create: fail, get: fail, byUser: fail, activate: fail, stop: fail },
    passphrases: { create: fail, get: fail, byCustomer: fail, redeem: fail, end: fail },
    endings: { ended: fail, endedAt: fail },
    unavailable: reason,
    close: async () => undefined,
  };
}

/** An object whose members are read from whatever `current()` is at the time of the call. */
function delegate<T extends object>(current: () => T): T {
  return new Proxy({} as T, {
    get: (_target, name) => {
      const target = current();
      const value = Reflect.get(target, name) as unknown;
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}

/**
 * State whose code is loaded on demand (a cluster's Redis client is imported only when `redis` is
 * set, so one process never loads it). Until it is loaded, every operation fails closed (503), as
 * while Redis is away; the object the doors hold stays the same throughout.
 */
export function deferredState(load: () => Promise<SharedState>, onError: (error: Error) => void): SharedState {
  let current = unavailableState(() => 'loading the shared state');
  let closed = false;
  load().then(
    (state) => {
      if (closed) void state.close();
      else current = state;
    },
    (error: Error) => {
      current = unavailableState(() => `shared state failed to load: ${error.message}`);
      onError(error);
    },
  );
  return {
    limits: {
      lookups: delegate(() => current.limits.lookups),
      sessions: delegate(() => current.limits.sessions),
      guesses: delegate(() => current.limits.guesses),
    },
    sessions: delegate(() => current.sessions),
    passphrases: delegate(() => current.passphrases),
    endings: delegate(() => current.endings!),
    unavailable: () => current.unavailable(),
    close: async () => {
      closed = true;
      await current.close();
    },
  };
}
