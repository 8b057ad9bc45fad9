import type { ConnectionInfo, Role } from '@cobrowse/protocol';
import { ConnectionInfoError } from './errors.js';

/** What a connection-info call yields: where to connect, and for some dialects a code to read aloud. */
export interface Connection extends ConnectionInfo {
  /** `passphrase`: the passphrase the other side must enter. */
  readonly passphrase?: string;
}

export interface ConnectionInfoRequest {
  readonly server: string;
  readonly roomId: string | undefined;
  readonly userId: string;
  readonly userName: string;
  readonly workNo: string | undefined;
  readonly passphrase: string | undefined;
  readonly role: Role;
  readonly headers: Record<string, string>;
  readonly credentials: RequestCredentials;
}

/** Checks that a reply carries the four connection fields. */
export function checkInfo<T extends ConnectionInfo>(value: unknown): T {
  const info = value as Partial<ConnectionInfo> | null;
  for (const field of ['roomId', 'wssUrl', 'wssUrlOut', 'signature'] as const) {
    if (!info || typeof info[field] !== 'string' || !info[field]) {
      throw new ConnectionInfoError(`connection info has no ${field}`, 200);
    }
  }
  return info as T;
}
