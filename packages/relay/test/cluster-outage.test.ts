import { expect, test } from '@playwright/test';
import WebSocket from 'ws';
import { APIACCESS_PATH } from '@cobrowse/protocol';
import { startRedis } from '../../../test-support/redis.mjs';
import { post } from './helpers.js';
import { batch } from './sockets.js';
import {
  type Node,
  OPERATOR,
  cecInfo,
  closeOf,
  connect,
  join,
  portOf,
  roomOwnedBy,
  startNode,
  waitForNodes,
} from './cluster-support.js';

const metric = async (node: Node, name: string) => {
  const text = await (await fetch(`${node.base}/metrics`, { headers: { authorization: `Bearer ${OPERATOR}` } })).text();
  return Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(text)?.[1]);
};
const readyz = async (node: Node) => {
  const response = await fetch(`${node.base}/readyz`);
  return { status: response.status, body: await response.json() };
};

test('Redis goes away: held rooms keep flowing, new rooms get a retryable 503, /readyz says why; all recovers by itself', async () => {
  test.setTimeout(45_000);
  const redis = await startRedis();
  const a = await startNode(redis.url, 'out-a');
  const b = await startNode(redis.url, 'out-b');
  try {
    await waitForNodes([a, b], 2);
    expect(await metric(a, 'cobrowse_redis_up')).toBe(1);
    expect(await metric(a, 'cobrowse_cluster_nodes')).toBe(2);
    const room = await roomOwnedBy(b.base, a.port, 'held');
    const customer = (await cecInfo(b.base, room)).data;
    const agentInfo = (await cecInfo(b.base, room, 'replayer')).data;
    const recorder = await join(customer.wssUrl, customer.signature, 'recorder');
    const agent = await join(agentInfo.wssUrl, agentInfo.signature, 'replayer');
    recorder.ws.send(batch(1, true));
    await agent.next((f) => f.includes('"seq":1'));

    await redis.kill();
    await expect
      .poll(async () => (await readyz(a)).body, { timeout: 5000 })
      .toEqual({
        status: 'not ready',
        reason: 'redis unreachable',
      });
    expect((await readyz(b)).status).toBe(503);
    expect(await metric(a, 'cobrowse_redis_up')).toBe(0);

    // The held room goes on: frames flow, and its owner still hands out its connection info.
    recorder.ws.send(batch(2));
    await agent.next((f) => f.includes('"seq":2'));
    const again = await cecInfo(a.base, room, 'replayer');
    expect(again.status).toBe(200);
    expect(portOf(again.data.wssUrl)).toBe(a.port);

    // A new room: a clear, retryable refusal in each dialect's words.
    const fresh = await fetch(`${a.base}/service-cloud/rest/webadapter/v1/connectionInfo/getConnectionInfo`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'ccmessaging-token': 'cec-token-0123456789' },
      body: JSON.stringify({ roomId: 'new-room', userId: 'u', userName: 'U', role: 'recorder' }),
    });
    expect(fresh.status).toBe(503);
    expect(fresh.headers.get('retry-after')).toBe('2');
    expect(await fresh.json()).toEqual({ retCode: '503', retMsg: expect.stringMatching(/try again/) });
    const api = await post(
      b.base + APIACCESS_PATH,
      { roomId: 'new-room', role: 'recorder' },
      { 'x-app-key': 'app-1', authorization: 'Bearer app-token-0123456789', 'x-tenantspaceid': 't1' },
    );
    expect(api.status).toBe(503);
    expect(api.json).toMatchObject({ success: false, errorCode: 503001 });
    // The room's node cannot be known: a socket for a room not held here is refused (retryable), never taken.
    const elsewhere = (await cecInfo(a.base, room)).data; // held by A: A still answers
    const wrong = await connect(`${b.ws}/ws/cobrowse/${room}?role=recorder&signature=${elsewhere.signature}`);
    expect(wrong).toEqual({ refused: 503 });

    await redis.restart();
    await expect.poll(async () => (await readyz(a)).status, { timeout: 8000 }).toBe(200);
    await expect.poll(async () => (await readyz(b)).status, { timeout: 8000 }).toBe(200);
    expect(await metric(b, 'cobrowse_redis_up')).toBe(1);
    await waitForNodes([a, b], 2);
    // The holder re-claimed its room: the other node names it again; new rooms are placed again.
    await expect
      .poll(async () => portOf((await cecInfo(b.base, room)).data?.wssUrl ?? 'ws://x:1'), { timeout: 5000 })
      .toBe(a.port);
    expect((await cecInfo(b.base, 'new-room')).status).toBe(200); // both nodes are ready: they place again
    recorder.ws.send(batch(3));
    await agent.next((f) => f.includes('"seq":3'));
    recorder.ws.close();
    agent.ws.close();
  } finally {
    await Promise.all([a.close(), b.close()]);
    await redis.stop();
  }
});

