import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { LOG_LEVELS, type LogLevel } from './log.js';
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
  /**
   * HMAC secret for connection tokens, at least 32 bytes (env `COBROWSE_SECRET`). Required unless
   * `dev`: without it (or with a shorter one) the relay refuses to start. Under `dev` a missing
   * secret is a random one per process.
   */
  secret?: string;
  /** Local trials and tests: any origin may call, and the credential `dev` is accepted. */
  dev?: boolean;
  /**
   * Base URL (ws:// or wss://) handed out as `wssUrl` for agents. Default: the address the request
   * arrived on (the relay's own listen address; under `--dev` the request's Host).
   */
  internalUrl?: string;
  /**
   * Base URL (ws:// or wss://) handed out as `wssUrlOut` for customers. Never taken from a request's
   * Host header outside `--dev`: default the address the relay listens on, and a relay bound to
   * all interfaces (0.0.0.0, ::) refuses to start without it.
   */
  publicUrl?: string;
  /**
   * Whether the relay sits behind proxies that append the caller's address to `X-Forwarded-For`:
   * `true` (one proxy) or the number of proxies. Only then do per-address limits read that header
   * (the entry that many hops from the right); otherwise they use the socket's address. Default false.
   */
  trustProxy?: boolean | number;
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
  /** Time allowed for a whole request, headers and body (slow bodies are cut off), ms. Default 30 s. */
  requestTimeoutMs?: number;
  /** Largest WebSocket frame an agent's (replayer's) socket accepts, bytes: agents send only small control messages. Default 64 KiB. */
  maxAgentFrameBytes?: number;
  /** A WebSocket message left unfinished (fragments, or a frame's bytes trickling in) this long closes the socket, ms. Default 30 s. */
  frameTimeoutMs?: number;
  /**
   * How long an agent's (replayer's) socket may stay open before its hello, ms: a view prepared for a
   * known room opens its socket ahead and says hello when the agent joins. Customers' sockets get
   * 10 s. Default 60 s.
   */
  agentHelloTimeoutMs?: number;
  /**
   * Whether agents may open a socket before they have connection info (`/ws/cobrowse/?ahead=1`,
   * named in the answer to a plain OPTIONS): a prepared agent view opens one, and its join sends the
   * signature in its hello. It needs no credential to open, holds no room, and counts against
   * `maxConnectionsPerAddress` (20 an address at most) and `maxSocketsAhead` until
   * `agentHelloTimeoutMs`. Only from an allowed origin (`corsOrigins`), the relay's own, or none.
   * Default true; false: not named, and such upgrades are refused 404.
   */
  socketsAhead?: boolean;
  /** Sockets opened ahead (see `socketsAhead`) a node holds at once, from every address. Default 1,000. */
  maxSocketsAhead?: number;
  /**
   * Seed 002 `GET /sessions/{id}` lookups per minute per client address, or per agent credential
   * when a valid one is sent (bursts of as many pass). Default 60.
   */
  lookupsPerMinute?: number;
  /** Anonymous sessions (seed 002 `POST /sessions`, seed 004 session requests) one client address may create per minute. Default 20. */
  sessionsPerMinute?: number;
  /** Seed 004: wrong passphrases one client address may send per minute. Default 10. */
  passphraseFailuresPerMinute?: number;
  /**
   * Seed 004: wrong passphrases from all addresses together per minute before the relay guards every
   * waiting session: then only addresses without a wrong guess in the last minute may try. Default 200.
   */
  passphraseFailuresPerMinuteTotal?: number;
  /**
   * Directory holding the browser bundles (recorder.iife.js, recorder-deflate.iife.js, replayer.iife.js
   * and their .map files). Default: the relay package's sdk/ directory, filled by its build.
   */
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
  /**
   * Called for each log line, one JSON object (pino) per line, without its newline; default writes
   * to stderr. Set to `() => {}` to silence.
   */
  log?: (line: string) => void;
  /**
   * Least severe log level written: `fatal`, `error`, `warn`, `info`, `debug`, `trace` or `silent`.
   * Default `info`. CLI `--log-level`, env `COBROWSE_LOG_LEVEL`.
   */
  logLevel?: LogLevel;
  /**
   * Redis URL (`redis://host:port`): makes this relay a node of a cluster (see docs/operator.md,
   * "One process or a cluster"). CLI `--redis`, env `COBROWSE_REDIS_URL`. Absent = one process, no
   * Redis code runs.
   */
  redis?: string;
  /** This node's id in a cluster (letters, digits, `._-`, at most 64). CLI `--node-id`, env `COBROWSE_NODE_ID`. Default: host name and a random suffix. */
  nodeId?: string;
  /**
   * Cluster: how long a node's registration lives without a heartbeat, ms (heartbeats come every
   * third of it). A node killed outright is out of the cluster, and its rooms free to move, this long
   * after its last heartbeat. Default 3000 (heartbeat every second). Config key only.
   */
  nodeTtlMs?: number;
  /**
   * Cluster: on SIGTERM, how long a draining node waits for its clients to move to other nodes
   * before it exits, ms. Default 10,000. Config key only; a relay without `redis` closes at once.
   */
  drainTimeoutMs?: number;
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

