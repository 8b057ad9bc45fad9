import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';
import { HEALTH_PATH, SOCKET_AHEAD_HEADER, aheadUrl } from '@cobrowse/protocol';
import { ConfigError, type RelayOptions, type ResolvedOptions, resolveOptions } from './options.js';
import { applyCors } from './cors.js';
import { answerOptions, sendJson } from './http-util.js';
import { requireOperator } from './operator.js';
import { Core } from './core.js';
import { sideOf } from './cluster/side.js';
import type { Rooms } from './rooms.js';
import { Gateway, aheadOrigin } from './gateway.js';
import { StaticSdk } from './static-sdk.js';
import { Router } from './router.js';
import { cecDoor } from './doors/cec.js';
import { apiaccessDoor } from './doors/apiaccess.js';
import { sessionDoor } from './doors/session.js';
import { agentgatewayDoor } from './doors/agentgateway.js';
import { passphraseDoor } from './doors/passphrase.js';
import { Recordings } from './recordings/manager.js';
import { recordingRoutes } from './recordings/routes.js';
import { createLogger, requestId, roomOf, roomRef } from './log.js';
import { Metrics } from './metrics.js';
import { HEALTHZ_PATH, METRICS_PATH, READYZ_PATH, Readiness } from './health.js';
import type { Cluster } from './cluster/cluster.js';
import type { Redis } from 'ioredis';

export interface Relay {
  /** Starts listening; resolves with the base http:// URL. */
  listen(): Promise<string>;
  /**
   * Closes every socket (clients are told to reconnect) and stops listening. A cluster node drains
   * first: it leaves the cluster, sends its rooms' sockets to the nodes that take them over, and
   * waits for them to go (at most `drainTimeoutMs`).
   */
  close(): Promise<void>;
  /** Base URL once listening. */
  readonly url: string | undefined;
  readonly server: Server;
  readonly options: ResolvedOptions;
  /** Live figures, also served at /cobrowse/status. */
  status(): RelayStatus;
  /** The room owner: attach to room lifecycle events with `rooms.on('opened' | 'joined' | 'left' | 'ended' | 'closed', …)`. */
  readonly rooms: Rooms;
}

export interface RelayStatus {
  rooms: number;
  connections: number;
  cachedBytes: number;
  /** Memory the catch-up caches' slab pool holds (in rooms' caches or idle for reuse). */
  cacheSlabBytes: number;
  /** The process's memory: resident set, JavaScript heap in use, and buffers. */
  memory: { rssBytes: number; heapUsedBytes: number; arrayBuffersBytes: number };
  /** Bytes received from customers' connections so far, as they crossed the wire. */
  uplinkBytes: number;
  uptimeSeconds: number;
  /** A cluster node (option `redis`): its id, the live nodes it sees (itself included), and whether its Redis link is up. */
  cluster?: { nodeId: string; nodes: number; redis: boolean };
}

/** A path fit for logs: user tokens in paths are secrets, and query strings may carry signatures. */
export function redactPath(path: string): string {
  return path.replace(/\/users\/[^/]+/, '/users/…').slice(0, 200);
}

/** The doors, side by side: each dialect is a thin module onto the same core. */
const DOORS = [cecDoor, apiaccessDoor, sessionDoor, agentgatewayDoor, passphraseDoor];

const SDK_PREFIX = '/sdk/';

/** Addresses that mean "every interface": the relay cannot name itself from them. */
const WILDCARD_HOSTS = new Set(['0.0.0.0', '::', '[::]', '']);

/**
 * Creates a relay: the REST doors, the socket gateway and the SDK bundles on one HTTP server.
 * Throws {@link ConfigError} for a configuration that is unsafe outside `--dev` (no secret, a
 * secret under 32 bytes, or no `publicUrl` on a relay bound to every interface).
 */
