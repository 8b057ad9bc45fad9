// One load-generator process of `node bench/load.mjs` (started with child_process.fork).
// It owns a share of the rooms: each room's recorder and its replayers live in this process, so a
// message's latency is receive − send on one clock (performance.timeOrigin + performance.now(); the
// send time travels in the payload).
//
// IPC from the parent: setup → ready | start | stop → stopped | drain → result | close → exit.
//
// Kept cheap: the same small WebSocket client drives both servers (bench/lib/load-wire.mjs), the
// payload's padding is built once, one setInterval per process sends whatever each room is due,
// and a received frame is read only as far as its seq and timestamp.
import { PerformanceObserver, performance } from 'node:perf_hooks';
import { randomBytes } from 'node:crypto';
import { openSocket, openSocketIo, openSocketIoOfficial, openSocketOfficial } from './load-wire.mjs';
import { Histogram } from './load-stats.mjs';

const now = () => performance.timeOrigin + performance.now();
const sleep = (ms) => new Promise((done) => setTimeout(done, ms));
const round3 = (x) => Math.round(x * 1000) / 1000;
/**
 * A recorder whose socket holds more than this, unread by the server (beyond the kernel's buffers),
 * skips its due messages (counted, not sent): this bounds the generator's memory when a server
 * cannot keep up, the way a page's recorder would hold back on a full socket.
 */
const MAX_QUEUED = 1024 * 1024;

let cfg;
const rooms = [];
let phase = 'idle'; // idle → setup → ready → running → stopped → closing
let startAt = 0;
let ticker;
let pad = '';
/** Padding of snapshot (snap) batches: as big as the others unless `snapshotBytes` says otherwise. */
let snapPad = '';
/** One entry per second of the run (by send time): messages, worst latency, count over 30 ms, worst tick gap. */
let perSecond = [];
/** Latency of the messages sent after the warm-up (the reported figures), and of every message. */
const hist = new Histogram();
const histAll = new Histogram();
let firstSendAt = 0;
let lastSendAt = 0;
let receivedTotal = 0;
const counters = {
  /** events received a second time by the same replayer (e.g. a resync from the relay's cache). */
  duplicates: 0,
  /** setup (snapshot) batches received again during the run. */
  setupReplays: 0,
  /** request-snapshot frames the relay sent recorders during the run (each answered with a snap batch). */
  snapshotRequests: 0,
  /** batches sent with snap: true during the run. */
  resnapshots: 0,
  /** error frames from the relay. */
  errorFrames: 0,
  /** recorder sockets on which the server agreed permessage-deflate (the relay inflates each message). */
  deflatedRecorders: 0,
  /** sockets that closed before the end. */
  unexpectedCloses: 0,
  /** room-ticks that found more than one tick's worth of messages due (the generator was late). */
  lateSends: 0,
  /** the largest number of messages one room had due in one tick. */
  maxBurst: 0,
  /** messages not sent because the recorder's socket already had over MAX_QUEUED bytes the server had not read. */
  skippedBackpressure: 0,
};
let firstError;
/** The generator's own hiccups (bounded lists): GC pauses over 20 ms, ticks over 100 ms apart. */
const stalls = { gc: [], ticks: [] };

new PerformanceObserver((list) => {
  for (const entry of list.getEntries()) {
    if (entry.duration > 20 && stalls.gc.length < 50 && phase === 'running') {
      stalls.gc.push({
        atS: round3((entry.startTime + performance.timeOrigin - startAt) / 1000),
        ms: round3(entry.duration),
      });
    }
  }
}).observe({ entryTypes: ['gc'] });

const send = (message) => process.connected && process.send(message);
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
      snapPad = 'x'.repeat(Math.max(0, (cfg.snapshotBytes ?? cfg.payloadBytes) - 28));
      phase = 'setup';
      await setup();
      phase = 'ready';
      return send({ type: 'ready', rooms: rooms.length });
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
// Frames: the relay's wire format (JSON header, newline, payload). For socket.io the same text is
// the one string argument of the event, JSON-encoded — built here directly, escapes and all (with
// `--client official` socket.io-client does the encoding).

function frame(room, seq, snap, t) {
  const ts = t.toFixed(3).padStart(17, '0');
  const fill = snap ? snapPad : pad;
  if (cfg.kind === 'relay' || cfg.client === 'official') {
    return `{"type":"events","epoch":"${room.epoch}","seq":${seq}${snap ? ',"snap":true' : ''}}\n[{"t":${ts}},"${fill}"]`;
  }
  return `"{\\"type\\":\\"events\\",\\"epoch\\":\\"${room.epoch}\\",\\"seq\\":${seq}${snap ? ',\\"snap\\":true' : ''}}\\n[{\\"t\\":${ts}},\\"${fill}\\"]"`;
}

