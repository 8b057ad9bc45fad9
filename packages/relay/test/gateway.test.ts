import { expect, test } from '@playwright/test';
import WebSocket from 'ws';
import { CloseCode, encodeText, signToken, type Role } from '@cobrowse/protocol';
import { relayFor } from './helpers.js';
import { Client } from './sockets.js';

const SECRET = 'gw-secret-0123456789abcdef0123456789abcdef';
type Relay = Awaited<ReturnType<typeof relayFor>>;

function token(room: string, role: Role, ttl?: number) {
  return signToken(SECRET, { room, role, user: `${role}-1`, name: role }, ttl);
}

/** Opens a socket; resolves with it once open, or with the HTTP status of the refused upgrade. */
function open(relay: Relay, path: string): Promise<WebSocket | { refused: number; body: string }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(relay.base.replace('http', 'ws') + path);
    ws.once('open', () => resolve(ws));
    ws.once('unexpected-response', (_req, res) => {
      let body = '';
      res.on('data', (c) => (body += c));
      res.on('end', () => resolve({ refused: res.statusCode!, body }));
    });
    ws.once('error', reject);
  });
}

async function connect(relay: Relay, room: string, role: Role, hello: object = {}): Promise<Client> {
  const ws = await open(
    relay,
    `/ws/cobrowse/${room}?role=${role}&signature=${encodeURIComponent(await token(room, role))}`,
  );
  if (!(ws instanceof WebSocket)) throw new Error(`refused ${ws.refused}`);
  const client = new Client(ws);
  ws.send(encodeText({ type: 'hello', v: 1, ...(role === 'recorder' ? { epoch: 'ep1' } : {}), ...hello } as never));
  client.welcome = JSON.parse(await client.next((m) => m.startsWith('{"type":"welcome"')));
  return client;
}

const batch = (seq: number, snap = false, body = `[{"type":3,"n":${seq}}]`) =>
  encodeText({ type: 'events', epoch: 'ep1', seq, ...(snap ? { snap: true } : {}) }, body);

