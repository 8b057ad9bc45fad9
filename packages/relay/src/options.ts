import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { type RecordingsConfig, type ResolvedRecordings, resolveRecordings } from './recordings/config.js';

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
  /** Seed 001: API-gateway apps (`x-app-key` + bearer token), each limited to its tenant spaces (empty = any). */
  apiaccessApps?: { appKey: string; token: string; tenants?: string[] }[];
  /** Seed 002: bearer tokens of agents who may join sessions. */
  sessionAgentTokens?: string[];
  /** Seed 002: `sessionServerName` of this node. Default "cobrowse-relay". */
  serverName?: string;
  /** Seed 002: `sessionServerUrl` of this node (URL-based stickiness); absent unless set. */
  serverUrl?: string;
  /** Seed 003: accepted `Guid` values. */
  agentGuids?: string[];
  /** Seed 003: `locationId` and `appId` in replies. Defaults "1" and "cobrowse". */
  locationId?: string;
  appId?: string;
  /** Seed 004: bearer tokens of agents. */
  passphraseAgentTokens?: string[];
  /** Seed 004: how long a passphrase works, ms. Default 10 minutes. */
  passphraseTtlMs?: number;
  /** Lifetime of a connection token, ms. Default 5 minutes (they are only checked when a socket opens). */
  tokenTtlMs?: number;
  /** How long an empty room (and its catch-up cache) is kept, ms. Default 30 s. */
  roomGraceMs?: number;
  /** Catch-up cache bytes per room before a fresh full snapshot is requested. Default 2 MiB. */
  cacheBytes?: number;
  /**
   * Bytes of the customer's assets (images, fonts, stylesheets its browser fetched for the agents)
   * kept per room for agents who join later. Default 8 MiB. Assets of all rooms together take at
   * most `assetBudgetBytes`; past either bound they are forwarded but not kept. 0 keeps none.
   */
  assetBytes?: number;
  /** Asset bytes of all rooms together (apart from the catch-up budget). Default 64 MiB. */
  assetBudgetBytes?: number;
  /**
   * Catch-up cache bytes of all rooms together; over it, rooms over their fair share are asked for
   * fresh snapshots (at most every 10 s each), and caches are let go past 1.25×. Default 16 MiB:
   * about 200 rooms' worth of a typical session's catch-up (~76 KiB each); raise it on a node with
   * memory to spare.
   */
  cacheBudgetBytes?: number;
  /**
   * Offer permessage-deflate to customers' sockets, on top of the SDK's own compression (payloads
   * already arrive deflated): it then squeezes mostly the frame headers (a minute with a moving
   * pointer: 99 → 32 KB; 100 changed cells per frame: 68 → 57 KB/s), but the relay inflates every
   * frame in zlib's thread pool, which caps its throughput (~15,000 frames/s instead of 50,000).
   * Default false; for bandwidth-starved customers on a lightly loaded relay.
   */
  compressUplink?: boolean;
  /** Largest WebSocket frame accepted, bytes. Default 16 MiB. */
  maxFrameBytes?: number;
  /** A replayer whose unsent bytes exceed this is skipped and resynced later. Default 8 MiB. */
  maxBufferedBytes?: number;
  /** Largest REST body accepted, bytes. Default 16 KiB. */
  maxBodyBytes?: number;
  /** Replayers (agents) one room may have. Default 20. */
  maxReplayersPerRoom?: number;
  /** Rooms this node holds. Default 10,000. */
  maxRooms?: number;
  /** Open sockets from one IP address (agents behind one NAT count together). Default 1,000. */
  maxConnectionsPerAddress?: number;
  /** Frames per second one room's recorder may send (sustained; bursts of twice that pass). Default 500. */
  maxMessagesPerSecond?: number;
  /** Bytes per second one room's recorder may send (sustained; bursts of twice that pass). Default 8 MiB. */
  maxBytesPerSecond?: number;
  /** A room whose recorder has sent nothing for this long is closed, ms. Default 30 minutes (checkouts keep live rooms busy). */
  idleMs?: number;
  /** Time allowed for a request's headers (slow clients are cut off), ms. Default 10 s. */
  headersTimeoutMs?: number;
  /** Directory holding recorder.iife.js / replayer.iife.js. Default: the installed SDK packages. */
  sdkDir?: string;
  /**
   * Operator credential (`Authorization: Bearer <token>`) for the status, metrics and recordings
   * endpoints. Env `COBROWSE_OPERATOR_TOKEN`. Without it those endpoints answer only `--dev`'s `dev`.
   */
  operatorToken?: string;
  /**
   * Session recordings for audit (see docs/recordings.md): `{dir, policy, retentionDays}`. Off
   * without a `dir`; `policy` `all` by default once there is one. CLI `--recordings DIR`, env
   * `COBROWSE_RECORDINGS_DIR`.
   */
  recordings?: RecordingsConfig;
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

type Optional = 'internalUrl' | 'publicUrl' | 'sdkDir' | 'authenticate' | 'serverUrl' | 'operatorToken';
export type ResolvedOptions = Required<Omit<RelayOptions, Optional | 'recordings'>> &
  Pick<RelayOptions, Optional> & { recordings: ResolvedRecordings };

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
    apiaccessApps: options.apiaccessApps ?? [],
    sessionAgentTokens: options.sessionAgentTokens ?? [],
    serverName: options.serverName ?? 'cobrowse-relay',
    serverUrl: options.serverUrl,
    agentGuids: options.agentGuids ?? [],
    locationId: options.locationId ?? '1',
    appId: options.appId ?? 'cobrowse',
    passphraseAgentTokens: options.passphraseAgentTokens ?? [],
    passphraseTtlMs: options.passphraseTtlMs ?? 10 * 60_000,
    tokenTtlMs: options.tokenTtlMs ?? 5 * 60_000,
    roomGraceMs: options.roomGraceMs ?? 30_000,
    cacheBytes: options.cacheBytes ?? 2 * 1024 * 1024,
    assetBytes: options.assetBytes ?? 8 * 1024 * 1024,
    cacheBudgetBytes: options.cacheBudgetBytes ?? 16 * 1024 * 1024,
    assetBudgetBytes: options.assetBudgetBytes ?? 64 * 1024 * 1024,
    compressUplink: options.compressUplink ?? false,
    maxFrameBytes: options.maxFrameBytes ?? 16 * 1024 * 1024,
    maxBufferedBytes: options.maxBufferedBytes ?? 8 * 1024 * 1024,
    maxBodyBytes: options.maxBodyBytes ?? 16 * 1024,
    maxReplayersPerRoom: options.maxReplayersPerRoom ?? 20,
    maxRooms: options.maxRooms ?? 10_000,
    maxConnectionsPerAddress: options.maxConnectionsPerAddress ?? 1000,
    maxMessagesPerSecond: options.maxMessagesPerSecond ?? 500,
    maxBytesPerSecond: options.maxBytesPerSecond ?? 8 * 1024 * 1024,
    idleMs: options.idleMs ?? 30 * 60_000,
    headersTimeoutMs: options.headersTimeoutMs ?? 10_000,
    sdkDir: options.sdkDir,
    operatorToken: options.operatorToken,
    recordings: resolveRecordings(options.recordings),
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
