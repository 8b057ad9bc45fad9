import type { IncomingMessage } from 'node:http';
import type { Role } from '@cobrowse/protocol';

/** Which of a node's base URLs a socket came in by: `internal` (agents, `wssUrl`) or `public` (customers, `wssUrlOut`). */
export type Side = 'internal' | 'public';

/** Longest close reason a WebSocket close frame carries, bytes. */
export const MAX_CLOSE_REASON_BYTES = 123;

function hostOf(url: string): string | undefined {
  try {
    return new URL(url).host;
  } catch {
    return undefined;
  }
}

/**
 * The side a socket arrived by, so a redirect names the same side of the owner: the request's Host
 * matched against this node's own internal and public URLs; when it tells nothing (one URL for both,
 * or a proxy in between), by role: customers (recorders) are outside, agents (replayers) inside.
 */
export function sideOf(req: IncomingMessage, role: Role, self: { internalUrl: string; publicUrl: string }): Side {
  const host = req.headers.host;
  const isPublic = !!host && hostOf(self.publicUrl) === host;
  const isInternal = !!host && hostOf(self.internalUrl) === host;
  if (isPublic !== isInternal) return isPublic ? 'public' : 'internal';
  return role === 'recorder' ? 'public' : 'internal';
}

/**
 * The owner's base URL for that side, as a 4014 close reason: only a bare origin (ws(s)://host:port)
 * that fits in a close frame; a URL with a path (a proxy's per-node prefix) is not sent, and the
 * client fetches fresh connection info instead, which names it whole.
 */
export function movedReason(node: { internalUrl: string; publicUrl: string }, side: Side): string | undefined {
  const url = side === 'public' ? node.publicUrl : node.internalUrl;
  try {
    if (new URL(url).href !== `${url}/`) return undefined;
  } catch {
    return undefined;
  }
  return Buffer.byteLength(url) <= MAX_CLOSE_REASON_BYTES ? url : undefined;
}
