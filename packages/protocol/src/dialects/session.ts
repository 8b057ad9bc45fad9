/** Seed 002: session REST. */
export const SESSION_PREFIX = '/cobrowse/rest/live';
/** Sticky-session cookie set by `POST /sessions`. */
export const SESSION_COOKIE = 'gcbSessionServer';
/** Header by which the session's controller (the customer) proves it owns the session. */
export const SESSION_USER_TOKEN_HEADER = 'x-cobrowse-user-token';

/** `POST /sessions` reply. The seed's two fields, plus the controller's token and a recorder connection. */
export interface SessionCreated {
  readonly sessionToken: string;
  readonly sessionServerName: string;
  /** Secret of the controller: `GET /users/{userToken}/session/stop` and connection refreshes. */
  readonly userToken: string;
  readonly roomId: string;
  readonly wssUrl: string;
  readonly wssUrlOut: string;
  readonly signature: string;
}

/** `GET /sessions/{id}` reply: public data; connection info only for the controller or an authenticated agent. */
export interface SessionInfo {
  readonly sessionToken: string;
  readonly sessionServerName: string;
  readonly sessionServerUrl?: string;
  readonly roomId?: string;
  readonly wssUrl?: string;
  readonly wssUrlOut?: string;
  readonly signature?: string;
}

/** `GET /users/{userToken}/session/stop` reply (UTC ms). */
export interface SessionStopped {
  readonly activationTime: number | null;
  readonly deactivationTime: number;
}
