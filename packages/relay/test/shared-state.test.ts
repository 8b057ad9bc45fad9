import { expect, test } from '@playwright/test';
import { CloseCode, SESSION_PREFIX, encodeText } from '@cobrowse/protocol';
import { type Peer, batch, enter } from './attack-support.js';
import { keysAllExpire, on, placed, ready, twoNodes, until } from './shared-state-support.js';
import { relayFor } from './helpers.js';

const SHOP = 'https://shop.example';
const OPTIONS = { corsOrigins: [SHOP], sessionAgentTokens: ['agent-002'], roomGraceMs: 10_000 };

// Seed 002 over two relay nodes sharing one Redis: whichever node a request reaches, it finds the session.
test.describe('shared state, seed 002: a session is the same on every node', () => {
  test('looked up and stopped on the node without the room: its owner closes its sockets and both nodes refuse the old tokens', async () => {
    const cluster = await twoNodes(OPTIONS);
    const { a, b } = cluster;
    try {
      const created = await (await fetch(`${a.base}${SESSION_PREFIX}/sessions`, { method: 'POST' })).json();
      expect(created.sessionToken).toMatch(/^\d{9}$/);
      // The cluster placed the room on one node (its connection info names it); the agent asks the other.
      const { owner, other } = placed([a, b], created.wssUrlOut);
      const lookup = await fetch(`${other.base}${SESSION_PREFIX}/sessions/${created.sessionToken}`, {
        headers: { origin: SHOP, authorization: 'Bearer agent-002' },
      });
      expect(lookup.status).toBe(200);
      const info = await lookup.json();
      expect(info.sessionToken).toBe(created.sessionToken);
      expect(placed([a, b], info.wssUrl).owner).toBe(owner);
      const customer = (await enter(created.wssUrlOut, created.signature, 'recorder')) as Peer;
      const agent = (await enter(info.wssUrl, info.signature, 'replayer')) as Peer;
      customer.ws.send(batch(1, true));
      await agent.until(() => agent.events().length === 1);

      // The customer's stop reaches the node without the room.
      const stop = await fetch(`${other.base}${SESSION_PREFIX}/users/${created.userToken}/session/stop`);
      expect(stop.status).toBe(200);
      const stopped = await stop.json();
      // The owner told the store when the customer connected.
      expect(stopped.activationTime).toEqual(expect.any(Number));
      expect(stopped.deactivationTime).toBeGreaterThanOrEqual(stopped.activationTime);
      expect((await customer.closed).code).toBe(CloseCode.SessionEnded);
      expect((await agent.closed).code).toBe(CloseCode.SessionEnded);
      expect(owner.rooms.live('session', created.sessionToken)).toBe(false);
      for (const node of [a, b]) {
        expect(await enter(on(node, created.wssUrlOut), created.signature, 'recorder')).toBe(410);
        expect(await enter(on(node, info.wssUrl), info.signature, 'replayer')).toBe(410);
      }
      // The session is gone for lookups on either node; a replayed stop changes nothing.
      for (const node of [a, b])
        expect(
          (await fetch(`${node.base}${SESSION_PREFIX}/sessions/${created.sessionToken}`, { headers: { origin: SHOP } }))
            .status,
        ).toBe(404);
      const replayed = await fetch(`${owner.base}${SESSION_PREFIX}/users/${created.userToken}/session/stop`);
      expect(replayed.status).toBe(200);
      expect(await replayed.json()).toEqual(stopped);
      expect(await enter(created.wssUrlOut, created.signature, 'recorder')).toBe(410);
      // What Redis holds: namespaced keys with TTLs, and no user token in clear.
      const { keys, withoutTtl } = await keysAllExpire(cluster.inspect);
      expect(withoutTtl).toEqual([]);
      expect(keys.some((key) => key.includes(created.userToken))).toBe(false);
      for (const key of keys.filter((k) => k.includes(':s002:')))
        expect((await cluster.inspect.get(key)) ?? '').not.toContain(created.userToken);
    } finally {
      await cluster.close();
    }
  });

  test('a stop on the node that holds the room also revokes on the other node (and a node that joins later)', async () => {
    const cluster = await twoNodes(OPTIONS);
    const { a, b } = cluster;
    try {
      const created = await (await fetch(`${a.base}${SESSION_PREFIX}/sessions`, { method: 'POST' })).json();
      // The room's node is the one its connection info names (the cluster's placement).
      const { owner, other } = placed([a, b], created.wssUrlOut);
      const customer = (await enter(created.wssUrlOut, created.signature, 'recorder')) as Peer;
      expect((await fetch(`${owner.base}${SESSION_PREFIX}/users/${created.userToken}/session/stop`)).status).toBe(200);
      expect((await customer.closed).code).toBe(CloseCode.SessionEnded);
      expect(await enter(on(other, created.wssUrlOut), created.signature, 'recorder')).toBe(410);
      const c = await relayFor({ ...OPTIONS, redis: cluster.redis.url, nodeId: 'node-c' });
      try {
        await ready(c);
        expect(await enter(on(c, created.wssUrlOut), created.signature, 'recorder')).toBe(410);
      } finally {
        await c.close();
      }
      // A bye on the room's node revokes everywhere too.
      const again = await (await fetch(`${a.base}${SESSION_PREFIX}/sessions`, { method: 'POST' })).json();
      const sharer = (await enter(again.wssUrlOut, again.signature, 'recorder')) as Peer;
      sharer.ws.send(encodeText({ type: 'bye', reason: 'done' }));
      await sharer.closed;
      await until(
        () => enter(on(placed([a, b], again.wssUrlOut).other, again.wssUrlOut), again.signature, 'recorder'),
        (r) => r === 410,
      );
    } finally {
      await cluster.close();
    }
  });

  test('a node that lost its subscription reads the revocations of its rooms again when it is back', async () => {
    const cluster = await twoNodes(OPTIONS);
    const { a } = cluster;
    try {
      const created = await (await fetch(`${a.base}${SESSION_PREFIX}/sessions`, { method: 'POST' })).json();
      const customer = (await enter(created.wssUrlOut, created.signature, 'recorder')) as Peer;
      // An ending whose message the room's node never hears: the revocation key alone, then its subscription drops.
      await cluster.inspect.set(`cobrowse:ended:session/${created.sessionToken}`, String(Date.now()), 'PX', 60_000);
      await cluster.inspect.call('CLIENT', 'KILL', 'TYPE', 'pubsub');
      expect((await customer.closed).code).toBe(CloseCode.SessionEnded);
      expect(await enter(created.wssUrlOut, created.signature, 'recorder')).toBe(410);
    } finally {
      await cluster.close();
    }
  });

  test('attacks from the other node: a wrong user token, a wrong agent token, an unknown session', async () => {
    const cluster = await twoNodes(OPTIONS);
    const { a, b } = cluster;
    try {
      const created = await (await fetch(`${a.base}${SESSION_PREFIX}/sessions`, { method: 'POST' })).json();
      const other = await (await fetch(`${a.base}${SESSION_PREFIX}/sessions`, { method: 'POST' })).json();
      const url = `${b.base}${SESSION_PREFIX}/sessions/${created.sessionToken}`;
      expect((await fetch(url, { headers: { origin: SHOP, 'x-cobrowse-user-token': 'wrong' } })).status).toBe(401);
      // Another session's user token does not own this one.
      expect((await fetch(url, { headers: { origin: SHOP, 'x-cobrowse-user-token': other.userToken } })).status).toBe(
        401,
      );
      expect((await fetch(url, { headers: { origin: SHOP, authorization: 'Bearer wrong' } })).status).toBe(401);
      expect((await fetch(`${b.base}${SESSION_PREFIX}/sessions/000000000`, { headers: { origin: SHOP } })).status).toBe(
        404,
      );
      expect((await fetch(`${b.base}${SESSION_PREFIX}/users/not-a-token/session/stop`)).status).toBe(404);
      // Stopping the other session leaves this one alone.
      expect((await fetch(`${b.base}${SESSION_PREFIX}/users/${other.userToken}/session/stop`)).status).toBe(200);
      const owner = await fetch(url, { headers: { origin: SHOP, 'x-cobrowse-user-token': created.userToken } });
      expect(owner.status).toBe(200);
      const customer = (await enter(created.wssUrlOut, created.signature, 'recorder')) as Peer;
      expect(customer.welcome().role).toBe('recorder');
      customer.ws.close();
    } finally {
      await cluster.close();
    }
  });
});

