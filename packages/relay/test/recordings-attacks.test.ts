import { expect, test } from '@playwright/test';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { get } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { deflateRawSync } from 'node:zlib';
import WebSocket from 'ws';
import { AgentOp, ControlState, encodeBinary, encodeText, signToken, type Role } from '@cobrowse/protocol';
import { relayFor } from './helpers.js';
import { Client } from './sockets.js';

/**
 * Attacks on session recordings (a review's findings): a deflate bomb planted by the customer's
 * page, an agent flooding the recording to switch the audit off, an endless recording, toggling
 * `recording` to make files, forged identities in what is stored.
 */

const SECRET = 'rec-secret-0123456789abcdef0123456789';
const OP = 'op-token-0123456789abcdef0123';
const AUTH = { authorization: `Bearer ${OP}` };
type Relay = Awaited<ReturnType<typeof relayFor>>;
const MiB = 1024 * 1024;

async function connect(relay: Relay, room: string, role: Role, user = `${role}-1`): Promise<Client> {
  const signature = await signToken(SECRET, { room, role, user, name: `${role} name` });
  const ws = new WebSocket(
    `${relay.base.replace('http', 'ws')}/ws/cobrowse/${room}?signature=${encodeURIComponent(signature)}`,
  );
  await new Promise((resolve, reject) => (ws.once('open', resolve), ws.once('error', reject)));
  const client = new Client(ws, 5000);
  ws.send(encodeText({ type: 'hello', v: 3, ...(role === 'recorder' ? { epoch: 'ep1' } : {}) }));
  await client.next((m) => m.startsWith('{"type":"welcome"'));
  return client;
}

const isRecording = (m: string) => m.startsWith('{"type":"recording"');

/** A batch frame: `z: 0` JSON, or `z: 1` a raw deflate of whatever bytes are given. */
function batch(seq: number, payload: Buffer, z: 0 | 1, snap = false): Uint8Array {
  return encodeBinary({ type: 'events', epoch: 'ep1', seq, z, ...(snap ? { snap: true } : {}) }, payload);
}

function snapshotJson(): Buffer {
  const t = Date.now();
  return Buffer.from(
    JSON.stringify([
      { type: 4, timestamp: t, data: { href: 'http://shop.test/', width: 800, height: 600 } },
      { type: 2, timestamp: t, data: { node: { type: 0, id: 1, childNodes: [] }, initialOffset: { top: 0, left: 0 } } },
    ]),
  );
}

/** One batch of one event whose data is a string of `bytes` bytes (compresses to almost nothing). */
function bigEvent(bytes: number): Buffer {
  return deflateRawSync(Buffer.from(`[{"type":3,"timestamp":${Date.now()},"data":"${'A'.repeat(bytes)}"}]`));
}

async function getJson(url: string): Promise<{ status: number; json: any; headers: Headers; length: number }> {
  const response = await fetch(url, { headers: AUTH });
  const text = await response.text();
  let json: any = text;
  try {
    json = JSON.parse(text);
  } catch {
    // not JSON
  }
  return { status: response.status, json, headers: response.headers, length: text.length };
}

