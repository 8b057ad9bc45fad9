import { expect, test } from '@playwright/test';
import { connect as tcp } from 'node:net';
import WebSocket from 'ws';
import { CloseCode, encodeText, signToken, type Role } from '@cobrowse/protocol';
import { relayFor } from './helpers.js';
import type { RelayOptions } from '../src/index.js';

const SECRET = 'limits-secret-0123456789abcdef0123456789abcdef';

async function socketUrl(base: string, room: string, role: Role): Promise<string> {
  const signature = await signToken(SECRET, { room, role, user: 'u', name: 'n' });
  return `${base.replace('http', 'ws')}/ws/cobrowse/${room}?signature=${encodeURIComponent(signature)}`;
}

/** Opens a socket and says hello; resolves with it, or with the refused upgrade's status. */
function open(url: string, role: Role): Promise<WebSocket | number> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url);
    ws.once('open', () => {
      ws.send(encodeText({ type: 'hello', v: 1, ...(role === 'recorder' ? { epoch: 'e' } : {}) }));
      resolve(ws);
    });
    ws.once('unexpected-response', (_req, res) => resolve(res.statusCode!));
    ws.once('error', reject);
  });
}

const closed = (ws: WebSocket) => new Promise<number>((resolve) => ws.once('close', (code) => resolve(code)));

async function withRelay(options: RelayOptions, body: (base: string) => Promise<void>): Promise<void> {
  const relay = await relayFor({ secret: SECRET, ...options });
  try {
    await body(relay.base);
  } finally {
    await relay.close();
  }
}

test.describe('limits, each with a clear refusal', () => {
  test('frame size: an oversize frame closes the socket with 1009', () =>
    withRelay({ maxFrameBytes: 1024 }, async (base) => {
      const ws = (await open(await socketUrl(base, 'big', 'recorder'), 'recorder')) as WebSocket;
      const code = closed(ws);
      ws.send(`{"type":"events","epoch":"e","seq":1,"snap":true}\n${'x'.repeat(4096)}`);
      expect(await code).toBe(1009);
    }));

  test('events per second per room: a flood closes the recorder with 4008', () =>
    withRelay({ maxMessagesPerSecond: 10 }, async (base) => {
      const ws = (await open(await socketUrl(base, 'flood', 'recorder'), 'recorder')) as WebSocket;
      const code = closed(ws);
      for (let seq = 1; seq <= 60; seq++)
        ws.send(encodeText({ type: 'events', epoch: 'e', seq, ...(seq === 1 ? { snap: true } : {}) }, '[]'));
      expect(await code).toBe(CloseCode.RateLimited);
    }));

  test('replayers per room: one too many is refused with 429', () =>
    withRelay({ maxReplayersPerRoom: 2 }, async (base) => {
      const url = await socketUrl(base, 'full', 'replayer');
      const a = await open(url, 'replayer');
      const b = await open(url, 'replayer');
      expect(a).toBeInstanceOf(WebSocket);
      expect(b).toBeInstanceOf(WebSocket);
      await new Promise((r) => setTimeout(r, 50));
      expect(await open(url, 'replayer')).toBe(429);
      (a as WebSocket).close();
      (b as WebSocket).close();
    }));

  test('rooms per node: a new room past the limit is refused with 503', () =>
    withRelay({ maxRooms: 2 }, async (base) => {
      const sockets = [
        await open(await socketUrl(base, 'r1', 'replayer'), 'replayer'),
        await open(await socketUrl(base, 'r2', 'replayer'), 'replayer'),
      ];
      await new Promise((r) => setTimeout(r, 50));
      expect(await open(await socketUrl(base, 'r3', 'replayer'), 'replayer')).toBe(503);
      // An existing room still takes agents.
      const more = await open(await socketUrl(base, 'r1', 'replayer'), 'replayer');
      expect(more).toBeInstanceOf(WebSocket);
      for (const ws of [...sockets, more]) (ws as WebSocket).close();
    }));

  test('connections per address: one too many is refused with 429', () =>
    withRelay({ maxConnectionsPerAddress: 3 }, async (base) => {
      const sockets: WebSocket[] = [];
      for (let i = 0; i < 3; i++)
        sockets.push((await open(await socketUrl(base, `a${i}`, 'replayer'), 'replayer')) as WebSocket);
      expect(await open(await socketUrl(base, 'a9', 'replayer'), 'replayer')).toBe(429);
      sockets[0]!.close();
      await closed(sockets[0]!);
      await new Promise((r) => setTimeout(r, 50));
      const again = await open(await socketUrl(base, 'a9', 'replayer'), 'replayer');
      expect(again).toBeInstanceOf(WebSocket);
      for (const ws of [...sockets, again as WebSocket]) ws.close();
    }));

  test('idle time: a room whose recorder says nothing is closed with 4013 for everyone', () =>
    withRelay({ idleMs: 300 }, async (base) => {
      const recorder = (await open(await socketUrl(base, 'idle', 'recorder'), 'recorder')) as WebSocket;
      const agent = (await open(await socketUrl(base, 'idle', 'replayer'), 'replayer')) as WebSocket;
      const [a, b] = await Promise.all([closed(recorder), closed(agent)]);
      expect([a, b]).toEqual([CloseCode.Idle, CloseCode.Idle]);
    }));

  test('slow and oversize headers: a slowloris client is cut off; huge headers get 431', () =>
    withRelay({ headersTimeoutMs: 500 }, async (base) => {
      const { port } = new URL(base);
      const started = Date.now();
      const ended = await new Promise<number>((resolve) => {
        const socket = tcp(Number(port), '127.0.0.1', () => socket.write('GET /ws/cobrowse/x HTTP/1.1\r\nHost: x\r\n'));
        const drip = setInterval(() => socket.writable && socket.write('X-Slow: 1\r\n'), 100);
        socket.on('close', () => {
          clearInterval(drip);
          resolve(Date.now() - started);
        });
        socket.on('error', () => undefined);
        socket.resume();
      });
      expect(ended).toBeLessThan(3000);
      const huge = await fetch(`${base}/cobrowse/health`, { headers: { 'x-huge': 'x'.repeat(20_000) } });
      expect(huge.status).toBe(431);
    }));
});