/** seq and send time of a received events frame, from its first bytes (plain or JSON-escaped). */
function parseFrame(text) {
  const s = text.indexOf('seq');
  if (s < 0) return undefined;
  let i = s + 3;
  while (i < text.length && (text.charCodeAt(i) < 48 || text.charCodeAt(i) > 57)) i++;
  const seq = parseInt(text.slice(i, i + 16), 10);
  let j = text.indexOf('[{', i);
  if (j < 0) return undefined;
  while (j < text.length && (text.charCodeAt(j) < 48 || text.charCodeAt(j) > 57)) j++;
  const t = parseFloat(text.slice(j, j + 17));
  return Number.isFinite(seq) && Number.isFinite(t) ? { seq, t } : undefined;
}

function onEvents(room, rep, text, received) {
  const parsed = parseFrame(text);
  if (!parsed) return;
  receivedTotal++;
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
  const second = Math.floor((parsed.t - startAt) / 1000);
  if (second >= 0 && second < perSecond.length) {
    const p = perSecond[second];
    p.n++;
    if (latency > p.max) p.max = latency;
    if (latency > 30) p.over30++;
  }
}

/** Seqs seen by one replayer: a growable bitmap starting after the setup batches. */
function replayerState() {
  let base = 0;
  let bits = new Uint8Array(1024);
  const rep = {
    count: 0,
    setupGot: false,
    close: () => {},
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

/** Unexpected closes by role, close code and reason (bounded), with when the first happened. */
const closes = {};
const closeHandler = (role) => (wasOpen, code, reason) => {
  if (!wasOpen || phase === 'closing') return;
  counters.unexpectedCloses++;
  const key = `${role} ${code} ${String(reason ?? '').slice(0, 80)}`;
  if (closes[key] || Object.keys(closes).length < 20) {
    closes[key] ??= { count: 0, firstAtS: round3((now() - startAt) / 1000), phase };
    closes[key].count++;
  }
};

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
      rooms.push(cfg.kind === 'relay' ? await setupRelayRoom(id) : await setupSocketIoRoom(id));
    }
  };
  await Promise.all(Array.from({ length: Math.min(cfg.concurrency, ids.length) }, lane));
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

/** REST calls go round-robin over `cfg.urls` (a cluster's nodes, as a load balancer would), else to `cfg.url`. */
let nextUrl = 0;
function restUrl() {
  return cfg.urls?.length ? cfg.urls[nextUrl++ % cfg.urls.length] : cfg.url;
}

async function connectionInfo(roomId, role, userId) {
  const res = await fetch(`${restUrl()}/service-cloud/rest/webadapter/v1/connectionInfo/getConnectionInfo`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'ccmessaging-token': 'dev' },
    body: JSON.stringify({ roomId, userId, userName: userId, role }),
    signal: AbortSignal.timeout(10_000),
  });
  const body = await res.json();
  if (body.retCode !== '0') throw new Error(`getConnectionInfo(${role}) → ${res.status} ${JSON.stringify(body)}`);
  return body.data;
}

/** Opens a relay socket, sends hello and resolves on welcome; `onText` gets every later frame. */
async function openRelaySocket(info, role, hello, onText) {
  const onClose = closeHandler(role);
  let welcomed;
  const welcome = new Promise((resolve) => (welcomed = resolve));
  const open = cfg.client === 'official' ? openSocketOfficial : openSocket;
  const ws = await open(`${info.wssUrl}?role=${role}&signature=${encodeURIComponent(info.signature)}`, {
    now,
    deflate: cfg.deflate,
    onClose,
    onText(text, received) {
      if (text.startsWith('{"type":"welcome"')) return welcomed();
      if (text.startsWith('{"type":"error"')) {
        counters.errorFrames++;
        firstError ??= text;
      }
      onText(text, received);
    },
  });
  ws.sendText(JSON.stringify(hello));
  await withTimeout(welcome, 15_000, `${role} welcome`);
  return ws;
}

async function setupRelayRoom(id) {
  const room = {
    id,
    epoch: randomBytes(8).toString('hex'),
    seq: 0,
    setupSeq: 0,
    sentTimed: 0,
    pendingSnap: false,
    offset: 0,
    replayers: [],
  };
  const recorderInfo = await connectionInfo(id, 'recorder', `${id}-rec`);
  const recorder = await openRelaySocket(
    recorderInfo,
    'recorder',
    { type: 'hello', v: 1, epoch: room.epoch },
    (text) => {
      if (!text.startsWith('{"type":"request-snapshot"')) return;
      if (phase === 'running') {
        counters.snapshotRequests++;
        room.pendingSnap = true;
      } else if (phase === 'setup' || phase === 'ready') {
        // A replayer joined before the snapshot was cached: answer at once, as the recorder SDK does.
        room.seq++;
        recorder.sendText(frame(room, room.seq, true, now()));
      }
    },
  );
  room.recorder = {
    send: (text) => recorder.sendText(text),
    close: () => recorder.close(),
    queued: () => recorder.queued(),
  };
  if (recorder.deflate) counters.deflatedRecorders++;
  room.seq = 1;
  recorder.sendText(frame(room, 1, true, now()));
  for (let r = 0; r < cfg.replayers; r++) {
    const info = await connectionInfo(id, 'replayer', `${id}-rep${r}`);
    const rep = replayerState();
    const ws = await openRelaySocket(info, 'replayer', { type: 'hello', v: 1 }, (text, received) => {
      if (text.startsWith('{"type":"events"')) onEvents(room, rep, text, received);
    });
    rep.close = () => ws.close();
    room.replayers.push(rep);
  }
  return room;
}

