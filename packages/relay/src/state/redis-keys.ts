import { StateUnavailable } from './types.js';

/** Every key the relay writes starts with this, and every one has a TTL. */
export const PREFIX = 'cobrowse:';

export const keys = {
  limit: (name: string, key: string) => `${PREFIX}limit:${name}:${key}`,
  session: (sessionToken: string) => `${PREFIX}s002:session:${sessionToken}`,
  sessionUser: (userHash: string) => `${PREFIX}s002:user:${userHash}`,
  passphrase: (code: string) => `${PREFIX}s004:code:${code}`,
  passSession: (id: string) => `${PREFIX}s004:session:${id}`,
  passCustomer: (customerHash: string) => `${PREFIX}s004:customer:${customerHash}`,
  ended: (roomKey: string) => `${PREFIX}ended:${roomKey}`,
};

/** The channel on which nodes tell each other that a room ended. */
export const ENDED_CHANNEL = `${PREFIX}ended`;

/** Runs one Redis operation; any failure (down, timeout, refused) becomes {@link StateUnavailable}. */
export async function shared<T>(work: Promise<T>): Promise<T> {
  try {
    return await work;
  } catch (error) {
    throw new StateUnavailable(error);
  }
}

/** A JSON record read back from Redis (written by this code; anything else is treated as absent). */
export function record<T>(raw: string | null | undefined): T | undefined {
  if (!raw) return undefined;
  try {
    const value = JSON.parse(raw) as unknown;
    return value && typeof value === 'object' ? (value as T) : undefined;
  } catch {
    return undefined;
  }
}
