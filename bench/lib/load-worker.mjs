// One load-generator process of `node bench/load.mjs` (started with child_process.fork).
// It owns a share of the rooms: each room's recorder and its replayers live in this process, so
// send and receive times come from the same clock (performance.timeOrigin + performance.now()).
//
// IPC from the parent:  setup → ready | start → (running) | stop → stopped | drain → result | close → exit.
// Kept cheap: payloads pre-built (only the timestamp and header change), one setInterval per
// process that sends whatever each room is due, no per-message allocation beyond the frame string.
import { PerformanceObserver, performance } from 'node:perf_hooks';
import { randomBytes } from 'node:crypto';
import WebSocket from 'ws';
import { io as ioClient } from 'socket.io-client';
import { Histogram } from './load-stats.mjs';

const now = () => performance.timeOrigin + performance.now();
const sleep = (ms) => new Promise((done) => setTimeout(done, ms));

let cfg;
let rooms = [];
let phase = 'idle'; // idle → setup → ready → running → stopped → closing
let startAt = 0;
let ticker;
let pad = '';
/** One entry per second of the run: { n, max, over30 }. */
let perSecond = [];
/** Latency of the messages sent after the warm-up (the reported figures), and of every message. */
const hist = new Histogram();
const histAll = new Histogram();
let firstSendAt = 0;
let lastSendAt = 0;
const counters = {
  /** events frames received a second time (e.g. a resync from the relay's cache). */
  duplicates: 0,
  /** events frames of the setup (snapshot) batches received again during the run. */
  setupReplays: 0,
  /** request-snapshot frames received by recorders during the run (answered with a snap batch). */
  snapshotRequests: 0,
  /** batches sent with snap: true during the run. */
  resnapshots: 0,
  /** sockets that closed or errored before the end. */
  unexpectedCloses: 0,
  socketErrors: 0,
  /** ticks that found a room more than one tick's worth of messages behind (the generator was late). */
  lateSends: 0,
  /** the largest number of messages one room had to send in one tick. */
  maxBurst: 0,
};

const send = (message) => process.connected && process.send(message);

/** The generator's own hiccups (bounded lists): GC pauses over 20 ms and ticks over 100 ms late. */
const stalls = { gc: [], ticks: [] };
let receivedTotal = 0;
new PerformanceObserver((list) => {
  for (const entry of list.getEntries()) {
    if (entry.duration > 20 && stalls.gc.length < 50 && phase === 'running') {
      stalls.gc.push({ atS: round3((entry.startTime + performance.timeOrigin - startAt) / 1000), ms: round3(entry.duration), kind: entry.detail?.kind });
    }
  }
}).observe({ entryTypes: ['gc'] });
const round3 = (x) => Math.round(x * 1000) / 1000;
process.on('disconnect', () => process.exit(0));
process.on('message', (message) => {
  handle(message).catch((error) => send({ type: 'error', message: error?.stack ?? String(error) }));
});

async function handle(message) {
  switch (message.cmd) {
    case 'setup':
      cfg = message;
      // payload = [{"t":<17 chars>},"<pad>"] → 28 bytes + pad
      pad = 'x'.repeat(Math.max(0, cfg.payloadBytes - 28));
      phase = 'setup';
      await setup();
      phase = 'ready';
      return send({ type: 'ready', rooms: rooms.length, sockets: rooms.length * (1 + cfg.replayers) });
    case 'start':
      return start(message.at);
    case 'stop':
      return stop();
    case 'drain':
      return send({ type: 'result', ...(await drain(message.timeoutMs)) });
    case 'close':
      phase = 'closing';
      for (const room of rooms) {
        room.recorder.close();
        for (const rep of room.replayers) rep.close();
      }
      await sleep(300);
      process.exit(0);
  }
}

// ---------------------------------------------------------------------------------------------
// Frames

function frame(room, seq, snap, t) {
  const header = snap
    ? `{"type":"events","epoch":"${room.epoch}","seq":${seq},"snap":true}`
    : `{"type":"events","epoch":"${room.epoch}","seq":${seq}}`;
  return `${header}\n[{"t":${t.toFixed(3).padStart(17, '0')}},"${pad}"]`;
}

