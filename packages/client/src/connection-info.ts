import { type ConnectionInfo, type Role, SOCKET_AHEAD_HEADER } from '@cobrowse/protocol';
import { DIALECTS, FIRST_CALLS, JSON_TYPE, type DialectFactory, type DialectName } from './dialects.js';
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
  const request = resolveRequest(options, role, defaults);
  if (typeof dialect === 'function')
    return Object.assign(async () => checkInfo<Connection>(await dialect(request)), { state: () => undefined });
  const client = dialectFactory(dialect)(request, resume);
  return Object.assign(async () => checkInfo<Connection>(await client.next()), { state: () => client.state() });
}

/**
 * Opens the way to the connection-info service ahead of a connection: an `OPTIONS` request to the
 * URL the dialect calls first, with the headers and credentials it will send. A cross-origin
 * browser makes (and caches) the CORS preflight for it and keeps the connection open, so the real
 * call later goes out at once (the connection, for as long as the server keeps it idle). Nothing is
 * created or read. Resolves `ok` true when the service answered (any status), or when there is
 * nothing to warm (a dialect that is a function of yours); false when it did not answer within 10 s,
 * or its answer did not pass the CORS check. `socketAhead`: the URL of the socket the relay lets an
 * agent open ahead of its connection info (protocol's `SOCKET_AHEAD_HEADER`, a ws: or wss: URL),
 * when its answer names one.
 */
export function warmService(
  options: ConnectionOptions,
  role: Role,
  defaults: { userId: string; userName: string },
  signal?: AbortSignal,
): Promise<WarmedService> {
  const dialect = options.dialect ?? 'cec';
  if (typeof dialect === 'function') return Promise.resolve({ ok: true });
  const request = resolveRequest(options, role, defaults);
  const first = FIRST_CALLS[dialectName(dialect)](request); // an unknown dialect throws here, at once
  return warm(request, first.path, first.method === 'POST', signal);
}

/** What {@link warmService} found. */
export interface WarmedService {
  readonly ok: boolean;
  readonly socketAhead?: string;
}

async function warm(
  request: ConnectionInfoRequest,
  path: string,
  json: boolean,
  signal?: AbortSignal,
): Promise<WarmedService> {
  const abort = new AbortController();
  const stop = () => abort.abort();
  const timer = setTimeout(stop, WARM_TIMEOUT_MS);
  signal?.addEventListener('abort', stop, { once: true });
  try {
    if (signal?.aborted) return { ok: false };
    const response = await fetch(`${request.server}${path}`, {
      method: 'OPTIONS',
      headers: { ...(json ? { 'content-type': JSON_TYPE } : {}), ...request.headers },
      credentials: request.credentials,
      // No `cache: 'no-store'`: Chromium keeps no preflight from a request that bypasses the cache.
      signal: abort.signal,
    });
    await response.body?.cancel();
    // Any answer means the CORS check passed: the preflight is cached and the connection open (a
    // gateway other than the relay may well answer a plain OPTIONS with 404 or 405).
    const ahead = response.headers.get(SOCKET_AHEAD_HEADER);
    return ahead && /^wss?:\/\//.test(ahead) ? { ok: true, socketAhead: ahead } : { ok: true };
  } catch {
    return { ok: false };
  } finally {
    clearTimeout(timer);
    signal?.removeEventListener('abort', stop);
  }
}

/** How long a warm-up waits for the service's answer. */
const WARM_TIMEOUT_MS = 10_000;

function dialectName(dialect: string): DialectName {
  if (!Object.prototype.hasOwnProperty.call(DIALECTS, dialect))
    throw new ConnectionInfoError(
      `unknown dialect ${JSON.stringify(dialect)}: use ${Object.keys(DIALECTS).join(', ')} or a function`,
      0,
    );
  return dialect as DialectName;
}

function dialectFactory(dialect: string): DialectFactory {
  return DIALECTS[dialectName(dialect)];
}

function resolveRequest(
  options: ConnectionOptions,
  role: Role,
  defaults: { userId: string; userName: string },
): ConnectionInfoRequest {
  const server = (options.server ?? (typeof location !== 'undefined' ? location.origin : '')).replace(/\/+$/, '');
  return {
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
}
