import type { ConnectionInfo } from '../connection-info.js';
import type { Role } from '../roles.js';

/** Seed 000: `POST /service-cloud/rest/webadapter/v1/connectionInfo/getConnectionInfo`. */
export const CEC_PATH = '/service-cloud/rest/webadapter/v1/connectionInfo/getConnectionInfo';
/** Seed 000: the cookie (or header) that carries the CC-Messaging token. */
export const CEC_TOKEN_COOKIE = 'ccmessaging-token';

export interface CecRequest {
  readonly roomId: string;
  readonly userId: string;
  readonly userName: string;
  readonly role: Role;
}

export interface CecResponse {
  /** "0" on success; any other value is an error code (see {@link CecRetCode}). */
  readonly retCode: string;
  readonly retMsg?: string;
  readonly data?: ConnectionInfo;
}

/** retCode values of the seed-000 door. "0" is the seed's; the others are this relay's, stable. */
export const CecRetCode = {
  Ok: '0',
  BadRequest: '400',
  Unauthorized: '401',
  Forbidden: '403',
  NotFound: '404',
  TooLarge: '413',
  UnsupportedMediaType: '415',
  Internal: '500',
  /** Retryable: the relay cannot place the room now (a cluster whose Redis is away); HTTP 503 with Retry-After. */
  Unavailable: '503',
} as const;
