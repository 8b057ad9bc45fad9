import type { Role } from '../roles.js';

/** Seed 001: API-gateway connection info. */
export const APIACCESS_PATH = '/apiaccess/api/cobrowse/getConnectionInfo';
/** Everything under this prefix that is not {@link APIACCESS_PATH} is an unknown resource (404). */
export const APIACCESS_PREFIX = '/apiaccess/';

export interface ApiaccessRequest {
  /** Optional: a UUID is generated when absent; both sides must then use the returned one. */
  readonly roomId?: string;
  readonly userId?: string;
  readonly userName?: string;
  /** Agent id. */
  readonly workNo?: string;
  readonly role: Role;
}

export interface ApiaccessResponse {
  readonly success: boolean;
  readonly data: {
    readonly roomId: string;
    readonly wssUrl: string;
    readonly wssUrlOut: string;
    readonly connectParam: string;
  } | null;
  readonly errorCode: number | null;
  readonly errorReason: string | null;
}

/** errorCode values of the seed-001 door (the seed defines none; these are stable). */
export const ApiaccessErrorCode = {
  BadRequest: 400001,
  Unauthorized: 401001,
  NotFound: 404001,
  TooLarge: 413001,
  Internal: 500001,
  /** Retryable: the relay cannot place the room now (a cluster whose Redis is away); HTTP 503 with Retry-After. */
  Unavailable: 503001,
} as const;