/** A received events frame (text): its seq and send time, read without parsing the payload. */
function parseFrame(text) {
  const nl = text.indexOf('\n');
  if (nl < 0) return undefined;
  const s = text.indexOf('"seq":');
  if (s < 0 || s > nl) return undefined;
  return { seq: parseInt(text.slice(s + 6, s + 24), 10), t: parseFloat(text.slice(nl + 7, nl + 7 + 17)) };
}

function onEvents(room, rep, text) {
  const received = now();
  receivedTotal++;
  const parsed = parseFrame(text);
  if (!parsed) return;
  if (phase === 'setup' || phase === 'ready') {
    rep.setupGot = true;
    return;
  }
  if (parsed.seq <= room.setupSeq) {
    counters.setupReplays++;
    return;
  }
  if (rep.has(parsed.seq)) {
    counters.duplicates++;
    return;
  }
  rep.mark(parsed.seq);
  const latency = received - parsed.t;
  histAll.add(latency);
  if (parsed.t >= startAt + cfg.warmupMs) hist.add(latency);
  // Per-second worst case and count over 30 ms, by the second the message was sent in.
  const second = Math.max(0, Math.floor((parsed.t - startAt) / 1000));
  if (second < perSecond.length) {
    if (latency > perSecond[second].max) perSecond[second].max = latency;
    if (latency > 30) perSecond[second].over30++;
    perSecond[second].n++;
  }
}

/** Seqs seen by one replayer, as a growable bitmap starting after the setup batches. */
function seenSet() {
  let base = 0;
  let bits = new Uint8Array(1024);
  const rep = {
    count: 0,
    setupGot: false,
    rebase(seq) {
      base = seq;
    },
    has(seq) {
      const i = seq - base;
      return i < bits.length * 8 && (bits[i >> 3] & (1 << (i & 7))) !== 0;
    },
    mark(seq) {
      const i = seq - base;
      while (i >= bits.length * 8) {
        const grown = new Uint8Array(bits.length * 2);
        grown.set(bits);
        bits = grown;
      }
      bits[i >> 3] |= 1 << (i & 7);
      rep.count++;
    },
  };
  return rep;
}

// ---------------------------------------------------------------------------------------------
// Setup: per room, the recorder connects and sends its snapshot batch; then the replayers join
// late and must get that snapshot from the server's cache.

async function setup() {
  const ids = cfg.rooms;
  let next = 0;
  const deadline = Date.now() + cfg.setupTimeoutMs;
  const lane = async () => {
    while (next < ids.length) {
      if (Date.now() > deadline) throw new Error(`setup took longer than ${cfg.setupTimeoutMs} ms`);
      const id = ids[next++];
      const room = cfg.kind === 'relay' ? await setupRelayRoom(id) : await setupSocketIoRoom(id);
      rooms.push(room);
    }
  };
  await Promise.all(Array.from({ length: Math.min(cfg.concurrency, ids.length) }, lane));
  // Every replayer must have the snapshot (late-join catch-up) before the run starts.
  const until = Date.now() + 10_000;
  while (rooms.some((room) => room.replayers.some((rep) => !rep.setupGot)) && Date.now() < until) await sleep(20);
  const missing = rooms.reduce((n, room) => n + room.replayers.filter((rep) => !rep.setupGot).length, 0);
  if (missing) throw new Error(`${missing} replayers never received the snapshot from the server's cache`);
}

function withTimeout(promise, ms, what) {
  let timer;
  return Promise.race([
    promise.finally(() => clearTimeout(timer)),
    new Promise((_, reject) => (timer = setTimeout(() => reject(new Error(`${what}: no answer within ${ms} ms`)), ms))),
  ]);
}

async function connectionInfo(roomId, role, userId) {
  const res = await fetch(`${cfg.url}/service-cloud/rest/webadapter/v1/connectionInfo/getConnectionInfo`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'ccmessaging-token': 'dev' },
    body: JSON.stringify({ roomId, userId, userName: userId, role }),
    signal: AbortSignal.timeout(10_000),
  });
  const body = await res.json();
  if (body.retCode !== '0') throw new Error(`getConnectionInfo(${role}) → ${res.status} ${JSON.stringify(body)}`);
  return body.data;
}

