import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { CEC_PATH, HEALTH_PATH } from '@cobrowse/protocol';
import { type RelayOptions, type ResolvedOptions, resolveOptions } from './options.js';
import { applyCors } from './cors.js';
import { sendJson } from './http-util.js';
import { Rooms } from './rooms.js';
import { Gateway } from './gateway.js';
import { StaticSdk } from './static-sdk.js';
import { cecDoor } from './doors/cec.js';

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
}

export interface RelayStatus {
  rooms: number;
  connections: number;
  cachedBytes: number;
  uptimeSeconds: number;
}

type Handler = (req: IncomingMessage, res: ServerResponse) => void | Promise<void>;

/** Creates a relay: the REST doors, the socket gateway and the SDK bundles on one HTTP server. */
export function createRelay(input: RelayOptions = {}): Relay {
  const options = resolveOptions(input);
  const rooms = new Rooms({ cacheBytes: options.cacheBytes, maxBufferedBytes: options.maxBufferedBytes }, options.roomGraceMs);
  const gateway = new Gateway(options, rooms);
  const sdk = new StaticSdk(options.sdkDir);
  const started = Date.now();
  let url: string | undefined;

  const status = (): RelayStatus => {
    let cachedBytes = 0;
    for (const room of rooms) cachedBytes += room.cachedBytes;
    return { rooms: rooms.size, connections: gateway.connections, cachedBytes, uptimeSeconds: Math.round((Date.now() - started) / 1000) };
  };

  /** Exact-path routes; each door is one row. */
  const routes = new Map<string, Handler>([
    [CEC_PATH, (req, res) => cecDoor(options, req, res)],
    [
      HEALTH_PATH,
      (_req, res) => {
        res.writeHead(200, { 'content-length': '0', 'cache-control': 'no-store' });
        res.end();
      },
    ],
    ['/cobrowse/status', (_req, res) => sendJson(res, 200, status())],
  ]);

  const server = createServer({ maxHeaderSize: 16 * 1024, headersTimeout: 10_000, requestTimeout: 30_000 }, async (req, res) => {
    try {
      if (applyCors(options, req, res)) return;
      const path = (req.url ?? '/').split('?')[0]!;
      const route = routes.get(path);
      if (route) return await route(req, res);
      if (path.startsWith('/sdk/') && (req.method === 'GET' || req.method === 'HEAD')) return sdk.serve(path.slice(5), req, res);
      sendJson(res, 404, { error: 'not found', path: path.slice(0, 200) });
    } catch (error) {
      options.log(`relay: internal error on ${req.method} ${(req.url ?? '').split('?')[0]}: ${(error as Error)?.stack ?? error}`);
      if (!res.headersSent) sendJson(res, 500, { error: 'internal error' });
      else res.destroy();
    }
  });
  server.on('upgrade', (req, socket, head) => {
    gateway.handleUpgrade(req, socket, head).catch((error) => {
      options.log(`relay: upgrade failed: ${(error as Error)?.message ?? error}`);
      socket.destroy();
    });
  });
  server.on('clientError', (_error, socket) => {
    if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n');
    else socket.destroy();
  });

  return {
    server,
    options,
    status,
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
      return new Promise((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };
}
