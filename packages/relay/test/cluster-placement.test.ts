import { expect, test } from '@playwright/test';
import { Redis } from 'ioredis';
import { startRedis } from '../../../test-support/redis.mjs';
import { Placement } from '../src/cluster/placement.js';
import { rendezvous } from '../src/cluster/rendezvous.js';
import { claimKey, nodeKey } from '../src/cluster/keys.js';
import {
  type Node,
  cecInfo,
  closeOf,
  connect,
  join,
  portOf,
  roomOwnedBy,
  startNode,
  startNodeProcess,
  waitForNodes,
} from './cluster-support.js';

test.describe.configure({ mode: 'serial' });

let redis: Awaited<ReturnType<typeof startRedis>>;
let nodes: Node[];

test.beforeAll(async () => {
  redis = await startRedis();
  nodes = [];
  for (const id of ['node-a', 'node-b', 'node-c']) nodes.push(await startNode(redis.url, id));
  await waitForNodes(nodes, 3);
});
test.afterAll(async () => {
  await Promise.all(nodes.map((node) => node.close()));
  await redis.stop();
});

test('weighted rendezvous: the same candidates give the same node; a loaded node gets fewer new rooms', () => {
  const even = [
    { id: 'a', load: 0 },
    { id: 'b', load: 0 },
    { id: 'c', load: 0 },
  ];
  const picks = new Map<string, number>();
  let orderMatters = 0;
  let movedNeedlessly = 0;
  for (let i = 0; i < 3000; i++) {
    const room = `room-${i}`;
    const pick = rendezvous(room, even)!.id;
    if (rendezvous(room, [...even].reverse())!.id !== pick) orderMatters++;
    picks.set(pick, (picks.get(pick) ?? 0) + 1);
    // Node b removed: only its rooms move.
    if (pick !== 'b' && rendezvous(room, [even[0]!, even[2]!])!.id !== pick) movedNeedlessly++;
  }
  expect(orderMatters).toBe(0);
  expect(movedNeedlessly).toBe(0);
  for (const id of ['a', 'b', 'c']) expect(picks.get(id)).toBeGreaterThan(800);
  const loaded = [
    { id: 'a', load: 400 },
    { id: 'b', load: 0 },
    { id: 'c', load: 0 },
  ];
  let toA = 0;
  for (let i = 0; i < 3000; i++) if (rendezvous(`room-${i}`, loaded)!.id === 'a') toA++;
  expect(toA).toBeLessThan(picks.get('a')! / 2);
  expect(rendezvous('x', [])).toBeUndefined();
});

test('every node names the same owner for a room, rooms spread over the nodes, and the answer is stable', async () => {
  const owners = new Set<number>();
  for (let i = 0; i < 12; i++) {
    const room = `stable-${i}`;
    const answers = [];
    for (const node of [nodes[0]!, nodes[2]!, nodes[1]!, nodes[0]!])
      answers.push((await cecInfo(node.base, room)).data);
    const first = answers[0]!;
    expect(nodes.map((n) => n.port)).toContain(portOf(first.wssUrl));
    for (const answer of answers) {
      expect(answer.wssUrl).toBe(first.wssUrl);
      expect(answer.wssUrlOut).toBe(first.wssUrlOut);
    }
    // Agents get the owner's internal URL, customers its public one.
    expect(first.wssUrl).toBe(`ws://127.0.0.1:${portOf(first.wssUrl)}/ws/cobrowse/${room}`);
    expect(first.wssUrlOut).toBe(`ws://localhost:${portOf(first.wssUrl)}/ws/cobrowse/${room}`);
    owners.add(portOf(first.wssUrl));
  }
  expect(owners.size).toBeGreaterThan(1);
});

test('a forged registration in Redis (a script URL, a wrong id, junk) is never handed out nor counted', async () => {
  const raw = new Redis(redis.url);
  const forged: Record<string, string> = {
    'evil-1': JSON.stringify({ id: 'evil-1', internalUrl: 'javascript:alert(1)', publicUrl: 'ws://x', rooms: 0 }),
    'evil-2': JSON.stringify({ id: 'someone-else', internalUrl: 'ws://evil', publicUrl: 'ws://evil', rooms: 0 }),
    'evil-3': '{not json',
    'evil-4': 'x'.repeat(10_000),
  };
  try {
    for (const [id, text] of Object.entries(forged)) {
      await raw.set(nodeKey(id), text, 'PX', 60_000);
      await raw.sadd('cobrowse:nodes', id);
    }
    await new Promise((r) => setTimeout(r, 700)); // two heartbeats: every node re-read the view
    await waitForNodes(nodes, 3);
    for (let i = 0; i < 10; i++) {
      const { data } = await cecInfo(nodes[i % 3]!.base, `forged-${i}`);
      expect(nodes.map((n) => n.port)).toContain(portOf(data.wssUrl));
    }
  } finally {
    await raw.del(...Object.keys(forged).map(nodeKey));
    raw.disconnect();
  }
});

test('nodes racing for new rooms never split one: concurrent requests at all nodes agree', async () => {
  for (let i = 0; i < 15; i++) {
    const room = `race-${i}`;
    const answers = await Promise.all(
      [...nodes, ...nodes].map((node, j) => cecInfo(node.base, room, j % 2 ? 'replayer' : 'recorder')),
    );
    const urls = new Set(answers.map((a) => portOf(a.data.wssUrl)));
    expect(urls.size).toBe(1);
  }
});