export function createRelay(input: RelayOptions = {}): Relay {
  const options = resolveOptions(input);
  if (!options.dev && !options.publicUrl && WILDCARD_HOSTS.has(options.host))
    throw new ConfigError(
      `publicUrl is required when listening on ${options.host || 'every interface'}: the relay never takes the URLs it hands out from a request's Host header`,
    );
  // Structured logs: one JSON object per line, a request id (and room id) on each line about a request or socket.
  const logger = createLogger(options.logLevel, options.log);
  // Shared state (state/): in memory, or in Redis for a cluster; its failures are logged, at most one line per 10 s.
  let stateWarned = 0;
  // A cluster node's one command connection to Redis, shared by the state and the cluster (each adds
  // what it needs: the state a subscriber). Opened on first use; the Redis code loads only with `redis`.
  let redisLink: Promise<Redis> | undefined;
  const link = options.redis
    ? () =>
        (redisLink ??= import('./cluster/redis.js').then(({ connectRedis }) =>
          connectRedis(options.redis!, () => undefined),
        ))
    : undefined;
  const core = new Core(
    options,
    (error) => {
      if (Date.now() - stateWarned < 10_000) return;
      stateWarned = Date.now();
      logger.warn({ component: 'state', err: error }, 'shared state unavailable');
    },
    link,
  );
  // Session recordings (recordings/): the gateway taps rooms into them; the routes serve them.
  const recordings = new Recordings(options.recordings, (line) => logger.warn({ component: 'recordings' }, line));
  const gateway = new Gateway(options, core.rooms, core.traffic, logger, recordings);
  const sdk = new StaticSdk(options.sdkDir);
  const started = Date.now();
  let url: string | undefined;
  let draining = false;
  // A cluster node (option `redis`): loaded on listen, so a single process never loads the Redis code.
  let cluster: Cluster | undefined;
  core.rooms.on('ended', (room, reason) =>
    logger.info({ reqId: room.openedBy, roomId: roomRef(room.id), reason: reason.slice(0, 120) }, 'room ended'),
  );
  core.rooms.on('closed', (room) => logger.debug({ reqId: room.openedBy, roomId: roomRef(room.id) }, 'room closed'));

  // Ready for new rooms: listening, not closing, and below maxRooms; in a cluster, the cluster's own
  // checks (its Redis link, registration, settling after an outage) answer before the shared state's,
  // so an outage reads "redis unreachable" whichever of the two links noticed it first.
  const readiness = new Readiness()
    .add(() => (url ? undefined : 'not listening yet'))
    .add(() => (draining ? 'draining' : undefined))
    .add(() => (core.rooms.size >= options.maxRooms ? 'at maxRooms' : undefined))
    .add(() => cluster?.notReady())
    .add(() => core.state.unavailable());
  const cachedBytes = () => {
    let bytes = 0;
    for (const room of core.rooms) bytes += room.cachedBytes;
    return bytes;
  };
  const metrics = new Metrics({
    traffic: core.traffic,
    rooms: () => core.rooms.size,
    sockets: () => gateway.sockets(),
    cacheBytes: cachedBytes,
    cacheSlabBytes: () => core.cacheBudget.pool.allocatedBytes,
    ready: () => readiness.reason() === undefined,
  });

  const status = (): RelayStatus => {
    const memory = process.memoryUsage();
    return {
      rooms: core.rooms.size,
      connections: gateway.connections,
      cachedBytes: cachedBytes(),
      cacheSlabBytes: core.cacheBudget.pool.allocatedBytes,
      memory: { rssBytes: memory.rss, heapUsedBytes: memory.heapUsed, arrayBuffersBytes: memory.arrayBuffers },
      uplinkBytes: gateway.uplinkBytes,
      uptimeSeconds: Math.round((Date.now() - started) / 1000),
      ...(cluster ? { cluster: { nodeId: options.nodeId, nodes: cluster.nodes, redis: cluster.up } } : {}),
    };
  };

  const router = new Router();
  for (const door of DOORS) door(core, router);
  router
    .on('GET', HEALTH_PATH, (_req, res) => {
      res.writeHead(200, { 'content-length': '0', 'cache-control': 'no-store' });
      res.end();
    })
    .on('GET', '/cobrowse/status', (req, res) => {
      if (requireOperator(options, req, res)) sendJson(res, 200, status());
    })
    // Liveness and readiness for orchestrators and load balancers: no credential, nothing about rooms or users.
    .on('GET', HEALTHZ_PATH, (_req, res) => sendJson(res, 200, { status: 'ok' }))
    .on('GET', READYZ_PATH, (_req, res) => {
      const reason = readiness.reason();
      if (reason) sendJson(res, 503, { status: 'not ready', reason }, { 'retry-after': '5' });
      else sendJson(res, 200, { status: 'ready' });
    })
    // Prometheus text format, for the operator only.
    .on('GET', METRICS_PATH, async (req, res) => {
      if (!requireOperator(options, req, res)) return;
      const { body, contentType } = await metrics.render();
      res.writeHead(200, {
        'content-type': contentType,
        'content-length': Buffer.byteLength(body),
        'cache-control': 'no-store',
      });
      res.end(body);
    })
    .on('GET', /^\/sdk\/([^/]+)$/, (req, res, [name]) => sdk.serve(name!, req, res));
  // Lifecycle hooks (recordings, remote control) attach here: relay.rooms.on('ended', …).
  recordingRoutes(router, options, recordings);

  const server = createServer(
    {
      maxHeaderSize: 16 * 1024,
      headersTimeout: Math.min(options.headersTimeoutMs, options.requestTimeoutMs),
      requestTimeout: options.requestTimeoutMs,
      connectionsCheckingInterval: Math.min(1000, options.headersTimeoutMs, options.requestTimeoutMs),
    },
    async (req, res) => {
      const path = (req.url ?? '/').split('?')[0]!;
      const reqId = requestId(req, options.trustProxy);
      res.setHeader('x-content-type-options', 'nosniff');
      res.setHeader('x-request-id', reqId);
      const begun = performance.now();
      res.once('finish', () => {
        const status = res.statusCode;
        if (status >= 400) core.traffic.refused('http', status);
        const level = status >= 500 ? 'error' : status >= 400 ? 'info' : 'debug';
        if (!logger.isLevelEnabled(level)) return;
        const room = roomOf(req);
        logger[level](
          {
            reqId,
            ...(room ? { roomId: roomRef(room) } : {}),
            method: req.method,
            path: redactPath(path),
            status,
            ms: Math.round((performance.now() - begun) * 10) / 10,
          },
          'request',
        );
      });
      try {
        // The SDK bundles are public scripts (`*`, no credentials); every other path is a door, with the CORS allow-list.
        if (!path.startsWith(SDK_PREFIX) && applyCors(options, req, res)) return;
        // A plain OPTIONS (not a preflight) asks what a path answers: a prepared agent view sends one
        // to warm the connection-info service up (its preflight and connection). Nothing runs.
        if (req.method === 'OPTIONS') {
          const methods = router.methods(path);
          // It names this node's socket opened ahead: the prepared view opens one (gateway.ts).
          if (methods.length)
            return answerOptions(
              req,
              res,
              methods,
              options.socketsAhead && !draining && aheadOrigin(options, req)
                ? { [SOCKET_AHEAD_HEADER]: aheadUrl(socketsAheadBase(core.baseUrls(req), req)) }
                : {},
            );
        }
        const found = router.find(req.method ?? 'GET', path);
        if (found && 'handler' in found) return await found.handler(req, res, found.params);
        req.resume();
        sendJson(res, found ? 405 : 404, { error: found ? 'method not allowed' : 'not found' });
      } catch (error) {
        logger.error({ reqId, method: req.method, path: redactPath(path), err: error }, 'internal error');
        if (res.headersSent) return void res.destroy();
        const reply = router.failure(path);
        if (reply) reply(res);
        else sendJson(res, 500, { error: 'internal error' });
      }
    },
  );
  server.on('upgrade', (req, socket, head) => {
    const reqId = requestId(req, options.trustProxy);
    gateway.handleUpgrade(req, socket, head, reqId).catch((error) => {
      logger.error({ reqId, err: error }, 'upgrade failed');
      socket.destroy();
    });
  });
  server.on('clientError', (error: NodeJS.ErrnoException, socket) => {
    const status =
      error.code === 'HPE_HEADER_OVERFLOW'
        ? '431 Request Header Fields Too Large'
        : error.code === 'ERR_HTTP_REQUEST_TIMEOUT'
          ? '408 Request Timeout'
          : '400 Bad Request';
    core.traffic.refused('http', Number(status.slice(0, 3)));
    if (socket.writable)
      socket.end(
        `HTTP/1.1 ${status}\r\nConnection: close\r\nX-Content-Type-Options: nosniff\r\nContent-Length: 0\r\n\r\n`,
      );
    else socket.destroy();
  });

  return {
    server,
    options,
    status,
    rooms: core.rooms,
    get url() {
      return url;
    },
    async listen() {
      if (options.redis && !cluster) {
        const { Cluster } = await import('./cluster/cluster.js');
        cluster = new Cluster(options, core.rooms, () => gateway.connections, logger);
        core.cluster = cluster;
        gateway.cluster = cluster;
        metrics.extend((registry) => cluster!.metrics(registry));
      }
      const listening = await new Promise<string>((resolve, reject) => {
        server.once('error', reject);
        server.listen(options.port, options.host, () => {
          server.off('error', reject);
          const address = server.address() as AddressInfo;
          const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
          resolve(`http://${host}:${address.port}`);
        });
      });
      // A cluster node registers before it is ready (readyz says why until then).
      if (cluster) await cluster.start(listening, link!);
      url = listening;
      return listening;
    },
    async close() {
      draining = true;
      gateway.closeAhead();
      if (cluster) {
        await cluster.drain(options.drainTimeoutMs);
        cluster.stop();
        // Clients that did not move within the drain's time are cut off: the node is leaving.
        gateway.terminate();
      }
      gateway.close();
      const closing = new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      // Rooms' recordings end with the relay: last records written, summaries completed.
      await Promise.all([closing, recordings.close(), core.close()]);
      // The shared Redis connection goes last: the cluster and the state are done with it.
      (await redisLink)?.disconnect();
    },
  };
}

/**
 * The base URL of the socket opened ahead that an OPTIONS answer names: the side (internal or
 * public) the request came by, as a 4014 names it; agents' (internal) when that tells nothing.
 */
function socketsAheadBase(base: { internal: string; external: string }, req: IncomingMessage): string {
  const side = sideOf(req, 'replayer', { internalUrl: base.internal, publicUrl: base.external });
  return side === 'public' ? base.external : base.internal;
}