test.describe('shared state: Redis away', () => {
  test('doors answer 503 with Retry-After in their own words; sockets open stay; everything recovers by itself', async () => {
    const cluster = await twoNodes({ ...OPTIONS, passphraseAgentTokens: ['agent-004'] });
    const { a, b, redis } = cluster;
    try {
      const created = await (await fetch(`${a.base}${SESSION_PREFIX}/sessions`, { method: 'POST' })).json();
      const customer = (await enter(created.wssUrlOut, created.signature, 'recorder')) as Peer;
      await redis.kill();

      const started = Date.now();
      const create = await fetch(`${b.base}${SESSION_PREFIX}/sessions`, { method: 'POST' });
      expect(create.status).toBe(503);
      expect(Number(create.headers.get('retry-after'))).toBeGreaterThan(0);
      expect(await create.json()).toEqual({ error: expect.stringMatching(/try again/), status: 503 });
      const stop = await fetch(`${b.base}${SESSION_PREFIX}/users/${created.userToken}/session/stop`);
      expect(stop.status).toBe(503);
      const join = await fetch(`${a.base}/services/CoBrowse/v1/customer/session/join`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ passphrase: 'ABCDEF' }),
      });
      expect(join.status).toBe(503);
      expect(join.headers.get('retry-after')).toMatch(/^\d+$/);
      expect((await join.json()).error).toBe('UNAVAILABLE');
      // A new socket cannot be checked against the cluster's revocations: refused for now, retryable.
      expect(await enter(on(b, created.wssUrlOut), created.signature, 'recorder')).toBe(503);
      // Readiness gives one answer for the outage, whichever of the node's Redis links noticed it first.
      const readyz = await fetch(`${a.base}/readyz`);
      expect(readyz.status).toBe(503);
      expect(await readyz.json()).toEqual({ status: 'not ready', reason: 'redis unreachable' });
      // No hang: every answer came at once.
      expect(Date.now() - started).toBeLessThan(5_000);
      // The socket already open is untouched, and the nodes are alive.
      expect(customer.ws.readyState).toBe(customer.ws.OPEN);
      expect((await fetch(`${a.base}/healthz`)).status).toBe(200);

      await redis.restart();
      // Both nodes say when they take new rooms again: Redis reached, registered, held rooms re-claimed
      // (a couple of heartbeats after Redis is back, new rooms wait; doors answer 503 meanwhile).
      await Promise.all([ready(a), ready(b)]);
      // A fresh session works across the nodes again, endings included: a stop at the node without the room ends it.
      const fresh = await until(
        () => fetch(`${b.base}${SESSION_PREFIX}/sessions`, { method: 'POST' }).then((r) => r.json()),
        (body) => typeof body.wssUrlOut === 'string',
      );
      const sharer = (await enter(fresh.wssUrlOut, fresh.signature, 'recorder')) as Peer;
      const { other } = placed([a, b], fresh.wssUrlOut);
      await until(
        () => fetch(`${other.base}${SESSION_PREFIX}/users/${fresh.userToken}/session/stop`).then((r) => r.status),
        (s) => s === 200,
      );
      expect((await sharer.closed).code).toBe(CloseCode.SessionEnded);
      // The socket that was open through the outage is still open.
      expect(customer.ws.readyState).toBe(customer.ws.OPEN);
      customer.ws.close();
    } finally {
      await cluster.close();
    }
  });
});

test('each node holds two Redis connections: one for commands (the cluster and the state share it), one subscribed to endings', async () => {
  const cluster = await twoNodes(OPTIONS);
  try {
    const list = String(await cluster.inspect.call('CLIENT', 'LIST'));
    const clients = list.trim().split('\n');
    // Both nodes' connections, and the inspector's own.
    expect(clients).toHaveLength(2 * 2 + 1);
    expect(clients.filter((line) => / sub=1 /.test(line))).toHaveLength(2);
  } finally {
    await cluster.close();
  }
});
