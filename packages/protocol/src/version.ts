/** Wire protocol version spoken by this build. Sent in every `hello` and `welcome`. */
export const PROTOCOL_VERSION = 3;

/** Versions this build can speak with (a peer outside this list is refused with {@link CloseCode.UnsupportedVersion}). */
export const SUPPORTED_VERSIONS: readonly number[] = [1, 2, 3];

/**
 * First version with `asset` frames. The relay's welcome says the version it speaks with a peer
 * (the lower of the two): a recorder sends assets only to a relay that said 2 or more, and the
 * relay forwards them only to replayers whose hello said 2 or more.
 */
export const ASSETS_VERSION = 2;

/**
 * First version with agent tools (`agent`, `control`, `refused` frames). The relay forwards an
 * agent's actions only to a recorder whose hello said 3 or more, and control news only to
 * replayers whose hello did; older peers keep working, without the tools.
 */
export const AGENT_TOOLS_VERSION = 3;
