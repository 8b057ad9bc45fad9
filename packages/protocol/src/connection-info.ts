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

/**
 * Query parameter of an agent's socket opened ahead of its connection info (`?ahead=1` on
 * {@link SOCKET_PATH}, no room, no signature): the relay holds it, in no room, until its first
 * message, a hello carrying the signature (`hello.signature`), names the room. A prepared agent view
 * opens one when the relay's answer to its warm-up names it ({@link SOCKET_AHEAD_HEADER}), so that
 * its join only fetches the connection info and sends the hello: no socket to open on the way.
 */
export const AHEAD_PARAM = 'ahead';

/** Response header of the relay's plain OPTIONS answer: the URL of its socket opened ahead ({@link AHEAD_PARAM}). */
export const SOCKET_AHEAD_HEADER = 'cobrowse-socket-ahead';

/** The socket-ahead URL of a relay whose agents' sockets start with `base` (ws:// or wss://, no path). */
export function aheadUrl(base: string): string {
  return `${base.replace(/\/+$/, '')}${SOCKET_PATH}?role=replayer&${AHEAD_PARAM}=1`;
}

/** Longest signature a hello carries on a socket opened ahead (its header then fits in a frame's 2,048 header bytes). */
export const MAX_HELLO_SIGNATURE = 1800;

/** Builds the URL a client opens: the connection info's URL with the signature (and role) added. */
export function socketUrl(baseUrl: string, signature: string, role: Role): string {
  const url = new URL(baseUrl);
  url.searchParams.set('role', role);
  url.searchParams.set('signature', signature);
  return url.toString();
}
