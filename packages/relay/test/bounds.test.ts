import { expect, test } from '@playwright/test';
import { connect as tcp, type Socket } from 'node:net';
import { randomBytes } from 'node:crypto';
import v8 from 'node:v8';
import vm from 'node:vm';
import WebSocket from 'ws';
import { CEC_PATH, encodeText, signToken, type Role } from '@cobrowse/protocol';
import { TEST_SECRET, relayFor } from './helpers.js';
import type { RelayOptions } from '../src/index.js';

v8.setFlagsFromString('--expose-gc');
const gc = vm.runInNewContext('gc') as () => void;

type Relay = Awaited<ReturnType<typeof relayFor>>;

async function withRelay(options: RelayOptions, body: (relay: Relay) => Promise<void>): Promise<void> {
  const relay = await relayFor(options);
  try {
    await body(relay);
  } finally {
    await relay.close();
  }
}

const path = async (room: string, role: Role) =>
  `/ws/cobrowse/${room}?signature=${encodeURIComponent(await signToken(TEST_SECRET, { room, role, user: 'u', name: 'n' }))}`;

/** A raw TCP WebSocket handshake: resolves with the socket once the relay answered 101. */
function rawUpgrade(relay: Relay, target: string): Promise<Socket> {
  const { port } = new URL(relay.base);
  return new Promise((resolve, reject) => {
    const socket = tcp(Number(port), '127.0.0.1', () =>
      socket.write(
        `GET ${target} HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
          `Sec-WebSocket-Key: ${randomBytes(16).toString('base64')}\r\nSec-WebSocket-Version: 13\r\n\r\n`,
      ),
    );
    socket.once('data', (data) =>
      data.toString().startsWith('HTTP/1.1 101') ? resolve(socket) : reject(new Error(data.toString())),
    );
    socket.on('error', () => undefined);
  });
}

/** A client frame header (masked, zero mask so the payload goes as is). */
function frameHeader(fin: boolean, opcode: number, length: number): Buffer {
  const head = Buffer.alloc(14);
  head[0] = (fin ? 0x80 : 0) | opcode;
  head[1] = 0x80 | 127;
  head.writeBigUInt64BE(BigInt(length), 2);
  return head; // the last four bytes are the mask key: zero
}

const closedWithin = (socket: Socket) =>
  new Promise<number>((resolve) => {
    const started = Date.now();
    socket.resume();
    socket.once('close', () => resolve(Date.now() - started));
  });

/** Opens a socket (no hello); resolves with it, or with the refused upgrade's status. */
function openOnly(relay: Relay, target: string): Promise<WebSocket | number> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(relay.base.replace('http', 'ws') + target);
    ws.once('open', () => resolve(ws));
    ws.once('unexpected-response', (_req, res) => {
      res.resume();
      resolve(res.statusCode!);
    });
    ws.once('error', reject);
  });
}

test.describe('memory and CPU bounds no anonymous caller can move', () => {
  test('a message fragmented and never finished, or trickling in, is cut off by time; the memory comes back', () =>
    withRelay({ frameTimeoutMs: 1500 }, async (relay) => {
      const target = await path('frag', 'recorder');
      const chunk = Buffer.alloc(1024 * 1024, 0x61);
      gc();
      const baseline = process.memoryUsage().arrayBuffers;
      const sockets = await Promise.all(Array.from({ length: 24 }, () => rawUpgrade(relay, target)));
      const closes = sockets.map(closedWithin);
      for (const [i, socket] of sockets.entries()) {
        if (i % 2) socket.write(Buffer.concat([frameHeader(false, 0x1, chunk.length), chunk]));
        else socket.write(Buffer.concat([frameHeader(true, 0x1, 4 * chunk.length), chunk]));
      }
      const times = await Promise.all(closes);
      for (const ms of times) expect(ms).toBeLessThan(8000);
      gc();
      await expect
        .poll(() => {
          gc();
          return process.memoryUsage().arrayBuffers;
        })
        .toBeLessThan(baseline + 8 * chunk.length);
    }));

  test('fragments adding up past the frame limit close the socket at once (1009)', () =>
    withRelay({ maxFrameBytes: 256 * 1024 }, async (relay) => {
      const socket = await rawUpgrade(relay, await path('big', 'recorder'));
      const closed = closedWithin(socket);
      const part = Buffer.alloc(100 * 1024, 0x61);
      const received: Buffer[] = [];
      socket.on('data', (d) => received.push(d));
      socket.write(Buffer.concat([frameHeader(false, 0x1, part.length), part]));
      socket.write(Buffer.concat([frameHeader(false, 0x0, part.length), part]));
      socket.write(Buffer.concat([frameHeader(false, 0x0, part.length), part]));
      expect(await closed).toBeLessThan(2000);
      const close = Buffer.concat(received);
      expect(close[0]).toBe(0x88);
      expect(close.readUInt16BE(2)).toBe(1009);
    }));

  test("an agent's socket takes only small frames (1009 past maxAgentFrameBytes)", () =>
    withRelay({ maxAgentFrameBytes: 8 * 1024 }, async (relay) => {
      const ws = (await openOnly(relay, await path('agent-cap', 'replayer'))) as WebSocket;
      const closed = new Promise<number>((resolve) => ws.once('close', (code) => resolve(code)));
      ws.send(encodeText({ type: 'hello', v: 2 }));
      ws.send(Buffer.alloc(9 * 1024, 0x61));
      expect(await closed).toBe(1009);
    }));

  test('the uplink deflate bomb: a small compressed frame inflating past the limit is refused (1009)', () =>
    withRelay({ compressUplink: true, maxFrameBytes: 1024 * 1024 }, async (relay) => {
      const ws = new WebSocket(relay.base.replace('http', 'ws') + (await path('bomb', 'recorder')), {
        perMessageDeflate: true,
      });
      await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject));
      const closed = new Promise<number>((resolve) => ws.once('close', (code) => resolve(code)));
      ws.send(Buffer.alloc(32 * 1024 * 1024), { compress: true });
      expect(await closed).toBe(1009);
      expect((await fetch(`${relay.base}/cobrowse/health`)).status).toBe(200);
    }));

  test('a slow body is cut off by the request timeout', () =>
    withRelay({ requestTimeoutMs: 600, dev: true }, async (relay) => {
      const { port } = new URL(relay.base);
      const started = Date.now();
      let answer = '';
      const ended = await new Promise<number>((resolve) => {
        const socket = tcp(Number(port), '127.0.0.1', () =>
          socket.write(
            `POST ${CEC_PATH} HTTP/1.1\r\nHost: x\r\nCookie: ccmessaging-token=dev\r\n` +
              'Content-Type: application/json\r\nContent-Length: 1000\r\n\r\n',
          ),
        );
        const drip = setInterval(() => socket.writable && socket.write(' '), 100);
        socket.on('data', (d) => (answer += d.toString()));
        socket.on('close', () => {
          clearInterval(drip);
          resolve(Date.now() - started);
        });
        socket.on('error', () => undefined);
      });
      expect(ended).toBeLessThan(8000);
      expect(answer).toMatch(/^HTTP\/1\.1 408/);
    }));

  test('agents per room, rooms per node and sockets per address hold when many sockets open at once, before any hello', async () => {
    await withRelay({ maxReplayersPerRoom: 3 }, async (relay) => {
      const target = await path('crowd', 'replayer');
      const results = await Promise.all(Array.from({ length: 12 }, () => openOnly(relay, target)));
      expect(results.filter((r) => r instanceof WebSocket)).toHaveLength(3);
      expect(results.filter((r) => r === 429)).toHaveLength(9);
      for (const r of results) if (r instanceof WebSocket) r.terminate();
    });
    await withRelay({ maxRooms: 2 }, async (relay) => {
      const targets = await Promise.all(Array.from({ length: 8 }, (_, i) => path(`room-${i}`, 'recorder')));
      const results = await Promise.all(targets.map((t) => openOnly(relay, t)));
      expect(results.filter((r) => r instanceof WebSocket)).toHaveLength(2);
      expect(results.filter((r) => r === 503)).toHaveLength(6);
      for (const r of results) if (r instanceof WebSocket) r.terminate();
    });
    await withRelay({ maxConnectionsPerAddress: 4 }, async (relay) => {
      const targets = await Promise.all(Array.from({ length: 10 }, (_, i) => path(`addr-${i % 3}`, 'replayer')));
      const results = await Promise.all(targets.map((t) => openOnly(relay, t)));
      expect(results.filter((r) => r instanceof WebSocket)).toHaveLength(4);
      expect(results.filter((r) => r === 429)).toHaveLength(6);
      for (const r of results) if (r instanceof WebSocket) r.terminate();
    });
  });
});
