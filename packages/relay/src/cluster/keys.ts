/** Redis key names of the cluster: one prefix, so a Redis shared with other software stays tidy. */
export const PREFIX = 'cobrowse:';

/**
 * Set of node ids that registered (members whose node key expired are dropped by whoever sees them);
 * its TTL of `nodeTtlMs` is renewed by every heartbeat, so it expires once no node is left.
 */
export const NODES_KEY = `${PREFIX}nodes`;

/** Prefix of each node's registration (JSON {@link NodeInfo}, with a TTL of `nodeTtlMs`). */
export const NODE_KEY_PREFIX = `${PREFIX}node:`;

/** A node's registration key. */
export const nodeKey = (id: string) => `${NODE_KEY_PREFIX}${id}`;

/** A room's claim: the owning node's id, with a TTL its owner refreshes while it holds the room. */
export const claimKey = (room: string) => `${PREFIX}room:${room}`;