/** Opens a relay socket, sends hello and resolves on welcome. `onText` gets every later text frame. */
async function openRelaySocket(info, role, hello, onText) {
  const ws = new WebSocket(`${info.wssUrl}?role=${role}&signature=${encodeURIComponent(info.signature)}`, { perMessageDeflate: false });
  let welcomed;
  const welcome = new Promise((resolve, reject) => {
    welcomed = resolve;
    ws.once('error', reject);
    ws.once('close', (code, reason) => reject(new Error(`${role} socket closed before welcome: ${code} ${reason}`)));
  });
  ws.on('message', (data, isBinary) => {
    if (isBinary) return;
    // Only the header and the payload's timestamp are read: the first 128 bytes.
    const text = data.toString('latin1', 0, Math.min(data.length, 128));
    if (text.startsWith('{"type":"welcome"')) return welcomed();
    onText(text);
  });
  ws.once('open', () => ws.send(JSON.stringify(hello)));
  await withTimeout(welcome, 15_000, `${role} welcome`);
  ws.removeAllListeners('error');
  ws.removeAllListeners('close');
  ws.on('error', () => counters.socketErrors++);
  ws.on('close', () => {
    if (phase !== 'closing') counters.unexpectedCloses++;
  });
  return ws;
}

async function setupRelayRoom(id) {
  const room = { id, epoch: randomBytes(8).toString('hex'), seq: 0, setupSeq: 0, sentTimed: 0, pendingSnap: false, offset: 0 };
  const recorderInfo = await connectionInfo(id, 'recorder', `${id}-rec`);
  const recorderWs = await openRelaySocket(recorderInfo, 'recorder', { type: 'hello', v: 1, epoch: room.epoch }, (text) => {
    if (!text.startsWith('{"type":"request-snapshot"')) return;
    if (phase === 'running') {
      counters.snapshotRequests++;
      room.pendingSnap = true;
    } else if (phase === 'setup' || phase === 'ready') {
      // A replayer joined before the snapshot was cached: answer at once, as the recorder SDK does.
      room.seq++;
      recorderWs.send(frame(room, room.seq, true, now()));
    }
  });
  room.recorder = { close: () => recorderWs.close(1000), send: (text) => recorderWs.send(text) };
  room.seq = 1;
  recorderWs.send(frame(room, 1, true, now()));
  room.replayers = [];
  for (let r = 0; r < cfg.replayers; r++) {
    const info = await connectionInfo(id, 'replayer', `${id}-rep${r}`);
    const rep = seenSet();
    const ws = await openRelaySocket(info, 'replayer', { type: 'hello', v: 1 }, (text) => {
      if (text.charCodeAt(10) === 0x76 /* {"type":"ev */ && text.startsWith('{"type":"events"')) onEvents(room, rep, text);
    });
    rep.close = () => ws.close(1000);
    room.replayers.push(rep);
  }
  return room;
}

function openSocketIo(id, role) {
  const socket = ioClient(cfg.url, {
    transports: ['websocket'],
    forceNew: true,
    reconnection: false,
    query: { room: id, role },
  });
  const connected = new Promise((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('connect_error', reject);
  });
  socket.on('disconnect', () => {
    if (phase !== 'closing') counters.unexpectedCloses++;
  });
  return { socket, connected: withTimeout(connected, 15_000, `socket.io ${role} connect`) };
}

async function setupSocketIoRoom(id) {
  const room = { id, epoch: randomBytes(8).toString('hex'), seq: 0, setupSeq: 0, sentTimed: 0, pendingSnap: false, offset: 0 };
  const recorder = openSocketIo(id, 'recorder');
  await recorder.connected;
  room.recorder = { close: () => recorder.socket.disconnect(), send: (text) => recorder.socket.emit('e', text) };
  room.seq = 1;
  // The snapshot with an ack, so it is cached before the replayers join; every later message without.
  await withTimeout(recorder.socket.emitWithAck('e', frame(room, 1, true, now())), 15_000, 'socket.io snapshot ack');
  room.replayers = [];
  for (let r = 0; r < cfg.replayers; r++) {
    const rep = seenSet();
    const { socket, connected } = openSocketIo(id, 'replayer');
    socket.on('e', (text) => onEvents(room, rep, text));
    await connected;
    rep.close = () => socket.disconnect();
    room.replayers.push(rep);
  }
  return room;
}

