import { expect, test } from '@playwright/test';
import type { AddressInfo } from 'node:net';
import { Sender, WebSocket, WebSocketServer } from 'ws';
import { SharedFrame, directSocket, frame } from '../src/shared-frame.js';

test('a batch is framed exactly as ws frames it, text and binary, at every length boundary', () => {
  for (const length of [0, 1, 125, 126, 1024, 65535, 65536, 70_000]) {
    const data = Buffer.alloc(length, length % 251);
    for (const binary of [false, true]) {
      const theirs = Buffer.concat(
        Sender.frame(data, {
          fin: true,
          opcode: binary ? 2 : 1,
          mask: false,
          readOnly: false,
          rsv1: false,
        }) as Buffer[],
      );
      expect(frame(data, binary).equals(theirs), `${length} bytes, binary ${binary}`).toBe(true);
    }
  }
});

/** A ws server on a free loopback port and one client of it; resolves with both ends. */
async function pair(perMessageDeflate: boolean) {
  const wss = new WebSocketServer({ port: 0, host: '127.0.0.1', perMessageDeflate });
  await new Promise((done) => wss.once('listening', done));
  const server = new Promise<WebSocket>((done) => wss.once('connection', done));
  const client = new WebSocket(`ws://127.0.0.1:${(wss.address() as AddressInfo).port}`, { perMessageDeflate });
  const received: { data: Buffer; binary: boolean }[] = [];
  client.on('message', (data, binary) => received.push({ data: data as Buffer, binary }));
  await new Promise((done) => client.once('open', done));
  return {
    server: await server,
    client,
    received,
    close: () => {
      client.terminate();
      wss.close();
    },
  };
}

async function until(check: () => boolean) {
  for (let i = 0; i < 200 && !check(); i++) await new Promise((done) => setTimeout(done, 10));
}

test('an agent socket is written to directly and gets every batch whole, in order, after and before ordinary sends', async () => {
  const { server, received, close } = await pair(false);
  try {
    // If a ws upgrade changes what this reads, the relay would quietly fall back to the slower send.
    expect(directSocket(server)).toBeDefined();
    const batches = [Buffer.from('{"type":"events","epoch":"e","seq":1}\n[1]'), Buffer.alloc(70_000, 7)];
    server.send('{"type":"presence","recorder":true,"replayers":1}');
    new SharedFrame(batches[0]!, false).sendTo(server);
    new SharedFrame(batches[1]!, true).sendTo(server);
    server.send(Buffer.from([1, 2, 3]), { binary: true });
    await until(() => received.length === 4);
    expect(received.map((m) => m.binary)).toEqual([false, false, true, true]);
    expect(received[1]!.data.equals(batches[0]!)).toBe(true);
    expect(received[2]!.data.equals(batches[1]!)).toBe(true);
    expect([...received[3]!.data]).toEqual([1, 2, 3]);
  } finally {
    close();
  }
});

test('a socket with permessage-deflate gets the ordinary send', async () => {
  const { server, received, close } = await pair(true);
  try {
    expect(directSocket(server)).toBeUndefined();
    new SharedFrame(Buffer.from('a batch'), false).sendTo(server);
    await until(() => received.length === 1);
    expect(received[0]!.data.toString()).toBe('a batch');
  } finally {
    close();
  }
});