test.describe('socket gateway', () => {
  let relay: Relay;
  test.beforeAll(async () => {
    relay = await relayFor({ secret: SECRET, roomGraceMs: 100 });
  });
  test.afterAll(() => relay.close());

  test('refuses upgrades with a clear HTTP status before any socket opens', async () => {
    const good = encodeURIComponent(await token('r1', 'recorder'));
    const cases: [string, number, RegExp][] = [
      ['/ws/cobrowse/r1', 401, /missing signature/],
      ['/ws/cobrowse/r1?signature=abc.def', 400, /malformed/],
      [
        `/ws/cobrowse/r1?signature=${encodeURIComponent(await signToken('other', { room: 'r1', role: 'recorder', user: 'u', name: 'n' }))}`,
        401,
        /invalid signature/,
      ],
      [`/ws/cobrowse/r1?signature=${encodeURIComponent(await token('r1', 'recorder', -1))}`, 401, /expired/],
      [`/ws/cobrowse/r2?signature=${good}`, 403, /another room/],
      [`/ws/cobrowse/r1?role=replayer&signature=${good}`, 403, /another role/],
      [`/ws/cobrowse/r1?role=boss&signature=${good}`, 400, /role/],
      [`/ws/cobrowse/..%2F..%2Fetc?signature=${good}`, 400, /bad room id/],
      [`/elsewhere?signature=${good}`, 404, /no WebSocket endpoint/],
    ];
    for (const [path, status, body] of cases) {
      const result = await open(relay, path);
      expect(result, path).not.toBeInstanceOf(WebSocket);
      expect((result as { refused: number }).refused, path).toBe(status);
      expect((result as { body: string }).body, path).toMatch(body);
    }
  });

  test('hostile frames close the socket with a code and reason; the relay lives on', async () => {
    const cases: [string, (c: Client) => void, number][] = [
      ['bad JSON', (c) => c.ws.send('{"type":'), CloseCode.BadMessage],
      ['unknown type', (c) => c.ws.send('{"type":"nuke"}'), CloseCode.BadMessage],
      ['a replayer sending DOM events', (c) => c.ws.send(batch(1, true)), CloseCode.Forbidden],
      ['a second hello', (c) => c.ws.send(encodeText({ type: 'hello', v: 1 })), CloseCode.BadMessage],
    ];
    for (const [name, act, code] of cases) {
      const client = await connect(relay, `hostile-${code}-${name.length}`, 'replayer');
      act(client);
      const closed = await client.closed;
      expect(closed.code, name).toBe(code);
      expect(closed.reason.length, name).toBeGreaterThan(0);
    }
    // Wrong protocol version, and events before hello.
    const sig = encodeURIComponent(await token('ver', 'recorder'));
    const raw = (await open(relay, `/ws/cobrowse/ver?signature=${sig}`)) as WebSocket;
    const c1 = new Client(raw);
    raw.send(encodeText({ type: 'hello', v: 42, epoch: 'e' }));
    expect((await c1.closed).code).toBe(CloseCode.UnsupportedVersion);
    const raw2 = (await open(relay, `/ws/cobrowse/ver?signature=${sig}`)) as WebSocket;
    const c2 = new Client(raw2);
    raw2.send(batch(1, true));
    expect((await c2.closed).code).toBe(CloseCode.BadMessage);
    expect((await fetch(`${relay.base}/cobrowse/health`)).status).toBe(200);
  });

  test('fan-out to every replayer, and late joiners get the latest snapshot and what follows', async () => {
    const rec = await connect(relay, 'fan', 'recorder');
    const a = await connect(relay, 'fan', 'replayer');
    await rec.next((f) => f.includes('"request-snapshot"'));
    rec.ws.send(batch(1, true, '["first"]'));
    rec.ws.send(batch(2));
    await a.next((f) => f.includes('"seq":2'));
    rec.ws.send(batch(3, true, '["second"]'));
    rec.ws.send(batch(4));
    rec.ws.send(batch(5));
    await a.next((f) => f.includes('"seq":5'));
    const late = await connect(relay, 'fan', 'replayer');
    await late.next((f) => f.includes('"seq":5'));
    const seqs = [...late.events()].map((f) => JSON.parse(f.split('\n')[0]!).seq);
    expect(seqs).toEqual([3, 4]);
    // Resuming after seq 4 of this epoch sends only what followed.
    const resumed = await connect(relay, 'fan', 'replayer', { resume: { epoch: 'ep1', seq: 4 } });
    rec.ws.send(batch(6));
    await resumed.next((f) => f.includes('"seq":6'));
    expect(resumed.events().map((f) => JSON.parse(f.split('\n')[0]!).seq)).toEqual([5]);
    for (const c of [rec, a, late, resumed]) c.ws.close();
  });

  test('the recorder holding a room keeps it: its own reconnect resumes, another recording waits; a bye ends it', async () => {
    const first = await connect(relay, 'takeover', 'recorder');
    const agent = await connect(relay, 'takeover', 'replayer');
    // The same recording reconnecting replaces its old socket without ending anything…
    const again = await connect(relay, 'takeover', 'recorder');
    expect((await first.closed).code).toBe(CloseCode.GoingAway);
    // …while another recording cannot take the room from the connected customer (4003, retried by the SDK).
    const intruder = await open(
      relay,
      `/ws/cobrowse/takeover?role=recorder&signature=${encodeURIComponent(await token('takeover', 'recorder'))}`,
    );
    if (!(intruder instanceof WebSocket)) throw new Error('refused at upgrade');
    const refused = new Client(intruder);
    intruder.send(encodeText({ type: 'hello', v: 1, epoch: 'ep2' }));
    expect((await refused.closed).code).toBe(CloseCode.Forbidden);
    expect(again.ws.readyState).toBe(WebSocket.OPEN);
    again.ws.send(batch(1, true));
    await agent.next((f) => f.startsWith('{"type":"events"'));
    // Once the customer's page has gone, its next page (a new recording) carries on in the room.
    again.ws.close();
    await expect.poll(() => relay.rooms.get('takeover')?.recorder).toBeUndefined();
    const second = await connect(relay, 'takeover', 'recorder', { epoch: 'ep2' });
    second.ws.send(encodeText({ type: 'bye', reason: 'customer clicked stop' }));
    await agent.next((f) => f.includes('"type":"bye"'));
    expect((await agent.closed).code).toBe(CloseCode.SessionEnded);
    await expect.poll(() => relay.status().rooms).toBe(0);
  });

  test('an empty room is forgotten after the grace period', async () => {
    const before = relay.status().rooms;
    const agent = await connect(relay, 'grace', 'replayer');
    expect(relay.status().rooms).toBe(before + 1);
    agent.ws.close();
    await expect.poll(() => relay.status().rooms, { timeout: 2000 }).toBe(before);
  });
});

