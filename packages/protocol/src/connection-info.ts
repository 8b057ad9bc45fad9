import type { Role } from './roles.js';

/** What every dialect's connection-info call boils down to: where to connect and with what signature. */
export interface ConnectionInfo {
  readonly roomId: string;
  /** Internal WebSocket URL (agents inside the contact-centre network). */
  readonly wssUrl: string;
  /** External WebSocket URL (customers on the public internet). */
  readonly wssUrlOut: string;
  /** Signed connection token, passed as the `signature` query parameter. */
  readonly signature: string;
}

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
} as const;

/** Path prefix of the relay's WebSocket endpoint; the room id follows, URI-encoded. */
export const SOCKET_PATH = '/ws/cobrowse/';
/** Health endpoint shared by all dialects (seed 002). */
export const HEALTH_PATH = '/cobrowse/health';

/** Builds the URL a client opens: the connection info's URL with the signature (and role) added. */
export function socketUrl(baseUrl: string, signature: string, role: Role): string {
  const url = new URL(baseUrl);
  url.searchParams.set('role', role);
  url.searchParams.set('signature', signature);
  return url.toString();
}
