import { expect, test } from '@playwright/test';
import { mkdtemp, readFile, readdir, rm, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { deflateRawSync } from 'node:zlib';
import WebSocket from 'ws';
import { encodeBinary, encodeText, signToken, type Role } from '@cobrowse/protocol';
import { HistoryCompressor, utf8 } from '@cobrowse/protocol/compress';
import { relayFor } from './helpers.js';
import { Client } from './sockets.js';
import { LocalDirStore, type RecordingMeta, type RecordingStore } from '../src/recordings/store.js';
import { sweepOnce } from '../src/recordings/retention.js';

const SECRET = 'rec-secret-0123456789abcdef0123456789';
const OP = 'op-token-0123456789abcdef0123';
const AUTH = { authorization: `Bearer ${OP}` };
type Relay = Awaited<ReturnType<typeof relayFor>>;
/** The customer's clock is five minutes behind the relay's. */
const SKEW = -5 * 60_000;

async function connect(relay: Relay, room: string, role: Role, user = `${role}-1`): Promise<Client> {
  const signature = await signToken(SECRET, { room, role, user, name: `${role} name` });
  const ws = new WebSocket(
    `${relay.base.replace('http', 'ws')}/ws/cobrowse/${room}?signature=${encodeURIComponent(signature)}`,
  );
  await new Promise((resolve, reject) => (ws.once('open', resolve), ws.once('error', reject)));
  const client = new Client(ws);
  ws.send(encodeText({ type: 'hello', v: 2, ...(role === 'recorder' ? { epoch: 'ep1' } : {}) }));
  await client.next((m) => m.startsWith('{"type":"welcome"'));
  return client;
}

/** A customer page's batches, compressed as the recorder does (`z: 2` history per snapshot, `z: 1` alone). */
class Page {
  private readonly history = new HistoryCompressor();
  seq = 0;
  constructor(
    private readonly client: Client,
    readonly epoch = 'ep1',
  ) {}
  private send(events: object[], snap: boolean, z: 1 | 2): void {
    if (snap) this.history.reset();
    const json = utf8(JSON.stringify(events));
    const payload = z === 2 ? this.history.compress(json) : deflateRawSync(json);
    const header = { type: 'events', epoch: this.epoch, seq: ++this.seq, z, ...(snap ? { snap: true } : {}) } as const;
    this.client.ws.send(encodeBinary(header, payload));
  }
  snapshot(text: string): void {
    const t = Date.now() + SKEW;
    this.send(
      [
        { type: 4, timestamp: t, data: { href: 'http://shop.test/', width: 800, height: 600 } },
        {
          type: 2,
          timestamp: t,
          data: {
            node: { type: 0, id: 1, childNodes: [{ type: 3, id: 2, textContent: text }] },
            initialOffset: { top: 0, left: 0 },
          },
        },
      ],
      true,
      2,
    );
  }
  change(text: string, z: 1 | 2 = 2): void {
    this.send(
      [
        {
          type: 3,
          timestamp: Date.now() + SKEW,
          data: { source: 0, texts: [{ id: 2, value: text }], attributes: [], removes: [], adds: [] },
        },
      ],
      false,
      z,
    );
  }
}

async function recordingsDir(): Promise<string> {
  return mkdtemp(join(tmpdir(), 'cobrowse-rec-'));
}

async function getJson(
  url: string,
  headers: Record<string, string> = AUTH,
): Promise<{ status: number; json: any; headers: Headers }> {
  const response = await fetch(url, { headers });
  const text = await response.text();
  let json: any = text;
  try {
    json = JSON.parse(text);
  } catch {
    // not JSON
  }
  return { status: response.status, json, headers: response.headers };
}

/** Waits until `fn` returns a truthy value. */
async function until<T>(fn: () => Promise<T>, timeout = 5000): Promise<T> {
  const deadline = Date.now() + timeout;
  for (;;) {
    const value = await fn();
    if (value) return value;
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** One whole session recorded: customer and agent, three batches, one agent frame, then the customer stops. */
async function recordSession(relay: Relay, room = 'room-1'): Promise<{ id: string; agent: Client; customer: Client }> {
  const customer = await connect(relay, room, 'recorder');
  const on = JSON.parse(await customer.next((m) => m.startsWith('{"type":"recording"')));
  expect(on).toMatchObject({ on: true, reason: 1 });
  const page = new Page(customer);
  page.snapshot('first');
  const agent = await connect(relay, room, 'replayer', 'agent-7');
  await agent.next((m) => m.startsWith('{"type":"recording"'));
  page.change('second');
  page.change('third', 1);
  agent.ws.send(encodeText({ type: 'request-snapshot', reason: 'agent looked' }));
  await customer.next((m) => m.includes('request-snapshot'));
  page.change('fourth');
  await agent.next((m) => m.includes('"seq":4'));
  customer.ws.send(encodeText({ type: 'bye', reason: 'done' }));
  await customer.closed;
  const list = await until(async () => {
    const { json } = await getJson(`${relay.base}/cobrowse/recordings`);
    return Array.isArray(json) && json.find((r: any) => r.roomId === room && r.endedAt) ? json : undefined;
  });
  return { id: list.find((r: any) => r.roomId === room).id, agent, customer };
}

test.describe('recordings', () => {
  test('a session is recorded whole: listed, and its events are rrweb events on the relay clock with agents and notes', async () => {
    const dir = await recordingsDir();
    const relay = await relayFor({ secret: SECRET, operatorToken: OP, recordings: { dir } });
    try {
      const before = Date.now();
      const { id } = await recordSession(relay);
      const { json: list } = await getJson(`${relay.base}/cobrowse/recordings`);
      expect(list).toHaveLength(1);
      expect(list[0]).toMatchObject({ id, roomId: 'room-1', dialect: null });
      expect(list[0].bytes).toBeGreaterThan(100);
      expect(list[0].durationMs).toBeGreaterThanOrEqual(0);
      expect(list[0].participants).toEqual(
        expect.arrayContaining([
          { role: 'recorder', userId: 'recorder-1', userName: 'recorder name' },
          { role: 'replayer', userId: 'agent-7', userName: 'replayer name' },
        ]),
      );
      expect((await getJson(`${relay.base}/cobrowse/recordings/${id}`)).json).toMatchObject({ id, roomId: 'room-1' });

      const { status, json: events, headers } = await getJson(`${relay.base}/cobrowse/recordings/${id}/events`);
      expect(status).toBe(200);
      expect(headers.get('content-type')).toContain('application/json');
      expect(events[0].type).toBe(4);
      expect(events[1].type).toBe(2);
      const texts = events.filter((e: any) => e.type === 3).map((e: any) => e.data.texts[0].value);
      expect(texts).toEqual(['second', 'third', 'fourth']);
      // One clock (the relay's): the customer's five-minute skew is gone, and time never goes back.
      for (const event of events) expect(Math.abs(event.timestamp - before)).toBeLessThan(10_000);
      for (let i = 1; i < events.length; i++)
        expect(events[i].timestamp).toBeGreaterThanOrEqual(events[i - 1].timestamp);
      const custom = events.filter((e: any) => e.type === 5).map((e: any) => e.data);
      expect(custom).toContainEqual({
        tag: 'cobrowse.agent',
        payload: expect.objectContaining({
          user: 'agent-7',
          message: { type: 'request-snapshot', reason: 'agent looked' },
        }),
      });
      expect(custom).toContainEqual({
        tag: 'cobrowse.note',
        payload: expect.objectContaining({ note: 'join', user: 'agent-7' }),
      });
      expect(custom.some((c: any) => c.tag === 'cobrowse.truncated')).toBe(false);
      // Files are the store's own: nothing else in the directory.
      expect((await readdir(dir)).sort()).toEqual([`${id}.cbrec`, `${id}.json`]);
    } finally {
      await relay.close();
      await rm(dir, { recursive: true, force: true });
    }
  });

  test('every endpoint refuses a missing (401) or wrong (403) credential, and hostile ids never reach the disk', async () => {
    const dir = await recordingsDir();
    await writeFile(join(dir, 'secret.json'), '{"roomId":"x"}');
    const relay = await relayFor({ secret: SECRET, operatorToken: OP, recordings: { dir: join(dir, 'recs') } });
    try {
      const { id } = await recordSession(relay);
      const paths = ['/cobrowse/recordings', `/cobrowse/recordings/${id}`, `/cobrowse/recordings/${id}/events`];
      for (const path of paths) {
        expect((await fetch(relay.base + path)).status).toBe(401);
        expect((await fetch(relay.base + path, { headers: { authorization: 'Bearer wrong' } })).status).toBe(403);
        expect((await fetch(relay.base + path, { headers: { authorization: 'Bearer dev' } })).status).toBe(403);
      }
      expect((await fetch(`${relay.base}/cobrowse/recordings/${id}`, { method: 'DELETE' })).status).toBe(401);
      expect(
        (
          await fetch(`${relay.base}/cobrowse/recordings/${id}`, {
            method: 'DELETE',
            headers: { authorization: 'Bearer x' },
          })
        ).status,
      ).toBe(403);
      // Still there after the refused deletes.
      expect((await getJson(`${relay.base}/cobrowse/recordings/${id}`)).status).toBe(200);

      for (const hostile of [
        '..%2F..%2Fsecret',
        '..%2Fsecret',
        '%2e%2e',
        '....',
        'a%00b',
        '..',
        '.',
        '%2Fetc%2Fpasswd',
        'x'.repeat(300),
      ]) {
        for (const suffix of ['', '/events']) {
          const res = await getJson(`${relay.base}/cobrowse/recordings/${hostile}${suffix}`);
          expect([400, 404]).toContain(res.status);
        }
        const del = await fetch(`${relay.base}/cobrowse/recordings/${hostile}`, { method: 'DELETE', headers: AUTH });
        expect([400, 404]).toContain(del.status);
      }
      expect(await readFile(join(dir, 'secret.json'), 'utf8')).toContain('roomId');
      expect((await getJson(`${relay.base}/cobrowse/recordings/unknown-recording-id`)).status).toBe(404);
      expect((await getJson(`${relay.base}/cobrowse/recordings/unknown-recording-id/events`)).status).toBe(404);
      expect(
        (await fetch(`${relay.base}/cobrowse/recordings/unknown-recording-id`, { method: 'DELETE', headers: AUTH }))
          .status,
      ).toBe(404);
    } finally {
      await relay.close();
      await rm(dir, { recursive: true, force: true });
    }
  });

  test('a truncated or corrupt file yields the events up to the damage and a flag, as valid JSON, never a 500', async () => {
    const dir = await recordingsDir();
    const relay = await relayFor({ secret: SECRET, operatorToken: OP, recordings: { dir } });
    try {
      const { id } = await recordSession(relay);
      const file = join(dir, `${id}.cbrec`);
      const whole = await readFile(file);
      const full = (await getJson(`${relay.base}/cobrowse/recordings/${id}/events`)).json;

      // Cut in the middle of the last records (what kill -9 mid-write leaves): a prefix of the events, flagged.
      await rm(join(dir, `${id}.json`));
      await truncate(file, whole.length - 30);
      const cut = await getJson(`${relay.base}/cobrowse/recordings/${id}/events`);
      expect(cut.status).toBe(200);
      const flag = cut.json[cut.json.length - 1];
      expect(flag).toMatchObject({ type: 5, data: { tag: 'cobrowse.truncated' } });
      expect(cut.json.length).toBeGreaterThan(2);
      expect(cut.json.slice(0, -1)).toEqual(full.slice(0, cut.json.length - 1));
      const meta = (await getJson(`${relay.base}/cobrowse/recordings/${id}`)).json;
      expect(meta).toMatchObject({ truncated: true });
      expect(meta.endedAt).toBeGreaterThanOrEqual(meta.startedAt);

      // A flipped byte in the middle: the events stop at that record.
      const corrupt = Buffer.from(whole);
      corrupt[Math.floor(whole.length / 2)]! ^= 0xff;
      await writeFile(file, corrupt);
      const bad = await getJson(`${relay.base}/cobrowse/recordings/${id}/events`);
      expect(bad.status).toBe(200);
      expect(bad.json[bad.json.length - 1].data.tag).toBe('cobrowse.truncated');
      expect(bad.json.length).toBeLessThan(full.length);

      // Garbage, an empty file, a huge declared length: still a JSON array with the flag.
      for (const content of [
        Buffer.from('not a recording at all'),
        Buffer.alloc(0),
        Buffer.concat([whole.subarray(0, 7), Buffer.from([0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0])]),
      ]) {
        await writeFile(file, content);
        const res = await getJson(`${relay.base}/cobrowse/recordings/${id}/events`);
        expect(res.status).toBe(200);
        expect(res.json).toEqual([
          expect.objectContaining({ type: 5, data: expect.objectContaining({ tag: 'cobrowse.truncated' }) }),
        ]);
        const paged = await getJson(`${relay.base}/cobrowse/recordings/${id}/events?limit=10`);
        expect(paged.status).toBe(200);
        expect(paged.headers.get('x-cobrowse-truncated')).toBe('1');
      }
    } finally {
      await relay.close();
      await rm(dir, { recursive: true, force: true });
    }
  });

  test('?limit= pages with Link rel="next" and the pages add up to the whole', async () => {
    const dir = await recordingsDir();
    const relay = await relayFor({ secret: SECRET, operatorToken: OP, recordings: { dir } });
    try {
      const { id } = await recordSession(relay);
      const full = (await getJson(`${relay.base}/cobrowse/recordings/${id}/events`)).json;
      const pages: any[] = [];
      let next: string | undefined = `/cobrowse/recordings/${id}/events?limit=3`;
      let count = 0;
      while (next) {
        const res = await getJson(relay.base + next);
        expect(res.status).toBe(200);
        expect(res.json.length).toBeLessThanOrEqual(3);
        pages.push(...res.json);
        const link = res.headers.get('link');
        next = link ? /^<([^>]+)>; rel="next"$/.exec(link)![1] : undefined;
        expect(++count).toBeLessThan(50);
      }
      expect(pages).toEqual(full);
      expect(count).toBe(Math.ceil(full.length / 3));
      for (const bad of ['limit=0', 'limit=-1', 'limit=abc', 'limit=1e9', 'from=3', 'limit=2&from=-4']) {
        expect((await getJson(`${relay.base}/cobrowse/recordings/${id}/events?${bad}`)).status).toBe(400);
      }
    } finally {
      await relay.close();
      await rm(dir, { recursive: true, force: true });
    }
  });

  test('DELETE removes a recording; retention deletes old ones at start and spares young and live ones', async () => {
    const dir = await recordingsDir();
    const relay = await relayFor({ secret: SECRET, operatorToken: OP, recordings: { dir, retentionDays: 7 } });
    let second: Relay | undefined;
    try {
      const { id } = await recordSession(relay);
      const { id: kept } = await recordSession(relay, 'room-2');
      const del = await fetch(`${relay.base}/cobrowse/recordings/${id}`, { method: 'DELETE', headers: AUTH });
      expect(del.status).toBe(204);
      expect((await getJson(`${relay.base}/cobrowse/recordings/${id}`)).status).toBe(404);
      expect((await getJson(`${relay.base}/cobrowse/recordings/${id}/events`)).status).toBe(404);
      expect(await readdir(dir)).not.toContain(`${id}.cbrec`);

      // Age the other one: ended ten days ago.
      const metaPath = join(dir, `${kept}.json`);
      const meta = JSON.parse(await readFile(metaPath, 'utf8'));
      await writeFile(metaPath, JSON.stringify({ ...meta, endedAt: Date.now() - 10 * 86_400_000 }));
      const store = new LocalDirStore(dir);
      expect(await sweepOnce(store, 30, () => false)).toEqual([]);
      expect(await sweepOnce(store, 7, () => true)).toEqual([]);
      // A relay starting with retention 7 days sweeps it at once.
      second = await relayFor({ secret: SECRET, operatorToken: OP, recordings: { dir, retentionDays: 7 } });
      await until(async () => !(await readdir(dir)).includes(`${kept}.cbrec`));
      expect((await getJson(`${second.base}/cobrowse/recordings`)).json).toEqual([]);
    } finally {
      await relay.close();
      await second?.close();
      await rm(dir, { recursive: true, force: true });
    }
  });

  test('CORS preflights from allowed agent-console origins pass with Authorization and DELETE; others are refused', async () => {
    const dir = await recordingsDir();
    const relay = await relayFor({
      secret: SECRET,
      operatorToken: OP,
      corsOrigins: ['https://console.test'],
      recordings: { dir },
    });
    try {
      const preflight = (origin: string, method: string) =>
        fetch(`${relay.base}/cobrowse/recordings/abcdefgh-1234`, {
          method: 'OPTIONS',
          headers: {
            origin,
            'access-control-request-method': method,
            'access-control-request-headers': 'authorization',
          },
        });
      for (const method of ['GET', 'DELETE']) {
        const ok = await preflight('https://console.test', method);
        expect(ok.status).toBe(204);
        expect(ok.headers.get('access-control-allow-origin')).toBe('https://console.test');
        expect(ok.headers.get('access-control-allow-methods')).toContain(method);
        expect(ok.headers.get('access-control-allow-headers')).toContain('authorization');
      }
      expect((await preflight('https://evil.test', 'GET')).status).toBe(403);
      const list = await fetch(`${relay.base}/cobrowse/recordings`, {
        headers: { ...AUTH, origin: 'https://console.test' },
      });
      expect(list.headers.get('access-control-allow-origin')).toBe('https://console.test');
    } finally {
      await relay.close();
      await rm(dir, { recursive: true, force: true });
    }
  });

  test('policy "requested": nothing is recorded until an agent asks; everyone is told; a customer cannot ask', async () => {
    const dir = await recordingsDir();
    const relay = await relayFor({ secret: SECRET, operatorToken: OP, recordings: { dir, policy: 'requested' } });
    try {
      const customer = await connect(relay, 'room-r', 'recorder');
      const page = new Page(customer);
      page.snapshot('before');
      const agent = await connect(relay, 'room-r', 'replayer');
      await new Promise((r) => setTimeout(r, 100));
      expect(customer.frames.some((f) => f.includes('"recording"'))).toBe(false);
      expect((await getJson(`${relay.base}/cobrowse/recordings`)).json).toEqual([]);

      agent.ws.send(encodeText({ type: 'recording', on: true }));
      expect(JSON.parse(await customer.next((m) => m.startsWith('{"type":"recording"')))).toMatchObject({
        on: true,
        reason: 2,
      });
      expect(JSON.parse(await agent.next((m) => m.startsWith('{"type":"recording"')))).toMatchObject({ on: true });
      // The relay asks the customer for a snapshot to start the recording from.
      await customer.next((m) => m.includes('request-snapshot'));
      page.snapshot('after');
      page.change('later');
      await agent.next((m) => m.includes('"seq":3'));
      const list = await until(async () =>
        (await getJson(`${relay.base}/cobrowse/recordings`)).json.find((r: any) => r.bytes > 300),
      );
      expect(list.roomId).toBe('room-r');

      // A customer sending "recording" is refused and closed.
      customer.ws.send(encodeText({ type: 'recording', on: false }));
      expect((await customer.closed).code).toBe(4003);
    } finally {
      await relay.close();
      await rm(dir, { recursive: true, force: true });
    }
  });

  test('without a directory nothing is recorded and bad recordings config is refused clearly', async () => {
    const relay = await relayFor({ secret: SECRET, operatorToken: OP });
    try {
      const customer = await connect(relay, 'room-off', 'recorder');
      const agent = await connect(relay, 'room-off', 'replayer');
      agent.ws.send(encodeText({ type: 'recording', on: true }));
      expect(JSON.parse(await agent.next((m) => m.startsWith('{"type":"recording"')))).toMatchObject({
        on: false,
        reason: 4,
      });
      expect(customer.frames.some((f) => f.includes('"recording"'))).toBe(false);
      expect((await getJson(`${relay.base}/cobrowse/recordings`)).json).toEqual([]);
    } finally {
      await relay.close();
    }
    await expect(relayFor({ recordings: { dir: '/tmp/x', policy: 'sometimes' as never } })).rejects.toThrow(/policy/);
    await expect(relayFor({ recordings: { policy: 'all' } })).rejects.toThrow(/dir/);
    await expect(relayFor({ recordings: { dir: '/tmp/x', retentionDays: -1 } })).rejects.toThrow(/retentionDays/);
  });

  test('a store of its own (object storage) works through the interface; a recording in progress reads unflagged; a failing store never stops the session, and the room hears the recording is off', async () => {
    const objects = new Map<string, Buffer>();
    const metas = new Map<string, RecordingMeta>();
    let failing = false;
    const store: RecordingStore = {
      async create(id) {
        objects.set(id, Buffer.alloc(0));
        return {
          async append(bytes) {
            if (failing) throw new Error('bucket unavailable');
            objects.set(id, Buffer.concat([objects.get(id)!, bytes]));
          },
          async close() {},
        };
      },
      async read(id) {
        const bytes = objects.get(id);
        // Served in small parts, as an object store's ranged reads would be.
        return bytes
          ? (async function* () {
              for (let i = 0; i < bytes.length; i += 100) yield bytes.subarray(i, i + 100);
            })()
          : undefined;
      },
      async writeMeta(id, meta) {
        metas.set(id, meta);
      },
      async readMeta(id) {
        return metas.get(id);
      },
      async list() {
        return [...objects].map(([id, b]) => ({ id, bytes: b.length, modifiedAt: Date.now() }));
      },
      async delete(id) {
        metas.delete(id);
        return objects.delete(id);
      },
    };
    const logs: string[] = [];
    const relay = await relayFor({
      secret: SECRET,
      operatorToken: OP,
      recordings: { store },
      log: (l) => logs.push(l),
    });
    try {
      const customer = await connect(relay, 'room-s', 'recorder');
      const page = new Page(customer);
      page.snapshot('live one');
      const agent = await connect(relay, 'room-s', 'replayer');
      page.change('still going');
      await agent.next((m) => m.includes('"seq":2'));
      const [item] = await until(async () => {
        const { json } = await getJson(`${relay.base}/cobrowse/recordings`);
        return json.length && json[0].bytes > 200 && [...objects.values()][0]!.length > 200 ? json : undefined;
      });
      expect(item.endedAt).toBeUndefined();
      const events = await until(async () => {
        const { json } = await getJson(`${relay.base}/cobrowse/recordings/${item.id}/events`);
        return json.some((e: any) => e.type === 3) ? json : undefined;
      });
      expect(events[1].type).toBe(2);
      expect(events.some((e: any) => e.data?.tag === 'cobrowse.truncated')).toBe(false);

      // The bucket fails: the recording stops (logged), the session does not.
      failing = true;
      page.change('after the failure');
      await agent.next((m) => m.includes('"seq":3'));
      await until(async () => logs.some((l) => /recording .* stopped: bucket unavailable/.test(l)));
      // Everyone hears it is off (the customer's indicator no longer says "recorded"); the summary says truncated.
      for (const client of [customer, agent])
        expect(
          JSON.parse(await client.next((m) => m.startsWith('{"type":"recording"') && m.includes('"on":false'))),
        ).toMatchObject({ on: false, reason: 4 });
      expect(await until(async () => metas.get(item.id)?.truncated)).toBe(true);
      page.change('and on');
      await agent.next((m) => m.includes('"seq":4'));
    } finally {
      await relay.close();
    }
  });
});
