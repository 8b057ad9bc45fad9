/** Wire protocol version spoken by this build. Sent in every `hello` and `welcome`. */
export const PROTOCOL_VERSION = 1;

/** Versions this build can speak with (a peer outside this list is refused with {@link CloseCode.UnsupportedVersion}). */
export const SUPPORTED_VERSIONS: readonly number[] = [1];