test('the claim script: two placements with different views racing for one room agree; a dead owner is replaced', async () => {
  const a = new Redis(redis.url);
  const b = new Redis(redis.url);
  try {
    await a.set(nodeKey('p-1'), '{}', 'PX', 5000);
    await a.set(nodeKey('p-2'), '{}', 'PX', 5000);
    const one = new Placement(a, 'p-1', 5000);
    const two = new Placement(b, 'p-2', 5000);
    for (let i = 0; i < 50; i++) {
      const room = `script-race-${i}`;
      // Each side sees only itself: without the script both would win.
      const [x, y] = await Promise.all([
        one.place(room, [{ id: 'p-1', load: 0 }]),
        two.place(room, [{ id: 'p-2', load: 0 }]),
      ]);
      expect(x).toBe(y);
    }
    // A candidate that is not registered is skipped for the next one.
    expect(
      await one.place('ghost-room', [
        { id: 'ghost', load: 0 },
        { id: 'p-2', load: 1_000_000 },
      ]),
    ).toBe('p-2');
    // The owner's registration goes: the room goes to a live candidate, atomically.
    await a.set(claimKey('dead-room'), 'gone-node', 'PX', 60_000);
    expect(await one.owner('dead-room')).toBeNull();
    const [x, y] = await Promise.all([one.claim('dead-room', 'p-1'), two.claim('dead-room', 'p-2')]);
    expect(x).toBe(y);
    expect(await a.get(claimKey('dead-room'))).toBe(x);
    // Renewal: an own claim stays; one a live node took is reported lost.
    await a.set(claimKey('taken-room'), 'p-2', 'PX', 60_000);
    const lost = await one.renew(['mine-room', 'taken-room']);
    expect([...lost]).toEqual([['taken-room', 'p-2']]);
    expect(await a.get(claimKey('mine-room'))).toBe('p-1');
    await one.release(['mine-room', 'taken-room']);
    expect(await a.get(claimKey('mine-room'))).toBeNull();
    expect(await a.get(claimKey('taken-room'))).toBe('p-2');
  } finally {
    a.disconnect();
    b.disconnect();
  }
});

test("a node killed outright: its rooms go to a live node on the next connection-info request, within the registration's TTL", async () => {
  const victim = await startNodeProcess(redis.url, 'node-k');
  try {
    await waitForNodes(nodes, 4);
    const room = await roomOwnedBy(nodes[0]!.base, victim.port, 'doomed');
    const { data } = await cecInfo(nodes[2]!.base, room);
    expect(portOf(data.wssUrl)).toBe(victim.port);
    const recorder = await join(data.wssUrl, data.signature, 'recorder');
    const closed = closeOf(recorder.ws);
    process.kill(victim.pid!, 'SIGKILL');
    expect((await closed).code).toBe(1006);
    const killedAt = Date.now();
    // Fresh connection info (what the SDKs fetch before each reconnect) names a live node soon.
    await expect
      .poll(async () => portOf((await cecInfo(nodes[0]!.base, room)).data.wssUrl), { timeout: 5000 })
      .not.toBe(victim.port);
    expect(Date.now() - killedAt).toBeLessThan(3000);
    const again = (await cecInfo(nodes[1]!.base, room)).data;
    const fromC = (await cecInfo(nodes[2]!.base, room)).data;
    expect(fromC.wssUrl).toBe(again.wssUrl);
    const resumed = await join(again.wssUrl, again.signature, 'recorder');
    expect(resumed.welcome.type).toBe('welcome');
    resumed.ws.close();
  } finally {
    await victim.stop();
  }
});

test("a socket at a node that does not own its room is closed with 4014 Moved and the owner's URL, after its token is verified", async () => {
  const [a, b] = nodes as [Node, Node];
  const room = await roomOwnedBy(a.base, b.port, 'moved');
  const agent = (await cecInfo(a.base, room, 'replayer')).data;
  const customer = (await cecInfo(a.base, room, 'recorder')).data;
  const query = (signature: string, role: string) => `?role=${role}&signature=${encodeURIComponent(signature)}`;
  // An agent at the internal address of A: sent to B's internal URL.
  let ws = await connect(`ws://127.0.0.1:${a.port}/ws/cobrowse/${room}${query(agent.signature, 'replayer')}`);
  expect(ws).toHaveProperty('readyState');
  expect(await closeOf(ws as never)).toEqual({ code: 4014, reason: `ws://127.0.0.1:${b.port}` });
  // A customer at A's public address: sent to B's public URL.
  ws = await connect(`ws://localhost:${a.port}/ws/cobrowse/${room}${query(customer.signature, 'recorder')}`);
  expect(await closeOf(ws as never)).toEqual({ code: 4014, reason: `ws://localhost:${b.port}` });
  // Following it (same path and query) reaches the room.
  const there = await join(`ws://localhost:${b.port}/ws/cobrowse/${room}`, customer.signature, 'recorder');
  expect(there.welcome.roomId).toBe(room);
  there.ws.close();

  // Unauthenticated sockets learn nothing: refused as on one node, never moved.
  const forged = customer.signature.slice(0, -4) + (customer.signature.endsWith('AAAA') ? 'BBBB' : 'AAAA');
  expect(await connect(`${a.ws}/ws/cobrowse/${room}${query(forged, 'recorder')}`)).toEqual({ refused: 401 });
  expect(await connect(`${a.ws}/ws/cobrowse/${room}?role=recorder`)).toEqual({ refused: 401 });
  expect(await connect(`${a.ws}/ws/cobrowse/other-${room}${query(customer.signature, 'recorder')}`)).toEqual({
    refused: 403,
  });
  expect(await connect(`${a.ws}/ws/cobrowse/${room}${query(customer.signature, 'replayer')}`)).toEqual({
    refused: 403,
  });
});
