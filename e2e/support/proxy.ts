import { createServer, type Server, type Socket, connect } from 'node:net';
import type { AddressInfo } from 'node:net';

interface Link {
  client: Socket;
  upstream: Socket;
  /** The first line the client sent (for a WebSocket: `GET /ws/cobrowse/…?role=… HTTP/1.1`). */
  request: string;
}

export type LinkFilter = (request: string) => boolean;

/** One HTTP request seen going through the proxy: on which connection (in order of opening), and what. */
export interface SeenRequest {
  connection: number;
  method: string;
  path: string;
  /** A CORS preflight: OPTIONS with Access-Control-Request-Method. */
  preflight: boolean;
}
export const recorderLinks: LinkFilter = (r) => /role=recorder/.test(r);
export const replayerLinks: LinkFilter = (r) => /role=replayer/.test(r);

/**
 * A TCP proxy on loopback that a test can break on purpose: drop connections, or stall them
 * (stop forwarding both ways while keeping them open) and resume.
 */
export class FaultyProxy {
  private readonly server: Server;
  private readonly links = new Set<Link>();
  private connections = 0;
  /** Every HTTP request that went through, in order (request heads read from the client's bytes). */
  readonly requests: SeenRequest[] = [];
  target = 0;
  port = 0;

  constructor() {
    this.server = createServer((client) => {
      const upstream = connect(this.target, '127.0.0.1');
      const link: Link = { client, upstream, request: '' };
      this.links.add(link);
      client.once('data', (chunk) => (link.request = chunk.toString('latin1').split('\r\n')[0] ?? ''));
      const connection = ++this.connections;
      // The client's bytes not yet read: request heads, each followed by its body (Content-Length),
      // until a WebSocket upgrade (frames after it are not requests).
      let unread = '';
      let body = 0;
      let upgraded = false;
      client.on('data', (chunk: Buffer) => {
        if (upgraded) return;
        unread += chunk.toString('latin1');
        for (;;) {
          const skipped = Math.min(body, unread.length);
          unread = unread.slice(skipped);
          body -= skipped;
          if (body > 0) return;
          const head = /^([A-Z]+) (\S+) HTTP\/1\.1\r\n((?:[^\r\n]+\r\n)*)\r\n/.exec(unread);
          if (!head) {
            unread = unread.slice(-65536);
            return;
          }
          const [all, method, path, headers] = head;
          this.requests.push({
            connection,
            method: method!,
            path: path!,
            preflight: method === 'OPTIONS' && /^access-control-request-method:/im.test(headers!),
          });
          unread = unread.slice(all.length);
          body = Number(/^content-length:\s*(\d+)/im.exec(headers!)?.[1] ?? 0);
          if (/^upgrade:\s*websocket/im.test(headers!)) upgraded = true;
          if (upgraded) return;
        }
      });
      client.pipe(upstream);
      upstream.pipe(client);
      const close = () => {
        this.links.delete(link);
        client.destroy();
        upstream.destroy();
      };
      client.on('error', close).on('close', close);
      upstream.on('error', close).on('close', close);
    });
  }

  async listen(): Promise<number> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.port = (this.server.address() as AddressInfo).port;
    return this.port;
  }

  private select(filter: LinkFilter): Link[] {
    return [...this.links].filter((link) => filter(link.request));
  }

  /** Number of open connections matching. */
  count(filter: LinkFilter = () => true): number {
    return this.select(filter).length;
  }

  /** Cuts matching connections (both sides see the TCP connection reset). */
  drop(filter: LinkFilter = () => true): number {
    const links = this.select(filter);
    for (const link of links) {
      link.client.resetAndDestroy();
      link.upstream.destroy();
    }
    return links.length;
  }

  /** Stops forwarding on matching connections, both ways, keeping them open. */
  stall(filter: LinkFilter = () => true): number {
    const links = this.select(filter);
    for (const link of links) {
      link.client.unpipe(link.upstream);
      link.upstream.unpipe(link.client);
      link.client.pause();
      link.upstream.pause();
    }
    return links.length;
  }

  /** Forwards again on every stalled connection. */
  resume(): void {
    for (const link of this.links) {
      link.client.pipe(link.upstream);
      link.upstream.pipe(link.client);
    }
  }

  close(): Promise<void> {
    for (const link of this.links) {
      link.client.destroy();
      link.upstream.destroy();
    }
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}
