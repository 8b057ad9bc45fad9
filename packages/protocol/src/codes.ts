/**
 * WebSocket close codes used by the relay and the SDKs (RFC 6455 leaves 4000-4999 to applications).
 * Values are explicit and stable: never renumber, only add.
 */
export const CloseCode = {
  /** Normal end: the socket's owner left. */
  Normal: 1000,
  /** The relay is shutting down or restarting: reconnect. */
  GoingAway: 1001,
  /** Unexpected server error: reconnect. */
  InternalError: 1011,
  /**
   * Try again later (RFC 6455 registry): a socket opened ahead whose room cannot be joined on it (the
   * room lives on another node, or none can take it now). Reconnect with fresh connection info.
   */
  TryAgainLater: 1013,
  /** A frame could not be parsed or failed validation. */
  BadMessage: 4000,
  /** The peer speaks a protocol version this relay does not (do not retry). */
  UnsupportedVersion: 4001,
  /** The message type is not allowed for this role (e.g. a replayer sending DOM events). */
  Forbidden: 4003,
  /** The room sent more than the relay's rate limit allows: reconnect after a pause. */
  RateLimited: 4008,
  /** A frame exceeded the size limit. */
  TooLarge: 4009,
  /** Another recorder connected to the same room and took it over (do not retry). */
  Replaced: 4010,
  /** The session was ended by the customer (do not retry). */
  SessionEnded: 4011,
  /** The room was closed by the relay (limits, idle). */
  RoomClosed: 4012,
  /** The session was idle too long (no recorder traffic): it is over (do not retry). */
  Idle: 4013,
  /**
   * The room lives on another relay node (a cluster): the close reason is that node's origin
   * (`ws(s)://host:port`, at most 123 bytes). Reconnect there with the same path and query
   * (signature); never from `wss:` to `ws:`, and not twice in a row (fetch fresh connection info
   * instead). Sent only to sockets whose token verified. See {@link movedUrl}.
   */
  Moved: 4014,
} as const;
export type CloseCode = (typeof CloseCode)[keyof typeof CloseCode];

/** Close codes after which a client must not reconnect. */
export const FINAL_CLOSE_CODES: ReadonlySet<number> = new Set([
  CloseCode.UnsupportedVersion,
  CloseCode.Replaced,
  CloseCode.SessionEnded,
  CloseCode.Idle,
]);

/** Stable string codes carried by `error` messages and by HTTP refusals. */
export const ErrorCode = {
  BadFrame: 'COBROWSE_BAD_FRAME',
  UnknownType: 'COBROWSE_UNKNOWN_TYPE',
  BadField: 'COBROWSE_BAD_FIELD',
  UnsupportedVersion: 'COBROWSE_UNSUPPORTED_VERSION',
  Forbidden: 'COBROWSE_FORBIDDEN',
  TooLarge: 'COBROWSE_TOO_LARGE',
  SeqGap: 'COBROWSE_SEQ_GAP',
  RateLimited: 'COBROWSE_RATE_LIMITED',
} as const;
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];
