// `node bench/recordings.mjs`: what session recording costs the relay (issue 13), in one run.
//
// 1. Relay CPU and fan-out latency with recording off and on, same load, same run: the real relay
//    process (`--recordings DIR` for "on"), `--rooms` rooms × (1 recorder + 1 replayer), each
//    recorder sending `--rate` binary batches/s of ~1 KB (incompressible, as compressed batches
//    are). Fan-out latency is replayer receive − recorder send on this process's clock; relay CPU
//    is utime+stime from /proc/<pid>/stat over the run (% of one core). The two modes alternate
//    (`--rounds`, default 2 each) so a disturbance on the shared machine hits both.
// 2. Bytes on disk per minute of a busy page: a real customer page (bench/pages/session.html, the
//    scripted typical session of row 9 of `npm run bench`) shared for `--page-seconds` through a
//    relay that records, with an agent watching; the recording's file size, scaled to a minute.
//
//   node bench/recordings.mjs                      defaults: 200 rooms, 30 batches/s, 15 s per run, 30 s page
//   node bench/recordings.mjs --rooms 100 --duration 8 --page-seconds 15 --rounds 1
//
// Writes bench/results/recordings-latest.json.
import { mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { performance } from 'node:perf_hooks';
import WebSocket from 'ws';
import { encodeText, signToken } from '@cobrowse/protocol';
import { CLK_TCK, cpuTicks } from './lib/load-stats.mjs';
import { startRelay, startSite } from '../test-support/processes.mjs';
import { launchBrowser } from '../test-support/browser.mjs';
import { typicalSession } from './lib/session-bytes.mjs';
import { percentile } from './lib/stats.mjs';

const REPO = resolve(import.meta.dirname, '..');
const RESULTS = join(REPO, 'bench/results');
const SECRET = 'bench-recordings-secret';

const { values: args } = parseArgs({
  options: {
    rooms: { type: 'string', default: '200' },
    rate: { type: 'string', default: '30' },
    duration: { type: 'string', default: '15' },
    rounds: { type: 'string', default: '2' },
    'page-seconds': { type: 'string', default: '30' },
    help: { type: 'boolean' },
  },
});
if (args.help) {
  process.stdout.write(
    'node bench/recordings.mjs [--rooms 200] [--rate 30] [--duration 15] [--rounds 2] [--page-seconds 30]\n',
  );
  process.exit(0);
}
const ROOMS = Number(args.rooms);
const RATE = Number(args.rate);
const DURATION_MS = Number(args.duration) * 1000;
const ROUNDS = Number(args.rounds);
const PAGE_MS = Number(args['page-seconds']) * 1000;
const PAYLOAD_BYTES = 1024;
const WARMUP_MS = 2000;

const log = (line) => process.stderr.write(`recordings bench: ${line}\n`);
const sleep = (ms) => new Promise((done) => setTimeout(done, ms));
const now = () => performance.timeOrigin + performance.now();

function open(url) {
  return new Promise((resolveOpen, reject) => {
    const ws = new WebSocket(url, { perMessageDeflate: false });
    ws.binaryType = 'nodebuffer';
    ws.once('open', () => resolveOpen(ws));
    ws.once('error', reject);
  });
}

async function joinRoom(base, room, role, epoch) {
  const signature = await signToken(SECRET, { room, role, user: `${role}-${room}`, name: role });
  const ws = await open(`${base.replace('http', 'ws')}/ws/cobrowse/${room}?signature=${encodeURIComponent(signature)}`);
  ws.send(encodeText({ type: 'hello', v: 2, ...(epoch ? { epoch } : {}) }));
  await new Promise((done) => ws.once('message', done)); // welcome
  return ws;
}

/** A batch frame: header, newline, then the send time (float64) and random bytes. */
function batch(epoch, seq, snap, filler) {
  const header = Buffer.from(
    JSON.stringify({ type: 'events', epoch, seq, z: 1, ...(snap ? { snap: true } : {}) }) + '\n',
  );
  const frame = Buffer.allocUnsafe(header.length + PAYLOAD_BYTES);
  header.copy(frame, 0);
  filler.copy(frame, header.length + 8, 0, PAYLOAD_BYTES - 8);
  frame.writeDoubleLE(now(), header.length);
  return frame;
}

/** One load run against one relay process: returns CPU % of a core and fan-out latencies. */
async function loadRun(recording) {
  const dir = recording ? mkdtempSync(join(tmpdir(), 'cobrowse-rec-bench-')) : undefined;
  const relay = await startRelay(['--dev', '--secret', SECRET, ...(dir ? ['--recordings', dir] : [])]);
  const pid = relay.pid;
  const latencies = [];
  let received = 0;
  let sent = 0;
  const sockets = [];
  try {
    const filler = Buffer.alloc(PAYLOAD_BYTES);
    for (let i = 0; i < filler.length; i++) filler[i] = (Math.random() * 256) | 0;
    const rooms = [];
    for (let r = 0; r < ROOMS; r++) {
      const room = `bench-${recording ? 'on' : 'off'}-${r}`;
      const epoch = `ep${r}`;
      const recorder = await joinRoom(relay.url, room, 'recorder', epoch);
      recorder.on('message', (data) => {
        // Checkouts: answer a snapshot request with a snapshot batch, as the SDK does.
        if (data.toString('utf8', 0, 40).includes('request-snapshot')) rooms[r].snapNext = true;
      });
      const state = { recorder, epoch, seq: 1, snapNext: false };
      rooms.push(state);
      recorder.send(batch(epoch, 1, true, filler));
      const replayer = await joinRoom(relay.url, room, 'replayer');
      replayer.on('message', (data, binary) => {
        if (!binary) return;
        const nl = data.indexOf(0x0a);
        if (nl === -1 || data.length < nl + 9) return;
        received++;
        const sentAt = data.readDoubleLE(nl + 1);
        if (sentAt >= state.measureFrom) latencies.push(now() - sentAt);
      });
      sockets.push(recorder, replayer);
    }
    await sleep(500);
    const start = now();
    for (const state of rooms) state.measureFrom = start + WARMUP_MS;
    const ticks0 = cpuTicks(pid);
    const interval = 1000 / RATE;
    // Rooms staggered over one send interval; one timer.
    let tick = 0;
    await new Promise((done) => {
      const timer = setInterval(
        () => {
          const elapsed = now() - start;
          if (elapsed >= DURATION_MS) {
            clearInterval(timer);
            return done();
          }
          const due = Math.floor(elapsed / interval);
          for (; tick <= due; tick++) {
            for (const state of rooms) {
              if (state.recorder.bufferedAmount > 1 << 20) continue;
              state.seq++;
              state.recorder.send(batch(state.epoch, state.seq, state.snapNext, filler));
              state.snapNext = false;
              sent++;
            }
          }
        },
        Math.max(1, Math.floor(interval / 4)),
      );
    });
    const ticks1 = cpuTicks(pid);
    await sleep(1000);
    const cpuPct = ((ticks1 - ticks0) / CLK_TCK / ((now() - start - 1000) / 1000)) * 100;
    let diskBytes = 0;
    if (dir) for (const name of readdirSync(dir)) diskBytes += statSync(join(dir, name)).size;
    latencies.sort((a, b) => a - b);
    return {
      recording,
      cpuPctOfCore: Math.round(cpuPct * 10) / 10,
      p50Ms: Math.round(percentile(latencies, 0.5) * 100) / 100,
      p99Ms: Math.round(percentile(latencies, 0.99) * 100) / 100,
      sent,
      received,
      diskBytes,
    };
  } finally {
    for (const ws of sockets) ws.terminate();
    await relay.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  }
}

/** A real busy page shared for PAGE_MS through a recording relay: bytes of its recording per minute. */
async function busyPageBytes() {
  const dir = mkdtempSync(join(tmpdir(), 'cobrowse-rec-page-'));
  const relay = await startRelay(['--dev', '--recordings', dir]);
  const site = await startSite();
  const browser = await launchBrowser();
  try {
    const context = await browser.newContext({ viewport: { width: 1024, height: 768 } });
    const room = `busy-${Date.now().toString(36)}`;
    const url = (page) =>
      `${site.url}/bench/pages/${page}?${new URLSearchParams({ mode: 'ours', relay: relay.url, room })}`;
    const customer = await context.newPage();
    await customer.goto(url('session.html'));
    await customer.evaluate(() => window.bench.ready);
    for (let i = 0; i < 200 && (await customer.evaluate(() => window.bench.liveStatus())) !== 'live'; i++)
      await sleep(50);
    const agent = await context.newPage();
    await agent.goto(url('agent.html'));
    await agent.evaluate(() => window.bench.ready);
    const sizeNow = () =>
      readdirSync(dir)
        .filter((n) => n.endsWith('.cbrec'))
        .reduce((s, n) => s + statSync(join(dir, n)).size, 0);
    await sleep(1500); // the first snapshot is on disk
    const before = sizeNow();
    const started = Date.now();
    await typicalSession(customer, PAGE_MS);
    await sleep(1200); // the last records are flushed
    const windowMs = Date.now() - started - 1200;
    const after = sizeNow();
    await context.close();
    return {
      windowMs,
      snapshotAndStartBytes: before,
      sessionBytes: after - before,
      bytesPerMinute: Math.round(((after - before) * 60_000) / windowMs),
    };
  } finally {
    await browser.close();
    await site.close();
    await relay.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

const runs = [];
for (let round = 0; round < ROUNDS; round++) {
  for (const recording of round % 2 === 0 ? [false, true] : [true, false]) {
    log(
      `round ${round + 1}: ${ROOMS} rooms × ${RATE} batches/s, ${DURATION_MS / 1000} s, recording ${recording ? 'on' : 'off'}`,
    );
    runs.push(await loadRun(recording));
  }
}
const summarise = (recording) => {
  const mine = runs.filter((r) => r.recording === recording);
  const median = (key) => {
    const values = mine.map((r) => r[key]).sort((a, b) => a - b);
    const mid = values.length / 2;
    const value = values.length % 2 ? values[Math.floor(mid)] : (values[mid - 1] + values[mid]) / 2;
    return Math.round(value * 100) / 100;
  };
  return { cpuPctOfCore: median('cpuPctOfCore'), p50Ms: median('p50Ms'), p99Ms: median('p99Ms') };
};
const off = summarise(false);
const on = summarise(true);
log(`a busy page (bench/pages/session.html, scripted session) for ${PAGE_MS / 1000} s, recorded`);
const page = await busyPageBytes();

const result = {
  when: new Date().toISOString(),
  // The machine is shared: a load average well over its cores makes every figure here unreliable.
  loadAverage: loadavg().map((x) => Math.round(x * 10) / 10),
  load: { rooms: ROOMS, ratePerRoom: RATE, payloadBytes: PAYLOAD_BYTES, durationS: DURATION_MS / 1000, rounds: ROUNDS },
  off,
  on,
  cpuIncreasePct: Math.round(((on.cpuPctOfCore - off.cpuPctOfCore) / off.cpuPctOfCore) * 1000) / 10,
  runs,
  busyPage: page,
};
mkdirSync(RESULTS, { recursive: true });
writeFileSync(join(RESULTS, 'recordings-latest.json'), JSON.stringify(result, null, 2));

const mib = (n) => `${(n / 1048576).toFixed(2)} MiB`;
process.stdout.write(`
## Recording's cost (issue 13)

${ROOMS} rooms × (1 recorder + 1 replayer), ${RATE} batches/s of ~1 KB each, ${DURATION_MS / 1000} s per run, median of ${ROUNDS} run(s) per mode (every run: bench/results/recordings-latest.json; the machine's load average was ${loadavg()[0].toFixed(1)} at the end).

| relay | CPU (% of a core) | fan-out p50 | fan-out p99 |
|---|---|---|---|
| recording off | ${off.cpuPctOfCore} | ${off.p50Ms} ms | ${off.p99Ms} ms |
| recording on | ${on.cpuPctOfCore} | ${on.p50Ms} ms | ${on.p99Ms} ms |

Recording costs ${result.cpuIncreasePct} % relay CPU (bar: ≤ 10 %).

A busy page (bench/pages/session.html, the scripted typical session) for ${Math.round(page.windowMs / 1000)} s: ${mib(page.bytesPerMinute)} on disk per minute (first snapshot and start: ${mib(page.snapshotAndStartBytes)}).
`);
