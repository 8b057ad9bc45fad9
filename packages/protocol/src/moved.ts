import { SOCKET_PATH } from './connection-info.js';
import { PASSPHRASE_SOCKET_AGENT, PASSPHRASE_SOCKET_CUSTOMER } from './dialects/passphrase.js';

/** Socket endpoint paths: what follows a node's base URL in a socket URL. */
const ENDPOINTS = [SOCKET_PATH, PASSPHRASE_SOCKET_CUSTOMER, PASSPHRASE_SOCKET_AGENT];

/**
 * Where a socket closed with {@link CloseCode.Moved} (4014) goes next: the close reason is the base
 * ws(s):// URL of the node that holds the room; the socket URL keeps its endpoint path and query
 * (room, role, signature). Undefined when the reason is not such a URL, names credentials, or would
 * take a `wss:` socket to plain `ws:` (never a downgrade): then the client fetches fresh connection
 * info instead.
 */
export function movedUrl(current: string, reason: string): string | undefined {
  let from: URL;
  let base: URL;
  try {
    from = new URL(current);
    base = new URL(reason);
  } catch {
    return undefined;
  }
  if (base.protocol !== 'ws:' && base.protocol !== 'wss:') return undefined;
  if (from.protocol === 'wss:' && base.protocol !== 'wss:') return undefined;
  if (base.username || base.password || base.search || base.hash) return undefined;
  // The endpoint part of the current path (after whatever base path it had), behind the new base's path.
  const at = Math.max(...ENDPOINTS.map((endpoint) => from.pathname.lastIndexOf(endpoint)));
  const endpoint = at >= 0 ? from.pathname.slice(at) : from.pathname;
  const next = new URL(base.origin);
  next.pathname = base.pathname.replace(/\/+$/, '') + endpoint;
  next.search = from.search;
  return next.toString();
}