// ---------------------------------------------------------------------------------------------
// Run: one timer; each tick every room sends what it is due by now (rate per second, rooms
// staggered evenly across one send interval so the server does not see every room at once).

function start(at) {
  phase = 'running';
  startAt = at;
  perSecond = Array.from({ length: Math.ceil(cfg.durationS) + 30 }, () => ({ n: 0, max: 0, over30: 0, tickGapMax: 0 }));
  const interval = 1000 / cfg.rate;
  rooms.forEach((room, i) => {
    room.setupSeq = room.seq;
    room.offset = ((i * cfg.workers + cfg.index) / (rooms.length * cfg.workers)) * interval;
    for (const rep of room.replayers) rep.rebase(room.setupSeq + 1);
  });
  const perTick = Math.max(1, Math.ceil((cfg.tickMs * cfg.rate) / 1000));
  let lastTick = now();
  let lastReceived = receivedTotal;
  ticker = setInterval(() => {
    const t = now();
    // The generator's own stalls: the largest gap between ticks each second, and the long ones.
    const gap = t - lastTick;
    lastTick = t;
    if (gap > 100 && stalls.ticks.length < 50) {
      stalls.ticks.push({ atS: round3((t - startAt) / 1000), gapMs: round3(gap), receivedSinceLastTick: receivedTotal - lastReceived, heapMiB: Math.round(process.memoryUsage().heapUsed / 1048576) });
    }
    lastReceived = receivedTotal;
    const sec = Math.floor((t - startAt) / 1000);
    if (sec >= 0 && sec < perSecond.length && gap > perSecond[sec].tickGapMax) perSecond[sec].tickGapMax = gap;
    for (const room of rooms) {
      const elapsed = t - startAt - room.offset;
      if (elapsed < 0) continue;
      const due = Math.floor((elapsed * cfg.rate) / 1000) + 1;
      let n = due - room.sentTimed;
      if (n <= 0) continue;
      if (n > perTick) counters.lateSends++;
      if (n > counters.maxBurst) counters.maxBurst = n;
      // Bounded: never more than one second's worth in a tick (the rest is dropped from the schedule).
      if (n > cfg.rate) {
        room.sentTimed += n - cfg.rate;
        n = cfg.rate;
      }
      while (n-- > 0) {
        const snap = room.pendingSnap;
        room.pendingSnap = false;
        if (snap) counters.resnapshots++;
        room.seq++;
        room.sentTimed++;
        const t = now();
        if (!firstSendAt) firstSendAt = t;
        lastSendAt = t;
        room.recorder.send(frame(room, room.seq, snap, t));
      }
    }
  }, cfg.tickMs);
}

function stop() {
  clearInterval(ticker);
  phase = 'stopped';
  const sent = rooms.reduce((n, room) => n + (room.seq - room.setupSeq), 0);
  send({ type: 'stopped', sent });
}

async function drain(timeoutMs) {
  const until = Date.now() + timeoutMs;
  const incomplete = () => rooms.some((room) => room.replayers.some((rep) => rep.count < room.seq - room.setupSeq));
  const drainStart = Date.now();
  while (incomplete() && Date.now() < until) await sleep(20);
  let sent = 0;
  let expected = 0;
  let delivered = 0;
  let incompleteReplayers = 0;
  for (const room of rooms) {
    const n = room.seq - room.setupSeq;
    sent += n;
    for (const rep of room.replayers) {
      expected += n;
      delivered += Math.min(rep.count, n);
      if (rep.count < n) incompleteReplayers++;
    }
  }
  return {
    sent,
    expected,
    delivered,
    incompleteReplayers,
    drainMs: Date.now() - drainStart,
    counters,
    stalls,
    hist: hist.toJSON(),
    histAll: histAll.toJSON(),
    firstSendAt,
    lastSendAt,
    perSecond,
  };
}
