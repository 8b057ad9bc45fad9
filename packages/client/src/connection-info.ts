import type { ConnectionInfo, Role } from '@cobrowse/protocol';
import { DIALECTS, type DialectName } from './dialects.js';
import { ConnectionInfoError } from './errors.js';
import { checkInfo, type Connection, type ConnectionInfoRequest } from './request.js';

export { ConnectionInfoError, checkInfo, type Connection, type ConnectionInfoRequest };

/** Options every SDK entry point takes to reach a connection-info service. */
export interface ConnectionOptions {
  /** Base URL of the connection-info service (the relay, or your contact-centre's gateway). Default: this page's origin. */
  server?: string;
  /**
   * Room to share into / watch. Required by `cec` and `agentgateway` (the call id); optional for
   * `apiaccess` (generated); for `session` the customer gets one and the agent passes the session token.
   */
  roomId?: string;
  /** Caller's user id and display name (`agentgateway`: the agent id, 101..59999). */
  userId?: string;
  userName?: string;
  /** `apiaccess`: the agent's work number. */
  workNo?: string;
  /** `passphrase`: join with a passphrase read aloud by the other side (omit to get one). */
  passphrase?: string;
  /**
   * Which connection-info API to call: `'cec'` (seed 000, the default), `'apiaccess'` (001),
   * `'session'` (002), `'agentgateway'` (003), `'passphrase'` (004), or a function that returns
   * `{roomId, wssUrl, wssUrlOut, signature}` for a backend of your own (called before every connection).
   */
  dialect?: Dialect;
  /** Extra headers for the connection-info calls (auth tokens and the like). */
  headers?: Record<string, string>;
  /** Fetch credentials mode for the connection-info calls; default `'include'` (seed 000's token is a cookie). */
  credentials?: RequestCredentials;
}

export type ConnectionInfoProvider = (request: ConnectionInfoRequest) => Promise<ConnectionInfo> | ConnectionInfo;
export type Dialect = DialectName | ConnectionInfoProvider;

/** Fetches connection info; `state()` is what a later page of the same session needs to resume it. */
export interface ConnectionInfoSource {
  (): Promise<Connection>;
  state(): unknown;
}

/**
 * Resolves the caller's options into a function that fetches connection info for `role`, called
 * before the first connection and again before each reconnect (signatures expire). `resume` is a
 * previous page's `state()`.
 */
export function connectionInfoSource(
  options: ConnectionOptions,
  role: Role,
  defaults: { userId: string; userName: string },
  resume?: unknown,
): ConnectionInfoSource {
  const dialect = options.dialect ?? 'cec';
  const server = (options.server ?? (typeof location !== 'undefined' ? location.origin : '')).replace(/\/+$/, '');
  const request: ConnectionInfoRequest = {
    server,
    roomId: options.roomId || undefined,
    userId: options.userId ?? defaults.userId,
    userName: options.userName ?? defaults.userName,
    workNo: options.workNo,
    passphrase: options.passphrase,
    role,
    headers: { ...(options.headers ?? {}) },
    credentials: options.credentials ?? 'include',
  };
  if (typeof dialect === 'function')
    return Object.assign(async () => checkInfo<Connection>(await dialect(request)), { state: () => undefined });
  const factory = Object.prototype.hasOwnProperty.call(DIALECTS, dialect) ? DIALECTS[dialect] : undefined;
  if (!factory)
    throw new ConnectionInfoError(
      `unknown dialect ${JSON.stringify(dialect)}: use ${Object.keys(DIALECTS).join(', ')} or a function`,
      0,
    );
  const client = factory(request, resume);
  return Object.assign(async () => checkInfo<Connection>(await client.next()), { state: () => client.state() });
}
