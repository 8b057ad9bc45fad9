/** Seed 004: passphrase sessions. */
export const PASSPHRASE_PREFIX = '/services/CoBrowse/v1';
/** Socket endpoints per side; the room id follows. */
export const PASSPHRASE_SOCKET_CUSTOMER = '/services/CoBrowse/sockjs/cobrowse/customer/';
export const PASSPHRASE_SOCKET_AGENT = '/services/CoBrowse/sockjs/cobrowse/agent/';
/** Letters and digits that cannot be confused when read aloud or typed (no 0/O, 1/I/L, 5/S, 2/Z, 8/B). */
export const PASSPHRASE_ALPHABET = 'ACDEFGHJKMNPQRTUVWXY34679';
export const PASSPHRASE_LENGTH = 6;

/** A join or request that gives the caller a connection. `token` authenticates its later status/logout/refresh calls. */
export interface PassphraseJoined {
  readonly sessionId: string;
  readonly passphrase?: string;
  /** Customer side: bearer token for `/customer/status` and `/customer/session/logout`. */
  readonly token?: string;
  readonly roomId: string;
  readonly wssUrl: string;
  readonly wssUrlOut: string;
  readonly signature: string;
  /** When the passphrase stops working, ms since epoch. */
  readonly expiresAt?: number;
}

export interface PassphraseError {
  readonly error: string;
  readonly message: string;
}

export type PassphraseSessionState = 'waiting' | 'active' | 'ended';
