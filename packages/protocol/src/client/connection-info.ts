import { CEC_PATH, type CecResponse, type ConnectionInfo } from '../connection-info.js';
import type { Role } from '../roles.js';

/** Options every SDK entry point takes to reach a connection-info service. */
export interface ConnectionOptions {
  /** Base URL of the connection-info service (the relay, or your contact-centre's gateway). Default: this page's origin. */
  server?: string;
  /** Room to share into / watch. */
  roomId: string;
  /** Caller's user id and display name. */
  userId?: string;
  userName?: string;
  /**
   * Which connection-info API to call: `'cec'` (seed 000, the default) or a function that returns
   * `{roomId, wssUrl, wssUrlOut, signature}` for a backend of your own.
   */
  dialect?: Dialect;
  /** Extra headers for the connection-info call (auth tokens and the like). */
  headers?: Record<string, string>;
  /** Fetch credentials mode for the connection-info call; default `'include'` (the seed-000 token is a cookie). */
  credentials?: RequestCredentials;
}

export type ConnectionInfoProvider = (request: ConnectionInfoRequest) => Promise<ConnectionInfo> | ConnectionInfo;
export type Dialect = 'cec' | ConnectionInfoProvider;

export interface ConnectionInfoRequest {
  readonly server: string;
  readonly roomId: string;
  readonly userId: string;
  readonly userName: string;
  readonly role: Role;
  readonly headers: Record<string, string>;
  readonly credentials: RequestCredentials;
}

/** A connection-info call failed; `status` is the HTTP status (0 when the network failed), `code` the dialect's code. */
export class ConnectionInfoError extends Error {
  constructor(
    message: string,
    readonly status: number,
    readonly code?: string,
  ) {
    super(message);
    this.name = 'ConnectionInfoError';
  }
}

function checkInfo(value: unknown): ConnectionInfo {
  const info = value as Partial<ConnectionInfo> | null;
  for (const field of ['roomId', 'wssUrl', 'wssUrlOut', 'signature'] as const) {
    if (!info || typeof info[field] !== 'string' || !info[field]) {
      throw new ConnectionInfoError(`connection info has no ${field}`, 200);
    }
  }
  return info as ConnectionInfo;
}

async function postJson(url: string, body: unknown, request: ConnectionInfoRequest): Promise<{ status: number; json: unknown }> {
  let response: Response;
  try {
    response = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json; charset=UTF-8', ...request.headers },
      credentials: request.credentials,
      body: JSON.stringify(body),
    });
  } catch (error) {
    throw new ConnectionInfoError(`cannot reach ${url}: ${(error as Error).message}`, 0);
  }
  let json: unknown;
  try {
    json = await response.json();
  } catch {
    throw new ConnectionInfoError(`${url} answered ${response.status} without a JSON body`, response.status);
  }
  return { status: response.status, json };
}

/** Seed 000: POST getConnectionInfo with every field; `{retCode:"0", data}` on success. */
async function cec(request: ConnectionInfoRequest): Promise<ConnectionInfo> {
  const { roomId, userId, userName, role } = request;
  const { status, json } = await postJson(`${request.server}${CEC_PATH}`, { roomId, userId, userName, role }, request);
  const reply = json as Partial<CecResponse> | null;
  if (!reply || reply.retCode !== '0') {
    throw new ConnectionInfoError(`getConnectionInfo refused: ${reply?.retMsg ?? `HTTP ${status}`}`, status, reply?.retCode);
  }
  return checkInfo(reply.data);
}

const DIALECTS: Record<string, ConnectionInfoProvider> = { cec };

/** Resolves the caller's options into one connection-info call for `role`. */
export function connectionInfoSource(options: ConnectionOptions, role: Role, defaults: { userId: string; userName: string }): () => Promise<ConnectionInfo> {
  const dialect = options.dialect ?? 'cec';
  const provider = typeof dialect === 'function' ? dialect : DIALECTS[dialect];
  if (!provider) throw new ConnectionInfoError(`unknown dialect ${JSON.stringify(dialect)}`, 0);
  const server = (options.server ?? (typeof location !== 'undefined' ? location.origin : '')).replace(/\/+$/, '');
  const request: ConnectionInfoRequest = {
    server,
    roomId: options.roomId,
    userId: options.userId ?? defaults.userId,
    userName: options.userName ?? defaults.userName,
    role,
    headers: { ...(options.headers ?? {}) },
    credentials: options.credentials ?? 'include',
  };
  return async () => checkInfo(await provider(request));
}
