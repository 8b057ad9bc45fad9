import { expect, test } from '@playwright/test';
import WebSocket from 'ws';
import { CloseCode, encodeBinary, encodeText, signToken, type Role } from '@cobrowse/protocol';
import { relayFor } from './helpers.js';

const SECRET = 'asset-secret-0123456789abcdef0123456789abcdef';
type Relay = Awaited<ReturnType<typeof relayFor>>;

/** A socket to a room that has said hello; frames received are kept as Buffers. */
class Peer {
  frames: Buffer[] = [];
  welcome: any;
  readonly closed: Promise<number>;
  constructor(readonly ws: WebSocket) {
    ws.on('message', (data) => this.frames.push(Buffer.isBuffer(data) ? data : Buffer.from(data as ArrayBuffer)));
    this.closed = new Promise((resolve) => ws.once('close', (code) => resolve(code)));
  }
  /** Headers of what arrived, in order, without welcome/presence/ack noise. */
  headers(): any[] {
    return this.frames
      .map((f) => JSON.parse(f.subarray(0, f.indexOf(0x0a) === -1 ? f.length : f.indexOf(0x0a)).toString()))
      .filter((h) => h.type === 'asset' || h.type === 'events');
  }
  payloadOf(url: string): Buffer | undefined {
    const frame = this.frames.find((f) => f.subarray(0, f.indexOf(0x0a)).toString().includes(JSON.stringify(url)));
    return frame?.subarray(frame.indexOf(0x0a) + 1);
  }
  async until(predicate: () => boolean, timeout = 3000): Promise<void> {
    const deadline = Date.now() + timeout;
    while (!predicate()) {
      if (Date.now() > deadline) throw new Error(`timed out; have ${JSON.stringify(this.headers())}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }
}

async function connect(relay: Relay, room: string, role: Role, hello: object = {}): Promise<Peer> {
  const signature = encodeURIComponent(await signToken(SECRET, { room, role, user: `${role}-1`, name: role }));
  const ws = new WebSocket(
    `${relay.base.replace('http', 'ws')}/ws/cobrowse/${room}?role=${role}&signature=${signature}`,
  );
  await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject));
  const peer = new Peer(ws);
  ws.send(encodeText({ type: 'hello', v: 2, ...(role === 'recorder' ? { epoch: 'ep1' } : {}), ...hello } as never));
  await peer.until(() => peer.frames.some((f) => f.toString().startsWith('{"type":"welcome"')));
  peer.welcome = JSON.parse(peer.frames.find((f) => f.toString().startsWith('{"type":"welcome"'))!.toString());
  return peer;
}

const asset = (url: string, bytes: number | Uint8Array, mime = 'image/png') =>
  encodeBinary({ type: 'asset', url, mime }, typeof bytes === 'number' ? new Uint8Array(bytes).fill(7) : bytes);
const batch = (seq: number, snap = false, epoch = 'ep1') =>
  encodeText({ type: 'events', epoch, seq, ...(snap ? { snap: true } : {}) }, `[{"type":3,"n":${seq}}]`);
const URL_A = 'https://shop.example/private/a.png';
const URL_B = 'https://shop.example/private/b.woff2';

test.describe('assets at the relay', () => {
  let relay: Relay;
  test.beforeAll(async () => {
    relay = await relayFor({ secret: SECRET, roomGraceMs: 100 });
  });
  test.afterAll(() => relay.close());

  test('the welcome says the version spoken: 2 with a v2 peer, 1 with a v1 peer', async () => {
    const v2 = await connect(relay, 'ver-a', 'replayer');
    const v1 = await connect(relay, 'ver-a', 'replayer', { v: 1 });
    expect(v2.welcome.v).toBe(2);
    expect(v1.welcome.v).toBe(1);
    v1.ws.close();
    v2.ws.close();
  });

  test('only a recorder may send an asset, only as a binary frame with bytes and an image/font/css type', async () => {
    const cases: [Role, (ws: WebSocket) => void, number][] = [
      ['replayer', (ws) => ws.send(asset(URL_A, 10)), CloseCode.Forbidden],
      ['recorder', (ws) => ws.send(new TextDecoder().decode(asset(URL_A, 10))), CloseCode.BadMessage],
      [
        'recorder',
        (ws) => ws.send(encodeBinary({ type: 'asset', url: URL_A, mime: 'image/png' }, new Uint8Array(0))),
        CloseCode.BadMessage,
      ],
      ['recorder', (ws) => ws.send(asset(URL_A, 10, 'text/html')), CloseCode.BadMessage],
      ['recorder', (ws) => ws.send(asset(URL_A, 10, 'application/javascript')), CloseCode.BadMessage],
      ['recorder', (ws) => ws.send(asset('javascript:alert(1)', 10)), CloseCode.BadMessage],
    ];
    let n = 0;
    for (const [role, act, code] of cases) {
      const peer = await connect(relay, `refuse-${n++}`, role);
      act(peer.ws);
      expect(await peer.closed, `case ${n}`).toBe(code);
    }
    expect((await fetch(`${relay.base}/cobrowse/health`)).status).toBe(200);
  });

  test('forwarded to agents now, kept for agents later (before the events), once per URL, past snapshots and pages', async () => {
    const room = 'keep';
    const rec = await connect(relay, room, 'recorder');
    const agent = await connect(relay, room, 'replayer');
    const old = await connect(relay, room, 'replayer', { v: 1 });
    rec.ws.send(batch(1, true));
    const png = new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0a, 0x00, 0xff]);
    rec.ws.send(asset(URL_A, png));
    rec.ws.send(batch(2));
    rec.ws.send(asset(URL_A, 99)); // the same URL again (a resend): neither kept nor forwarded twice
    rec.ws.send(asset(URL_B, 20, 'font/woff2'));
    rec.ws.send(batch(3));
    await agent.until(() => agent.headers().length === 5);
    expect(agent.headers().map((h) => h.type + (h.seq ?? h.url))).toEqual([
      'events1',
      `asset${URL_A}`,
      'events2',
      `asset${URL_B}`,
      'events3',
    ]);
    expect([...agent.payloadOf(URL_A)!]).toEqual([...png]);
    // A v1 replayer (it would not understand them) gets the events only.
    await old.until(() => old.headers().length === 3);
    expect(old.headers().map((h) => h.type)).toEqual(['events', 'events', 'events']);
    // A new snapshot restarts the catch-up cache, not the assets.
    rec.ws.send(batch(4, true));
    await agent.until(() => agent.headers().length === 6);
    const late = await connect(relay, room, 'replayer');
    await late.until(() => late.headers().length === 3);
    expect(late.headers().map((h) => h.type + (h.seq ?? h.url))).toEqual([`asset${URL_A}`, `asset${URL_B}`, 'events4']);
    expect([...late.payloadOf(URL_A)!]).toEqual([...png]);
    // The share moves on to the next page (a new recording): the session's assets stay.
    rec.ws.close();
    await expect.poll(() => relay.rooms.get(room)?.recorder).toBeUndefined();
    const next = await connect(relay, room, 'recorder', { epoch: 'ep2' });
    next.ws.send(batch(1, true, 'ep2'));
    const later = await connect(relay, room, 'replayer');
    await later.until(() => later.headers().length === 3);
    expect(later.headers().map((h) => h.type + (h.seq ?? h.url))).toEqual([
      `asset${URL_A}`,
      `asset${URL_B}`,
      'events1',
    ]);
    for (const p of [rec, agent, old, late, next, later]) p.ws.close();
  });

  test('the store is keyed per recording: a later recording adds its own copy and never replaces an earlier one', async () => {
    const room = 'epochs';
    const rec = await connect(relay, room, 'recorder');
    rec.ws.send(batch(1, true));
    rec.ws.send(asset(URL_A, new Uint8Array([1, 1, 1])));
    rec.ws.send(asset(URL_A, new Uint8Array([6, 6, 6]))); // the same recording again: ignored
    const watcher = await connect(relay, room, 'replayer');
    await watcher.until(() => watcher.headers().some((h) => h.type === 'asset'));
    rec.ws.close();
    await expect.poll(() => relay.rooms.get(room)?.recorder).toBeUndefined();
    const next = await connect(relay, room, 'recorder', { epoch: 'ep2' });
    next.ws.send(batch(1, true, 'ep2'));
    next.ws.send(asset(URL_A, new Uint8Array([2, 2, 2])));
    next.ws.send(asset(URL_A, new Uint8Array([7, 7, 7]))); // ignored as well
    await watcher.until(() => watcher.headers().filter((h) => h.type === 'asset').length === 2);
    const late = await connect(relay, room, 'replayer');
    await late.until(() => late.headers().filter((h) => h.type === 'asset').length === 2);
    const payloads = late.frames
      .filter((f) => f.subarray(0, f.indexOf(0x0a)).toString().includes('"asset"'))
      .map((f) => [...f.subarray(f.indexOf(0x0a) + 1)]);
    expect(payloads).toEqual([
      [1, 1, 1],
      [2, 2, 2],
    ]);
    for (const p of [next, watcher, late]) p.ws.close();
  });

  test('the customer ending the session frees its assets', async () => {
    const before = relay.status().cachedBytes;
    const rec = await connect(relay, 'free', 'recorder');
    const agent = await connect(relay, 'free', 'replayer');
    rec.ws.send(batch(1, true));
    rec.ws.send(asset(URL_A, 50_000));
    await agent.until(() => agent.headers().length === 2);
    expect(relay.rooms.get('free')!.cachedBytes).toBeGreaterThanOrEqual(50_000);
    rec.ws.send(encodeText({ type: 'bye', reason: 'done' }));
    await agent.closed;
    expect(relay.rooms.get('free')).toBeUndefined();
    await expect.poll(() => relay.status().cachedBytes).toBeLessThanOrEqual(before);
  });
});

test('assets are bounded per room and per node: past that they are forwarded, not kept', async () => {
  const relay = await relayFor({ secret: SECRET, assetBytes: 100_000, assetBudgetBytes: 150_000 });
  try {
    const rec = await connect(relay, 'bound-1', 'recorder');
    const agent = await connect(relay, 'bound-1', 'replayer');
    rec.ws.send(batch(1, true));
    for (let i = 0; i < 4; i++) rec.ws.send(asset(`https://shop.example/big-${i}.png`, 40_000));
    await agent.until(() => agent.headers().filter((h) => h.type === 'asset').length === 4);
    // Two fit the room's 100 kB; the agent watching got all four; a late one gets the two kept.
    const late = await connect(relay, 'bound-1', 'replayer');
    await late.until(() => late.headers().some((h) => h.type === 'events'));
    expect(
      late
        .headers()
        .filter((h) => h.type === 'asset')
        .map((h) => h.url),
    ).toEqual(['https://shop.example/big-0.png', 'https://shop.example/big-1.png']);
    // Other rooms: all rooms' assets stay within the node's asset budget (150 kB).
    const more: Peer[] = [];
    for (let r = 2; r <= 4; r++) {
      const other = await connect(relay, `bound-${r}`, 'recorder');
      other.ws.send(batch(1, true));
      for (let i = 0; i < 2; i++) other.ws.send(asset(`https://shop.example/o${r}-${i}.png`, 40_000));
      more.push(other);
    }
    await new Promise((r) => setTimeout(r, 200));
    expect(relay.status().cachedBytes).toBeLessThanOrEqual(150_000 + 4 * 1024);
    for (const p of [rec, agent, late, ...more]) p.ws.close();
  } finally {
    await relay.close();
  }
});