test.describe('resume', () => {
  test('the relay acknowledges batches, drops resent duplicates, and tells a returning recorder where it stands', async () => {
    const relay = await relayFor({ secret: SECRET });
    try {
      const rec = await connect(relay, 'resume', 'recorder');
      const agent = await connect(relay, 'resume', 'replayer');
      rec.ws.send(batch(1, true));
      rec.ws.send(batch(2));
      expect(JSON.parse(await rec.next((f) => f.startsWith('{"type":"ack"')))).toEqual({ type: 'ack', seq: 2 });
      rec.ws.close();
      const back = await connect(relay, 'resume', 'recorder');
      expect(back.welcome.seq).toBe(2);
      back.ws.send(batch(2)); // a resend of what had arrived
      back.ws.send(batch(3));
      await agent.next((f) => f.includes('"seq":3'));
      // 1 and 2 once each, then 3 (consumed above): the resent 2 was not forwarded again.
      expect(agent.events().map((f) => JSON.parse(f.split('\n')[0]!).seq)).toEqual([1, 2]);
      // Another recording of the room (the next page, once this one has gone) gets no seq: it starts from a snapshot.
      back.ws.close();
      await expect.poll(() => relay.rooms.get('resume')?.recorder).toBeUndefined();
      const other = await connect(relay, 'resume', 'recorder', { epoch: 'ep-other' });
      expect(other.welcome.seq).toBeUndefined();
      other.ws.close();
      back.ws.close();
      agent.ws.close();
    } finally {
      await relay.close();
    }
  });
});

test('the catch-up cache is bounded per room and per node; over it, the recorder is asked for a checkout', async () => {
  const relay = await relayFor({ secret: SECRET, cacheBytes: 64 * 1024, cacheBudgetBytes: 100 * 1024 });
  try {
    const rec = await connect(relay, 'budget', 'recorder');
    rec.ws.send(batch(1, true));
    const kb = 'x'.repeat(1024);
    for (let seq = 2; seq <= 80; seq++) rec.ws.send(batch(seq, false, `["${kb}"]`));
    await rec.next((f) => f.includes('"reason":"checkout"'));
    await expect.poll(() => relay.status().cachedBytes).toBeLessThanOrEqual(2 * 64 * 1024);
    // Two rooms together stay within ~1.25× the node budget.
    const other = await connect(relay, 'budget-2', 'recorder');
    other.ws.send(batch(1, true));
    for (let seq = 2; seq <= 80; seq++) other.ws.send(batch(seq, false, `["${kb}"]`));
    await other.next((f) => f.includes('"reason":"checkout"'));
    await new Promise((r) => setTimeout(r, 100));
    expect(relay.status().cachedBytes).toBeLessThanOrEqual(1.25 * 100 * 1024 + 2048);
    // The checkout resets the cache to the new snapshot.
    rec.ws.send(batch(81, true));
    await expect.poll(() => relay.status().cachedBytes).toBeLessThan(1.25 * 100 * 1024);
    rec.ws.close();
    other.ws.close();
  } finally {
    await relay.close();
  }
});
