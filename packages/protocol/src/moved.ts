/**
 * Where a socket closed with {@link CloseCode.Moved} (4014) goes next: the close reason is the
 * origin (ws(s)://host:port) of the node that holds the room, and the socket URL keeps its path and
 * query (room, role, signature). Undefined when the reason is not a bare ws(s) origin (no path,
 * credentials, query or fragment) or would take a `wss:` socket to plain `ws:` (never a downgrade):
 * the client then fetches fresh connection info instead. Kept tiny: it ships in the recorder's
 * script tag.
 */
export function movedUrl(current: string, reason: string): string | undefined {
  // A bare origin: host (name, IPv4 or [IPv6]) and port only. No downgrade: `current[2]` is ':' for a
  // ws: socket, `reason[2]` is 's' for a wss: origin. The path starts at the first '/' after "ws(s)://".
  if (/^wss?:\/\/[\w.:[\]-]+$/.test(reason) && (current[2] === ':' || reason[2] === 's'))
    return reason + current.slice(current.indexOf('/', 6));
  return undefined;
}
