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

/** Path prefix of the relay's WebSocket endpoint; the room id follows, URI-encoded. */
export const SOCKET_PATH = '/ws/cobrowse/';
/** Health endpoint shared by all dialects (seed 002). */
export const HEALTH_PATH = '/cobrowse/health';

/**
 * Query parameter of a replayer's socket URL that says its hello at the upgrade: `hello=<v>` stands
 * for `{type: 'hello', v}` with no `resume`. A relay that reads it welcomes the replayer and sends it
 * the catch-up as the socket opens, a round trip sooner; the replayer still sends that hello once
 * open (for relays that do not read the URL), and such a relay takes it as said already.
 */
export const HELLO_PARAM = 'hello';

/** Builds the URL a client opens: the connection info's URL with the signature (and role) added. */
export function socketUrl(baseUrl: string, signature: string, role: Role): string {
  const url = new URL(baseUrl);
  url.searchParams.set('role', role);
  url.searchParams.set('signature', signature);
  return url.toString();
}