async function setupSocketIoRoom(id) {
  const room = {
    id,
    epoch: randomBytes(8).toString('hex'),
    seq: 0,
    setupSeq: 0,
    sentTimed: 0,
    pendingSnap: false,
    offset: 0,
    replayers: [],
  };
  const open = cfg.client === 'official' ? openSocketIoOfficial : openSocketIo;
  const recorder = await open(
    cfg.url,
    { room: id, role: 'recorder' },
    { now, onClose: closeHandler('recorder'), deflate: cfg.deflate, onEvent: () => {} },
  );
  room.recorder = {
    send: (text) => recorder.emit(text),
    close: () => recorder.close(),
    queued: () => recorder.queued(),
  };
  room.seq = 1;
  // The snapshot with an acknowledgement, so it is cached before the replayers join; later messages without.
  await withTimeout(recorder.emitWithAck(frame(room, 1, true, now())), 15_000, 'socket.io snapshot ack');
  for (let r = 0; r < cfg.replayers; r++) {
    const rep = replayerState();
    const replayer = await open(
      cfg.url,
      { room: id, role: 'replayer' },
      {
        now,
        onClose: closeHandler('replayer'),
        deflate: cfg.deflate,
        onEvent: (text, received) => onEvents(room, rep, text, received),
      },
    );
    rep.close = () => replayer.close();
    room.replayers.push(rep);
  }
  return room;
}

// ---------------------------------------------------------------------------------------------
// Run: one timer; each tick every room sends what it is due by now (rate per second, rooms
// staggered evenly over one send interval so the server does not get every room at once).

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
    const gap = t - lastTick;
    lastTick = t;
    const sec = Math.floor((t - startAt) / 1000);
    if (sec >= 0 && sec < perSecond.length && gap > perSecond[sec].tickGapMax) perSecond[sec].tickGapMax = gap;
    if (gap > 100 && stalls.ticks.length < 50) {
      stalls.ticks.push({
        atS: round3((t - startAt) / 1000),
        gapMs: round3(gap),
        receivedSinceLastTick: receivedTotal - lastReceived,
      });
    }
    lastReceived = receivedTotal;
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
      if (room.recorder.queued() > MAX_QUEUED) {
        counters.skippedBackpressure += n;
        room.sentTimed += n;
        continue;
      }
      while (n-- > 0) {
        const snap = room.pendingSnap;
        room.pendingSnap = false;
        if (snap) counters.resnapshots++;
        room.seq++;
        room.sentTimed++;
        const sentAt = now();
        if (!firstSendAt) firstSendAt = sentAt;
        lastSendAt = sentAt;
        room.recorder.send(frame(room, room.seq, snap, sentAt));
      }
    }
  }, cfg.tickMs);
}

function stop() {
  clearInterval(ticker);
  phase = 'stopped';
  // Bytes written by recorders that the server had not read yet (queued in this process beyond
  // the kernel's socket buffers): a server that cannot keep up shows here.
  let queuedBytes = 0;
  let queuedSockets = 0;
  for (const room of rooms) {
    const q = room.recorder.queued();
    queuedBytes += q;
    if (q > 0) queuedSockets++;
  }
  send({
    type: 'stopped',
    sent: rooms.reduce((n, room) => n + (room.seq - room.setupSeq), 0),
    queuedBytes,
    queuedSockets,
  });
}

/** Waits for what is in flight: until every replayer has everything, or no progress for `idleMs`, or `timeoutMs`. */
async function drain(timeoutMs, idleMs = 5000) {
  const drainStart = Date.now();
  const until = drainStart + timeoutMs;
  const incomplete = () => rooms.some((room) => room.replayers.some((rep) => rep.count < room.seq - room.setupSeq));
  let lastCount = -1;
  let lastProgress = Date.now();
  while (incomplete() && Date.now() < until && Date.now() - lastProgress < idleMs) {
    await sleep(20);
    if (receivedTotal !== lastCount) {
      lastCount = receivedTotal;
      lastProgress = Date.now();
    }
  }
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
    closes,
    firstError,
    stalls,
    hist: hist.toJSON(),
    histAll: histAll.toJSON(),
    firstSendAt,
    lastSendAt,
    perSecond,
  };
}
