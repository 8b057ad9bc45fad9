import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';

/** Who a door's authentication let in. */
export interface Principal {
  /** Stable id of the credential's owner, for logs (never the credential itself). */
  readonly id: string;
  /** Tenant space, where the dialect has tenants. */
  readonly tenant?: string;
}

/** Everything the relay can be configured with, in library mode or from `--config file.json`. */
export interface RelayOptions {
  /** Port to listen on (0 = any free port). Default 8787. */
  port?: number;
  /** Address to bind. Default 127.0.0.1. */
  host?: string;
  /** HMAC secret for connection tokens. Default: random per process (fine for one node). */
  secret?: string;
  /** Local trials and tests: any origin may call, and the credential `dev` is accepted. */
  dev?: boolean;
  /** Base URL (ws:// or wss://) handed out as `wssUrl` for agents. Default: derived from the request's Host. */
  internalUrl?: string;
  /** Base URL (ws:// or wss://) handed out as `wssUrlOut` for customers. Default: derived from the request's Host. */
  publicUrl?: string;
  /** Origins allowed to call the REST doors from a browser. */
  corsOrigins?: string[];
  /** Seed 000: accepted `ccmessaging-token` values. */
  cecTokens?: string[];
  /** Lifetime of a connection token, ms. Default 5 minutes (they are only checked when a socket opens). */
  tokenTtlMs?: number;
  /** How long an empty room (and its catch-up cache) is kept, ms. Default 30 s. */
  roomGraceMs?: number;
  /** Catch-up cache bytes per room before a fresh full snapshot is requested. Default 4 MiB. */
  cacheBytes?: number;
  /** Largest WebSocket frame accepted, bytes. Default 16 MiB. */
  maxFrameBytes?: number;
  /** A replayer whose unsent bytes exceed this is skipped and resynced later. Default 8 MiB. */
  maxBufferedBytes?: number;
  /** Largest REST body accepted, bytes. Default 16 KiB. */
  maxBodyBytes?: number;
  /** Directory holding recorder.iife.js / replayer.iife.js. Default: the installed SDK packages. */
  sdkDir?: string;
  /** Called for each log line; default writes to stderr. Set to `() => {}` to silence. */
  log?: (line: string) => void;
  /** Library mode: replace the built-in credential check of every door. Return undefined to refuse. */
  authenticate?: (request: AuthRequest) => Principal | undefined | Promise<Principal | undefined>;
}

/** What a door hands to `authenticate`. */
export interface AuthRequest {
  readonly dialect: string;
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  /** The credential the dialect names (cookie/header token, bearer token, Guid …), already extracted. */
  readonly credential: string | undefined;
}

export type ResolvedOptions = Required<Omit<RelayOptions, 'internalUrl' | 'publicUrl' | 'sdkDir' | 'authenticate'>> &
  Pick<RelayOptions, 'internalUrl' | 'publicUrl' | 'sdkDir' | 'authenticate'>;

export function resolveOptions(options: RelayOptions): ResolvedOptions {
  return {
    port: options.port ?? 8787,
    host: options.host ?? '127.0.0.1',
    secret: options.secret ?? randomBytes(32).toString('base64url'),
    dev: options.dev ?? false,
    internalUrl: options.internalUrl,
    publicUrl: options.publicUrl,
    corsOrigins: options.corsOrigins ?? [],
    cecTokens: options.cecTokens ?? [],
    tokenTtlMs: options.tokenTtlMs ?? 5 * 60_000,
    roomGraceMs: options.roomGraceMs ?? 30_000,
    cacheBytes: options.cacheBytes ?? 4 * 1024 * 1024,
    maxFrameBytes: options.maxFrameBytes ?? 16 * 1024 * 1024,
    maxBufferedBytes: options.maxBufferedBytes ?? 8 * 1024 * 1024,
    maxBodyBytes: options.maxBodyBytes ?? 16 * 1024,
    sdkDir: options.sdkDir,
    log: options.log ?? ((line) => process.stderr.write(`${line}\n`)),
    authenticate: options.authenticate,
  };
}

/** Reads a JSON config file (same keys as {@link RelayOptions}); throws a clear error when it is not usable. */
export function loadConfigFile(path: string): RelayOptions {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new Error(`cannot read config file ${path}: ${(error as Error).message}`);
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new Error(`config file ${path} is not valid JSON: ${(error as Error).message}`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new Error(`config file ${path} must hold a JSON object`);
  }
  return value as RelayOptions;
}