async function until<T>(fn: () => Promise<T>, timeout = 5000): Promise<T> {
  const deadline = Date.now() + timeout;
  for (;;) {
    const value = await fn();
    if (value) return value;
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** The recordings listed for a room, once `ready` says so. */
async function listed(relay: Relay, room: string, ready: (r: any) => boolean = () => true): Promise<any[]> {
  return until(async () => {
    const { json } = await getJson(`${relay.base}/cobrowse/recordings`);
    const mine = (json as any[]).filter((r) => r.roomId === room);
    return mine.length > 0 && mine.every(ready) ? mine : undefined;
  });
}

/** Longest stall of this process's event loop (the relay runs in it) while `run` goes on. */
async function longestStall(run: () => Promise<void>): Promise<number> {
  let last = Date.now();
  let worst = 0;
  const timer = setInterval(() => {
    const now = Date.now();
    worst = Math.max(worst, now - last);
    last = now;
  }, 10);
  try {
    await run();
  } finally {
    clearInterval(timer);
  }
  return worst;
}

test.describe('recordings under attack', () => {
  test('a deflate bomb and huge batches in a recording: /events stays bounded, flagged, never a 500 nor a stalled relay', async () => {
    test.setTimeout(90_000);
    const dir = await mkdtemp(join(tmpdir(), 'cobrowse-rec-'));
    const warnings: string[] = [];
    const onWarning = (warning: Error) => warnings.push(warning.name);
    process.on('warning', onWarning);
    const relay = await relayFor({
      secret: SECRET,
      operatorToken: OP,
      recordings: { dir, maxEventsBytes: 80 * MiB },
    });
    try {
      const customer = await connect(relay, 'bomb', 'recorder');
      await customer.next(isRecording);
      let seq = 0;
      customer.ws.send(batch(++seq, snapshotJson(), 0, true));
      // 30 honest batches of 1 MiB, then two bombs (64 MiB each from 65 KB), then three 12 MiB batches.
      const mib = bigEvent(MiB);
      for (let i = 0; i < 30; i++) customer.ws.send(batch(++seq, mib, 1));
      const bomb = deflateRawSync(Buffer.alloc(64 * MiB, 0x41), { level: 9 });
      expect(bomb.length).toBeLessThan(70 * 1024);
      customer.ws.send(batch(++seq, bomb, 1));
      customer.ws.send(batch(++seq, bomb, 1));
      const twelve = bigEvent(12 * MiB);
      for (let i = 0; i < 3; i++) customer.ws.send(batch(++seq, twelve, 1));
      customer.ws.send(encodeText({ type: 'bye', reason: 'done' }));
      await customer.closed;
      const [rec] = await listed(relay, 'bomb', (r) => r.endedAt !== undefined);

      // The whole stream: 200, valid JSON, ends with the flag once the budget is spent; the relay never stalls.
      let whole: Awaited<ReturnType<typeof getJson>> | undefined;
      const stall = await longestStall(async () => {
        whole = await getJson(`${relay.base}/cobrowse/recordings/${rec.id}/events`);
      });
      expect(whole!.status).toBe(200);
      const events = whole!.json as any[];
      expect(Array.isArray(events)).toBe(true);
      expect(whole!.length).toBeLessThan(80 * MiB + MiB);
      expect(events.filter((e) => e.type === 3 && e.data.length === MiB)).toHaveLength(30);
      expect(events.filter((e) => e.type === 3 && e.data.length === 12 * MiB)).toHaveLength(1);
      const flag = events[events.length - 1];
      expect(flag.data).toMatchObject({ tag: 'cobrowse.truncated' });
      expect(flag.data.payload.reason).toMatch(/maxEventsBytes/);
      expect(stall).toBeLessThan(1500);

      // Pages: bounded in bytes whatever the limit, the Link leads on, together they are the whole.
      const first = await getJson(`${relay.base}/cobrowse/recordings/${rec.id}/events?limit=50000`);
      expect(first.status).toBe(200);
      expect(first.length).toBeLessThanOrEqual(32 * MiB + 64 * 1024);
      const link = first.headers.get('link');
      expect(link).toMatch(/rel="next"/);
      const second = await getJson(`${relay.base}${/<([^>]+)>/.exec(link!)![1]}`);
      expect(second.status).toBe(200);
      expect(second.headers.get('x-cobrowse-truncated')).toBe('1');
      expect([...first.json, ...second.json].length).toBe(events.length);

      // A slow reader of the stream: backpressure waits leave no listeners behind.
      await new Promise<void>((resolve, reject) => {
        get(`${relay.base}/cobrowse/recordings/${rec.id}/events`, { headers: AUTH }, (res) => {
          res.pause();
          const step = setInterval(() => (res.read(), res.read()), 2);
          res.on('end', () => (clearInterval(step), resolve()));
          res.on('readable', () => undefined);
          res.on('error', reject);
        }).on('error', reject);
      });
      expect(warnings).not.toContain('MaxListenersExceededWarning');
    } finally {
      process.off('warning', onWarning);
      await relay.close();
      await rm(dir, { recursive: true, force: true });
    }
  });

  test('nested adds in a recording: /events serves them expanded for plain rrweb; malformed ones and depth bombs are left out, never a 500', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'cobrowse-rec-'));
    const relay = await relayFor({ secret: SECRET, operatorToken: OP, recordings: { dir } });
    try {
      const customer = await connect(relay, 'nested', 'recorder');
      await customer.next(isRecording);
      const t = Date.now();
      const el = (id: number, childNodes: unknown[] = []) => ({
        type: 2,
        tagName: 'p',
        attributes: {},
        id,
        childNodes,
      });
      const nested = (adds: unknown[]) => ({
        type: 3,
        timestamp: t,
        data: { source: 0, texts: [], attributes: [], removes: [], adds, cobrowseNested: 1 },
      });
      let deep: unknown = el(5000);
      for (let i = 1; i <= 1_500; i++) deep = el(5000 + i, [deep]);
      const events = [
        nested([{ parentId: 1, nextId: null, node: el(10, [el(11), el(12, [el(13)])]) }]),
        nested([{ parentId: 1, nextId: null, node: el(20, [el(21), el(21)]) }]), // an id twice
        nested([{ parentId: 1, nextId: null, node: deep }]), // 1,500 levels: past the replayer's 1,000
      ];
      customer.ws.send(batch(1, snapshotJson(), 0, true));
      customer.ws.send(batch(2, Buffer.from(JSON.stringify(events)), 0));
      customer.ws.send(encodeText({ type: 'bye', reason: 'done' }));
      await customer.closed;
      const [rec] = await listed(relay, 'nested', (r) => r.endedAt !== undefined);

      const { status, json } = await getJson(`${relay.base}/cobrowse/recordings/${rec.id}/events`);
      expect(status).toBe(200);
      const mutations = (json as any[]).filter((e) => e.type === 3 && e.data?.source === 0);
      // Only the well-formed one, as rrweb's own recorder writes adds: one per node, parents first.
      expect(mutations).toHaveLength(1);
      expect(mutations[0].data.cobrowseNested).toBeUndefined();
      expect(mutations[0].data.adds.map((a: any) => [a.parentId, a.node.id, a.node.childNodes.length])).toEqual([
        [1, 10, 0],
        [10, 11, 0],
        [10, 12, 0],
        [12, 13, 0],
      ]);
      // The relay is still serving.
      expect((await getJson(`${relay.base}/cobrowse/recordings`)).status).toBe(200);
    } finally {
      await relay.close();
      await rm(dir, { recursive: true, force: true });
    }
  });

  test('policy "all": an agent flooding large frames keeps the recording on; only accepted agent frames are kept, with the relay\'s identity', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'cobrowse-rec-'));
    const relay = await relayFor({ secret: SECRET, operatorToken: OP, recordings: { dir, maxBytes: 2 * MiB } });
    try {
      const customer = await connect(relay, 'flood', 'recorder');
      await customer.next(isRecording);
      customer.ws.send(batch(1, snapshotJson(), 0, true));
      const agent = await connect(relay, 'flood', 'replayer', 'agent-x');
      await agent.next(isRecording);
      // 200 frames of 60 KB each (12 MB): input without control, pointer moves and snapshot requests, padded
      // (within the agent's rate of 120 actions a second, burst 240).
      const pad = 'P'.repeat(60 * 1024);
      for (let i = 0; i < 50; i++) {
        agent.ws.send(`${encodeText({ type: 'agent', op: AgentOp.Click, id: 1 })}\n${pad}`);
        agent.ws.send(`${encodeText({ type: 'agent', op: AgentOp.PointerMove, x: i, y: 1 })}\n${pad}`);
        agent.ws.send(`${encodeText({ type: 'request-snapshot', reason: 'x'.repeat(200) })}\n${pad}`);
        agent.ws.send(
          `${encodeText({ type: 'agent', op: AgentOp.Highlight, x: 1, y: 1, w: 1, h: 1, from: 'forged', user: 'ceo', name: 'The CEO' } as never)}\n${pad}`,
        );
      }
      agent.ws.send(encodeText({ type: 'agent', op: AgentOp.ClearHighlights }));
      await customer.next((m) => m.includes(`"op":${AgentOp.ClearHighlights}`));
      // The customer's answers to control are kept too.
      agent.ws.send(encodeText({ type: 'agent', op: AgentOp.RequestControl }));
      const asked = JSON.parse(await customer.next((m) => m.includes(`"op":${AgentOp.RequestControl}`)));
      customer.ws.send(encodeText({ type: 'control', state: ControlState.Granted, agent: asked.from }));
      await agent.next((m) => m.includes('"state":"granted"'));
      // Input from the agent holding control is kept whole (a long value too).
      agent.ws.send(encodeText({ type: 'agent', op: AgentOp.SetValue, id: 5, value: 'v'.repeat(1000) }));
      await customer.next((m) => m.includes(`"op":${AgentOp.SetValue}`));
      customer.ws.send(encodeText({ type: 'refused', agent: asked.from, op: AgentOp.Click, id: 9, reason: 'masked' }));
      await agent.next((m) => m.includes('"refused"'));

      expect(customer.count((m) => isRecording(m) && m.includes('"on":false'))).toBe(0);
      const [live] = await listed(relay, 'flood');
      expect(live.truncated).toBeUndefined();
      expect(live.bytes).toBeLessThan(MiB);
      customer.ws.send(encodeText({ type: 'bye', reason: 'done' }));
      await customer.closed;
      const [rec] = await listed(relay, 'flood', (r) => r.endedAt !== undefined);
      expect(rec.truncated).toBeUndefined();

      const { json: events } = await getJson(`${relay.base}/cobrowse/recordings/${rec.id}/events`);
      const agents = events.filter((e: any) => e.data?.tag === 'cobrowse.agent').map((e: any) => e.data.payload);
      expect(agents.some((a: any) => a.message.op === AgentOp.Click)).toBe(false); // dropped by the relay: not kept
      expect(agents.some((a: any) => a.message.op === AgentOp.PointerMove)).toBe(true);
      expect(agents.filter((a: any) => a.message.type === 'request-snapshot').length).toBeLessThanOrEqual(2);
      for (const a of agents) {
        expect(a).toMatchObject({ user: 'agent-x', name: 'replayer name' });
        if (a.message.type === 'agent') expect(a.message).toMatchObject({ user: 'agent-x', name: 'replayer name' });
        expect(a.message.from).not.toBe('forged');
        expect(JSON.stringify(a).length).toBeLessThan(4096);
        expect(a.payload).toBeUndefined();
      }
      expect(agents.some((a: any) => a.message.op === AgentOp.Highlight)).toBe(true);
      expect(agents.find((a: any) => a.message.op === AgentOp.SetValue)?.message.value).toBe('v'.repeat(1000));
      const notes = events.filter((e: any) => e.data?.tag === 'cobrowse.note').map((e: any) => e.data.payload);
      expect(notes).toContainEqual(
        expect.objectContaining({ note: 'control', role: 'recorder', state: 'granted', agent: asked.from }),
      );
      expect(notes).toContainEqual(
        expect.objectContaining({ note: 'refused', op: AgentOp.Click, id: 9, reason: 'masked', agent: asked.from }),
      );
    } finally {
      await relay.close();
      await rm(dir, { recursive: true, force: true });
    }
  });

  test('past recordings.maxBytes a recording stops: everyone hears it is off, its summary says truncated, no new one starts in the room', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'cobrowse-rec-'));
    const logs: string[] = [];
    const relay = await relayFor({
      secret: SECRET,
      operatorToken: OP,
      log: (line) => logs.push(line),
      recordings: { dir, maxBytes: 256 * 1024 },
    });
    try {
      const customer = await connect(relay, 'big', 'recorder');
      await customer.next(isRecording);
      const agent = await connect(relay, 'big', 'replayer');
      await agent.next(isRecording);
      customer.ws.send(batch(1, snapshotJson(), 0, true));
      // Random bytes do not compress: 40 KB each, 600 KB in all.
      for (let seq = 2; seq < 17; seq++)
        customer.ws.send(batch(seq, Buffer.from(Array.from({ length: 40_000 }, () => (Math.random() * 256) | 0)), 1));
      for (const client of [customer, agent])
        expect(JSON.parse(await client.next((m) => isRecording(m) && m.includes('"on":false')))).toMatchObject({
          on: false,
          reason: 4,
        });
      const [rec] = await listed(relay, 'big', (r) => r.endedAt !== undefined);
      expect(rec.truncated).toBe(true);
      expect(rec.bytes).toBeLessThanOrEqual(256 * 1024 + 1024);
      expect(logs.some((l) => /stopped: .*maxBytes/.test(l))).toBe(true);
      // The session goes on; a new agent joining hears it is off and no second file starts.
      const late = await connect(relay, 'big', 'replayer', 'agent-late');
      expect(JSON.parse(await late.next(isRecording))).toMatchObject({ on: false, reason: 4 });
      expect((await readdir(dir)).filter((f) => f.endsWith('.cbrec'))).toHaveLength(1);
      const { status, json } = await getJson(`${relay.base}/cobrowse/recordings/${rec.id}/events`);
      expect(status).toBe(200);
      expect(Array.isArray(json)).toBe(true);
    } finally {
      await relay.close();
      await rm(dir, { recursive: true, force: true });
    }
  });

  test('past recordings.maxStoreBytes no new recording starts (logged, the room told); bad byte limits are refused', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'cobrowse-rec-'));
    const logs: string[] = [];
    const relay = await relayFor({
      secret: SECRET,
      operatorToken: OP,
      log: (line) => logs.push(line),
      recordings: { dir, maxStoreBytes: 1 },
    });
    try {
      const first = await connect(relay, 'store-1', 'recorder');
      expect(JSON.parse(await first.next(isRecording))).toMatchObject({ on: true });
      const second = await connect(relay, 'store-2', 'recorder');
      expect(JSON.parse(await second.next(isRecording))).toMatchObject({ on: false, reason: 4 });
      expect(logs.some((l) => /maxStoreBytes/.test(l))).toBe(true);
      const { json } = await getJson(`${relay.base}/cobrowse/recordings`);
      expect(json.map((r: any) => r.roomId)).toEqual(['store-1']);
    } finally {
      await relay.close();
      await rm(dir, { recursive: true, force: true });
    }
    for (const key of ['maxBytes', 'maxStoreBytes', 'maxEventsBytes'])
      for (const bad of [0, -1, 1.5, '10'])
        await expect(relayFor({ recordings: { dir: '/tmp/x', [key]: bad } as never })).rejects.toThrow(key);
  });

  test('policy "requested": 300 on/off toggles make one file and two messages; "on" later resumes the same recording, "off" is at once', async () => {
    test.setTimeout(30_000);
    const dir = await mkdtemp(join(tmpdir(), 'cobrowse-rec-'));
    const relay = await relayFor({ secret: SECRET, operatorToken: OP, recordings: { dir, policy: 'requested' } });
    try {
      const customer = await connect(relay, 'tog', 'recorder');
      customer.ws.send(batch(1, snapshotJson(), 0, true));
      const agent = await connect(relay, 'tog', 'replayer', 'agent-y');
      for (let i = 0; i < 300; i++) {
        agent.ws.send(encodeText({ type: 'recording', on: true }));
        agent.ws.send(encodeText({ type: 'recording', on: false }));
      }
      agent.ws.send(encodeText({ type: 'agent', op: AgentOp.ClearHighlights }));
      await customer.next((m) => m.includes(`"op":${AgentOp.ClearHighlights}`));
      // One on, one off (honoured at once); every later "on" within 5 s only hears the state.
      expect(customer.frames.filter(isRecording).map((m) => JSON.parse(m))).toMatchObject([
        { on: true, reason: 2 },
        { on: false, reason: 3 },
      ]);
      expect(agent.count(isRecording)).toBeLessThanOrEqual(6);
      await listed(relay, 'tog');
      expect((await readdir(dir)).filter((f) => f.endsWith('.cbrec'))).toHaveLength(1);
      customer.frames = [];

      // After the room's interval "on" resumes the same file; "off" pauses it again at once.
      await new Promise((r) => setTimeout(r, 5_100)); // the room's toggle interval: time is what is tested
      agent.ws.send(encodeText({ type: 'recording', on: true }));
      expect(JSON.parse(await customer.next(isRecording))).toMatchObject({ on: true, reason: 2 });
      await customer.next((m) => m.includes('request-snapshot'));
      customer.ws.send(batch(2, snapshotJson(), 0, true));
      await agent.next((m) => m.includes('"seq":2'));
      agent.ws.send(encodeText({ type: 'recording', on: false }));
      expect(JSON.parse(await customer.next(isRecording))).toMatchObject({ on: false, reason: 3 });
      expect((await readdir(dir)).filter((f) => f.endsWith('.cbrec'))).toHaveLength(1);
      const notes = async () => {
        const [rec] = await listed(relay, 'tog');
        const { json } = await getJson(`${relay.base}/cobrowse/recordings/${rec.id}/events`);
        return (json as any[]).filter((e) => e.data?.payload?.note === 'recording').map((e) => e.data.payload.on);
      };
      expect(await until(async () => ((await notes()).length === 4 ? notes() : undefined))).toEqual([
        true,
        false,
        true,
        false,
      ]);
    } finally {
      await relay.close();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