test('drain: a closing node leaves the cluster and sends its sockets to the new owner (4014), customers to its public URL', async () => {
  const redis = await startRedis();
  const nodes = [
    await startNode(redis.url, 'dr-a'),
    await startNode(redis.url, 'dr-b'),
    await startNode(redis.url, 'dr-c'),
  ];
  const [a, b, c] = nodes as [Node, Node, Node];
  try {
    await waitForNodes(nodes, 3);
    const room = await roomOwnedBy(a.base, b.port, 'drained');
    const customer = (await cecInfo(a.base, room)).data;
    const agentInfo = (await cecInfo(c.base, room, 'replayer')).data;
    // The customer came by B's public URL, the agent by its internal one.
    const recorder = await join(customer.wssUrlOut, customer.signature, 'recorder');
    const agent = await join(agentInfo.wssUrl, agentInfo.signature, 'replayer');
    const closes = [closeOf(recorder.ws), closeOf(agent.ws)];
    const started = Date.now();
    await b.close();
    expect(Date.now() - started).toBeLessThan(2500);
    const [toCustomer, toAgent] = await Promise.all(closes);
    expect(toCustomer!.code).toBe(4014);
    expect(toAgent!.code).toBe(4014);
    const newOwner = portOf(toAgent!.reason);
    expect([a.port, c.port]).toContain(newOwner);
    expect(toCustomer!.reason).toBe(`ws://localhost:${newOwner}`);
    expect(toAgent!.reason).toBe(`ws://127.0.0.1:${newOwner}`);
    await waitForNodes([a, c], 2);
    // Fresh connection info names the same new owner; the old signature works there.
    expect(portOf((await cecInfo(a.base, room)).data.wssUrl)).toBe(newOwner);
    expect(portOf((await cecInfo(c.base, room)).data.wssUrl)).toBe(newOwner);
    const resumed = await join(`${toCustomer!.reason}/ws/cobrowse/${room}`, customer.signature, 'recorder');
    expect(resumed.welcome.roomId).toBe(room);
    resumed.ws.close();
  } finally {
    await Promise.all([a.close(), c.close()]);
    await redis.stop();
  }
});

test('a single process (no redis option) loads no cluster code and names itself, as before', async () => {
  const { relayFor } = await import('./helpers.js');
  const relay = await relayFor({ cecTokens: ['cec-token-0123456789'] });
  try {
    const { data } = await cecInfo(relay.base, 'solo');
    expect(data.wssUrl).toBe(`${relay.base.replace('http', 'ws')}/ws/cobrowse/solo`);
    expect(relay.status().cluster).toBeUndefined();
    const ws = await connect(`${data.wssUrl}?role=recorder&signature=${encodeURIComponent(data.signature)}`);
    expect(ws).toBeInstanceOf(WebSocket);
    (ws as WebSocket).close();
  } finally {
    await relay.close();
  }
});

test('cluster options are checked: a bad Redis URL, node id, TTL or drain timeout refuses to start', async () => {
  const { createRelay } = await import('../src/index.js');
  const { TEST_SECRET } = await import('./helpers.js');
  for (const bad of [
    { redis: 'http://127.0.0.1:6379' },
    { redis: 'redis://x', nodeId: 'a/b' },
    { nodeTtlMs: 10 },
    { nodeTtlMs: 1.5e9 },
    { drainTimeoutMs: -1 },
  ])
    expect(() => createRelay({ secret: TEST_SECRET, log: () => undefined, ...bad })).toThrow(
      /redis|nodeId|nodeTtlMs|drainTimeoutMs/,
    );
  // --dev's random secret per process: the nodes could not verify each other's tokens.
  expect(() => createRelay({ dev: true, redis: 'redis://127.0.0.1:1', log: () => undefined })).toThrow(
    /needs the secret all nodes share/,
  );
});

test('drain is bounded: /readyz says "draining" while a client that ignores the move lingers, then the node closes', async () => {
  const { connect: tcp } = await import('node:net');
  const redis = await startRedis();
  const a = await startNode(redis.url, 'bd-a');
  const b = await startNode(redis.url, 'bd-b', { drainTimeoutMs: 1500 });
  const stubborn = tcp(b.port, '127.0.0.1');
  try {
    await waitForNodes([a, b], 2);
    const room = await roomOwnedBy(a.base, b.port, 'bounded');
    const { signature } = (await cecInfo(a.base, room, 'replayer')).data;
    // A raw WebSocket client that completes the upgrade and then never answers a close frame.
    stubborn.write(
      `GET /ws/cobrowse/${room}?role=replayer&signature=${encodeURIComponent(signature)} HTTP/1.1\r\n` +
        `Host: 127.0.0.1:${b.port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
        'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n',
    );
    await new Promise<void>((resolve) =>
      stubborn.once('data', (chunk) => chunk.toString().startsWith('HTTP/1.1 101') && resolve()),
    );
    await expect.poll(() => b.status().connections).toBe(1);
    const started = Date.now();
    const closed = b.close();
    await expect.poll(async () => (await readyz(b)).body.reason, { timeout: 1000 }).toBe('draining');
    await closed;
    const took = Date.now() - started;
    expect(took).toBeGreaterThanOrEqual(1400);
    expect(took).toBeLessThan(4000);
  } finally {
    stubborn.destroy();
    await a.close();
    await redis.stop();
  }
});
