import { expect, test } from '@playwright/test';
import type { AddressInfo } from 'node:net';
import { createRelay } from '../src/index.js';
import { TEST_SECRET, relayFor } from './helpers.js';
import { joinRoom } from './sockets.js';

test('/healthz: 200 {"status":"ok"} with no credential, whatever Authorization is sent', async () => {
  const relay = await relayFor({ operatorToken: 'operator-token-0123456789' });
  try {
    for (const headers of [{}, { authorization: 'Bearer wrong' }]) {
      const response = await fetch(`${relay.base}/healthz`, { headers });
      expect(response.status).toBe(200);
      expect(response.headers.get('cache-control')).toBe('no-store');
      expect(await response.json()).toEqual({ status: 'ok' });
    }
    expect((await fetch(`${relay.base}/healthz`, { method: 'POST' })).status).toBe(405);
  } finally {
    await relay.close();
  }
});

test('/readyz: 200 while the relay takes new rooms, 503 with a reason (and nothing about rooms) at maxRooms', async () => {
  const relay = await relayFor({ maxRooms: 1, roomGraceMs: 50 });
  try {
    const ready = await fetch(`${relay.base}/readyz`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toEqual({ status: 'ready' });

    const recorder = await joinRoom(relay.base, 'ready-room-1', 'recorder');
    const full = await fetch(`${relay.base}/readyz`);
    expect(full.status).toBe(503);
    expect(full.headers.get('retry-after')).toBe('5');
    const text = await full.text();
    expect(JSON.parse(text)).toEqual({ status: 'not ready', reason: 'at maxRooms' });
    expect(text).not.toContain('ready-room-1');
    expect(text).not.toContain('recorder-1');

    // The room goes (its customer left, its grace period ran out): ready again.
    recorder.ws.close();
    await recorder.closed;
    await expect.poll(async () => (await fetch(`${relay.base}/readyz`)).status).toBe(200);
  } finally {
    await relay.close();
  }
});

test('/readyz: 503 "not listening yet" until listen() has finished', async () => {
  const relay = createRelay({ port: 0, host: '127.0.0.1', secret: TEST_SECRET, log: () => undefined });
  // The HTTP server is up, but the relay's listen() never ran: it has no URL to hand out yet.
  await new Promise<void>((resolve) => relay.server.listen(0, '127.0.0.1', resolve));
  try {
    const { port } = relay.server.address() as AddressInfo;
    const response = await fetch(`http://127.0.0.1:${port}/readyz`);
    expect(response.status).toBe(503);
    expect(await response.json()).toEqual({ status: 'not ready', reason: 'not listening yet' });
    expect((await fetch(`http://127.0.0.1:${port}/healthz`)).status).toBe(200);
  } finally {
    await relay.close();
  }
});
