// Row 10 of `npm run bench`: memory per room. A relay process of its own (ours, and the naive relay
// as a process of its own) gets N rooms, each with a recorder that sends a real session (the
// frames row 9 captured from session.html: its full snapshot and 30 s of events) and one replayer
// that catches up. The process's memory after a full GC (JS heap + external: Buffers), asked
// through node's inspector before and after, gives what a room keeps; RSS is reported alongside.
import { join } from 'node:path';
import { WebSocket } from 'ws';
import { REPO, spawnServer, startRelay } from '../../test-support/processes.mjs';

const sleep = (ms) => new Promise((done) => setTimeout(done, ms));
/** Node's inspector on a free loopback port: the bench asks the relays for their memory after a full GC. */
const INSPECT = '--inspect=127.0.0.1:0';

/**
 * The process's memory after a full garbage collection, through its inspector (the relays under
 * test run with `--inspect=127.0.0.1:0`): process.memoryUsage(), bytes.
 */
async function memoryAfterGc(inspectorUrl) {
  const ws = await open(inspectorUrl);
  let id = 0;
  const pending = new Map();
  ws.on('message', (data) => {
    const message = JSON.parse(data.toString());
    pending.get(message.id)?.(message);
    pending.delete(message.id);
  });
  const call = (method, params = {}) =>
    new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`inspector ${method}: no answer`)), 15_000);
      pending.set(++id, (message) => {
        clearTimeout(timer);
        if (message.error) reject(new Error(`inspector ${method}: ${message.error.message}`));
        else resolve(message.result);
      });
      ws.send(JSON.stringify({ id, method, params }));
    });
  try {
    await call('HeapProfiler.collectGarbage');
    await sleep(200);
    await call('HeapProfiler.collectGarbage');
    const { result } = await call('Runtime.evaluate', {
      expression: 'JSON.stringify(process.memoryUsage())',
      returnByValue: true,
    });
    return JSON.parse(result.value);
  } finally {
    ws.terminate();
  }
}

/** The inspector's WebSocket URL from a process's output ("Debugger listening on ws://…"). */
async function inspectorUrl(output) {
  for (let i = 0; i < 100; i++) {
    const match = /Debugger listening on (ws:\/\/\S+)/.exec(output());
    if (match) return match[1];
    await sleep(50);
  }
  throw new Error(`no inspector URL in the process output:\n${output()}`);
}

function startNaiveProcess() {
  return spawnServer('naive relay', [INSPECT, join(REPO, 'bench/lib/naive-relay.mjs')], /^listening on (ws:\/\/\S+)/m);
}

/** Opens a WebSocket; resolves once open. `onMessage(data, isBinary)` sees every message. */
function open(url, onMessage) {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { perMessageDeflate: false });
    const timer = setTimeout(() => {
      ws.terminate();
      reject(new Error(`no connection to ${url} within 15 s`));
    }, 15_000);
    ws.on('message', (data, isBinary) => onMessage?.(data, isBinary));
    ws.once('open', () => {
      clearTimeout(timer);
      resolve(ws);
    });
    ws.once('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
  });
}

/** Resolves when `check()` is true (polled every 20 ms); rejects after `ms`. */
async function until(check, ms, what) {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`${what}: not within ${ms} ms`);
    await sleep(20);
  }
}

async function connectionInfo(base, roomId, role) {
  const res = await fetch(`${base}/service-cloud/rest/webadapter/v1/connectionInfo/getConnectionInfo`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'ccmessaging-token': 'dev' },
    body: JSON.stringify({ roomId, userId: `${roomId}-${role}`, userName: role, role }),
    signal: AbortSignal.timeout(15_000),
  });
  const body = await res.json();
  if (body.retCode !== '0') throw new Error(`getConnectionInfo(${role}) → ${res.status} ${JSON.stringify(body)}`);
  return body.data;
}

/** Our frames with this room's epoch in the header; the payload bytes are the captured ones. */
function withEpoch(frames, epoch) {
  return frames
    .map((frame) => {
      const bytes = typeof frame === 'string' ? Buffer.from(frame) : frame;
      const nl = bytes.indexOf(0x0a);
      const header = JSON.parse(bytes.subarray(0, nl === -1 ? bytes.length : nl).toString());
      if (header.type !== 'events') return null;
      header.epoch = epoch;
      const out = Buffer.concat([
        Buffer.from(JSON.stringify(header)),
        nl === -1 ? Buffer.alloc(0) : bytes.subarray(nl),
      ]);
      return typeof frame === 'string' ? out.toString() : out;
    })
    .filter(Boolean);
}

