import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { HEALTH_PATH } from '@cobrowse/protocol';
import { ConfigError, type RelayOptions, type ResolvedOptions, resolveOptions } from './options.js';
import { applyCors } from './cors.js';
import { sendJson } from './http-util.js';
import { requireOperator } from './operator.js';
import { Core } from './core.js';
import type { Rooms } from './rooms.js';
import { Gateway } from './gateway.js';
import { StaticSdk } from './static-sdk.js';
import { Router } from './router.js';
import { cecDoor } from './doors/cec.js';
import { apiaccessDoor } from './doors/apiaccess.js';
import { sessionDoor } from './doors/session.js';
import { agentgatewayDoor } from './doors/agentgateway.js';
import { passphraseDoor } from './doors/passphrase.js';
import { Recordings } from './recordings/manager.js';
import { recordingRoutes } from './recordings/routes.js';

export interface Relay {
  /** Starts listening; resolves with the base http:// URL. */
  listen(): Promise<string>;
  /** Closes every socket (clients are told to reconnect) and stops listening. */
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
  const core = new Core(options);
  // Session recordings (recordings/): the gateway taps rooms into them; the routes serve them.
  const recordings = new Recordings(options.recordings, options.log);
  const gateway = new Gateway(options, core.rooms, recordings);
  const sdk = new StaticSdk(options.sdkDir);
  const started = Date.now();
  let url: string | undefined;

  const status = (): RelayStatus => {
    let cachedBytes = 0;
    for (const room of core.rooms) cachedBytes += room.cachedBytes;
    const memory = process.memoryUsage();
    return {
      rooms: core.rooms.size,
      connections: gateway.connections,
      cachedBytes,
      cacheSlabBytes: core.cacheBudget.pool.allocatedBytes,
      memory: { rssBytes: memory.rss, heapUsedBytes: memory.heapUsed, arrayBuffersBytes: memory.arrayBuffers },
      uplinkBytes: gateway.uplinkBytes,
      uptimeSeconds: Math.round((Date.now() - started) / 1000),
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
      res.setHeader('x-content-type-options', 'nosniff');
      try {
        // The SDK bundles are public scripts (`*`, no credentials); every other path is a door, with the CORS allow-list.
        if (!path.startsWith(SDK_PREFIX) && applyCors(options, req, res)) return;
        const found = router.find(req.method ?? 'GET', path);
        if (found && 'handler' in found) return await found.handler(req, res, found.params);
        req.resume();
        sendJson(res, found ? 405 : 404, { error: found ? 'method not allowed' : 'not found' });
      } catch (error) {
        options.log(`relay: internal error on ${req.method} ${redactPath(path)}: ${(error as Error)?.stack ?? error}`);
        if (res.headersSent) return void res.destroy();
        const reply = router.failure(path);
        if (reply) reply(res);
        else sendJson(res, 500, { error: 'internal error' });
      }
    },
  );
  server.on('upgrade', (req, socket, head) => {
    gateway.handleUpgrade(req, socket, head).catch((error) => {
      options.log(`relay: upgrade failed: ${(error as Error)?.message ?? error}`);
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
    listen() {
      return new Promise((resolve, reject) => {
        server.once('error', reject);
        server.listen(options.port, options.host, () => {
          server.off('error', reject);
          const address = server.address() as AddressInfo;
          const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
          url = `http://${host}:${address.port}`;
          resolve(url);
        });
      });
    },
    close() {
      gateway.close();
      const closing = new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      // Rooms' recordings end with the relay: last records written, summaries completed.
      return Promise.all([closing, recordings.close()]).then(() => undefined);
    },
  };
}