type Optional = 'internalUrl' | 'publicUrl' | 'sdkDir' | 'authenticate' | 'serverUrl' | 'operatorToken' | 'redis';
/** Shortest secret accepted outside `--dev`, bytes. */
export const MIN_SECRET_BYTES = 32;

import { ConfigError } from './config-error.js';
export { ConfigError };

export type ResolvedOptions = Required<Omit<RelayOptions, Optional | 'trustProxy' | 'recordings'>> &
  Pick<RelayOptions, Optional> & {
    recordings: ResolvedRecordings;
    /** Proxies trusted to append to X-Forwarded-For (0 = none). */
    trustProxy: number;
  };

/** Resolves defaults; throws {@link ConfigError} for a configuration unsafe outside `--dev`. */
export function resolveOptions(options: RelayOptions): ResolvedOptions {
  const dev = options.dev ?? false;
  if (!dev) {
    if (!options.secret)
      throw new ConfigError(
        `a secret is required: pass --secret, env COBROWSE_SECRET or config "secret" (at least ${MIN_SECRET_BYTES} bytes), or run with --dev for local trials`,
      );
    if (Buffer.byteLength(options.secret) < MIN_SECRET_BYTES)
      throw new ConfigError(
        `the secret is ${Buffer.byteLength(options.secret)} bytes: use at least ${MIN_SECRET_BYTES} (e.g. openssl rand -base64 32)`,
      );
  }
  const logLevel = options.logLevel ?? 'info';
  if (!LOG_LEVELS.includes(logLevel)) throw new ConfigError(`logLevel must be one of ${LOG_LEVELS.join(', ')}`);
  const trustProxy = options.trustProxy === true ? 1 : typeof options.trustProxy === 'number' ? options.trustProxy : 0;
  if (!Number.isInteger(trustProxy) || trustProxy < 0)
    throw new ConfigError('trustProxy must be true, false or a number of proxies');
  const nodeId =
    options.nodeId ??
    `${hostname()
      .replace(/[^A-Za-z0-9._-]/g, '-')
      .slice(0, 40)}-${randomBytes(4).toString('hex')}`;
  if (!/^[A-Za-z0-9._-]{1,64}$/.test(nodeId))
    throw new ConfigError('nodeId must be 1 to 64 letters, digits, dots, dashes or underscores');
  if (options.redis !== undefined && !/^rediss?:\/\/[^\s]+$/.test(options.redis))
    throw new ConfigError('redis must be a redis:// or rediss:// URL');
  // Every node verifies tokens the others signed: a random secret per process (--dev) cannot work.
  if (options.redis !== undefined && !options.secret)
    throw new ConfigError(
      'a cluster node (redis) needs the secret all nodes share: pass --secret or env COBROWSE_SECRET',
    );
  const nodeTtlMs = options.nodeTtlMs ?? 3000;
  if (!Number.isInteger(nodeTtlMs) || nodeTtlMs < 300 || nodeTtlMs > 600_000)
    throw new ConfigError('nodeTtlMs must be a whole number of ms from 300 to 600000');
  const agentHelloTimeoutMs = options.agentHelloTimeoutMs ?? 60_000;
  if (!Number.isInteger(agentHelloTimeoutMs) || agentHelloTimeoutMs < 1000 || agentHelloTimeoutMs > 600_000)
    throw new ConfigError('agentHelloTimeoutMs must be a whole number of ms from 1000 to 600000');
  const drainTimeoutMs = options.drainTimeoutMs ?? 10_000;
  if (!Number.isInteger(drainTimeoutMs) || drainTimeoutMs < 0 || drainTimeoutMs > 600_000)
    throw new ConfigError('drainTimeoutMs must be a whole number of ms from 0 to 600000');
  return {
    port: options.port ?? 8787,
    host: options.host ?? '127.0.0.1',
    secret: options.secret ?? randomBytes(32).toString('base64url'),
    dev,
    trustProxy,
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
    requestTimeoutMs: options.requestTimeoutMs ?? 30_000,
    maxAgentFrameBytes: options.maxAgentFrameBytes ?? 64 * 1024,
    frameTimeoutMs: options.frameTimeoutMs ?? 30_000,
    agentHelloTimeoutMs,
    socketsAhead: options.socketsAhead !== false,
    maxSocketsAhead: options.maxSocketsAhead ?? 1000,
    lookupsPerMinute: options.lookupsPerMinute ?? 60,
    sessionsPerMinute: options.sessionsPerMinute ?? 20,
    passphraseFailuresPerMinute: options.passphraseFailuresPerMinute ?? 10,
    passphraseFailuresPerMinuteTotal: options.passphraseFailuresPerMinuteTotal ?? 200,
    sdkDir: options.sdkDir,
    operatorToken: options.operatorToken,
    recordings: resolveRecordings(options.recordings),
    log: options.log ?? ((line) => process.stderr.write(`${line}\n`)),
    logLevel,
    authenticate: options.authenticate,
    redis: options.redis,
    nodeId,
    nodeTtlMs,
    drainTimeoutMs,
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