async function ourRoom(base, id, frames, sockets) {
  const epoch = `mem${id}`.padEnd(12, 'x');
  const recorderInfo = await connectionInfo(base, id, 'recorder');
  let welcomed = false;
  const recorder = await open(
    `${recorderInfo.wssUrlOut}?role=recorder&signature=${encodeURIComponent(recorderInfo.signature)}`,
    (data) => {
      if (data.toString('latin1', 0, 17).startsWith('{"type":"welcome"')) welcomed = true;
    },
  );
  sockets.push(recorder);
  recorder.send(JSON.stringify({ type: 'hello', v: 1, epoch }));
  await until(() => welcomed, 15_000, `${id} recorder welcome`);
  const mine = withEpoch(frames, epoch);
  for (const frame of mine) recorder.send(frame, { binary: typeof frame !== 'string' });
  const replayerInfo = await connectionInfo(base, id, 'replayer');
  let events = 0;
  const replayer = await open(
    `${replayerInfo.wssUrl}?role=replayer&signature=${encodeURIComponent(replayerInfo.signature)}`,
    (data) => {
      if (data.toString('latin1', 0, 16).startsWith('{"type":"events"')) events++;
    },
  );
  sockets.push(replayer);
  replayer.send(JSON.stringify({ type: 'hello', v: 1 }));
  await until(() => events >= mine.length, 20_000, `${id} replayer catch-up (${events}/${mine.length})`);
  return mine.reduce((sum, f) => sum + f.length, 0);
}

async function naiveRoom(url, id, frames, sockets) {
  const recorder = await open(`${url}?room=${id}`);
  sockets.push(recorder);
  for (const frame of frames) recorder.send(frame, { binary: typeof frame !== 'string' });
  // The naive relay caches the last Meta + FullSnapshot and sends those two to a late joiner.
  await sleep(50);
  let received = 0;
  const replayer = await open(`${url}?room=${id}`, () => received++);
  sockets.push(replayer);
  await until(() => received >= 2, 20_000, `${id} naive replayer snapshot`);
  return frames.reduce((sum, f) => sum + (typeof f === 'string' ? Buffer.byteLength(f) : f.length), 0);
}

/** Opens `count` rooms `parallel` at a time. */
async function openRooms(count, parallel, makeRoom) {
  let next = 0;
  let bytes = 0;
  const worker = async () => {
    while (next < count) {
      const sent = await makeRoom(next++);
      bytes += sent;
    }
  };
  await Promise.all(Array.from({ length: parallel }, worker));
  return bytes;
}

const MiB = (bytes) => Math.round((bytes / 2 ** 20) * 10) / 10;
const KiB = (bytes) => Math.round((bytes / 1024) * 10) / 10;

async function measure(side, { rooms, warmupRooms, parallel }, frames, log) {
  const sockets = [];
  const server = side === 'ours' ? await startRelay(['--dev'], { nodeArgs: [INSPECT] }) : await startNaiveProcess();
  const prefix = `mem-${process.pid}-${side}`;
  const makeRoom =
    side === 'ours'
      ? (i) => ourRoom(server.url, `${prefix}-${i}`, frames, sockets)
      : (i) => naiveRoom(server.url, `${prefix}-${i}`, frames, sockets);
  try {
    const inspector = await inspectorUrl(server.output);
    // Warm-up rooms load the code paths; then the baseline, after a full GC.
    await openRooms(warmupRooms, parallel, (i) => makeRoom(`w${i}`));
    await sleep(500);
    const before = await memoryAfterGc(inspector);
    const started = Date.now();
    const sentBytes = await openRooms(rooms, parallel, makeRoom);
    const setupMs = Date.now() - started;
    await sleep(1000);
    const after = await memoryAfterGc(inspector);
    const status =
      side === 'ours'
        ? await (await fetch(`${server.url}/cobrowse/status`, { headers: { authorization: 'Bearer dev' } })).json()
        : null;
    // Retained per room: JS heap + memory outside it (Buffers: the cached frames, socket buffers).
    const retained = (m) => m.heapUsed + m.external;
    log(
      `row 10, ${side}: ${rooms} rooms in ${(setupMs / 1000).toFixed(1)} s; heap+external ${MiB(retained(before))} → ${MiB(retained(after))} MiB, RSS ${MiB(before.rss)} → ${MiB(after.rss)} MiB`,
    );
    return {
      rooms,
      warmupRooms,
      framesPerRoom: frames.length,
      sentBytesPerRoom: Math.round(sentBytes / rooms),
      before: { rssMiB: MiB(before.rss), heapUsedMiB: MiB(before.heapUsed), externalMiB: MiB(before.external) },
      after: { rssMiB: MiB(after.rss), heapUsedMiB: MiB(after.heapUsed), externalMiB: MiB(after.external) },
      kibPerRoom: KiB((retained(after) - retained(before)) / rooms),
      heapKibPerRoom: KiB((after.heapUsed - before.heapUsed) / rooms),
      externalKibPerRoom: KiB((after.external - before.external) / rooms),
      rssKibPerRoom: KiB((after.rss - before.rss) / rooms),
      cachedKibPerRoom: status ? KiB(status.cachedBytes / status.rooms) : null,
      status,
      setupMs,
    };
  } finally {
    for (const ws of sockets) ws.terminate();
    await server.stop();
  }
}

/** `captured` = {ours: frames, naive: frames} of one session (row 9). */
export async function relayMemoryScenario(h, cfg, captured) {
  const ours = await measure('ours', cfg, captured.ours, h.log);
  const naive = await measure('naive', cfg, captured.naive, h.log);
  return {
    ours,
    naive,
    // What bounds a room's catch-up cache in our relay (relay defaults, packages/relay/src/options.ts).
    cacheBound:
      'per room: cacheBytes 2 MiB (then a checkout is asked for at most every 10 s; dropped past 2×); per node: cacheBudgetBytes 64 MiB (rooms over their share ask for a checkout; dropped past 1.25×); recorder checkouts every 10 min (checkoutEveryMs)',
  };
}
