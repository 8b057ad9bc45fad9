// `node bench/load.mjs`: relay load test on 127.0.0.1, the real relay process against a socket.io
// room-broadcast server doing the same work. Prints markdown tables and writes
// bench/results/load-latest.json plus a timestamped copy.
//
//   node bench/load.mjs                       shapes A and B, 60 s each, ours and socket.io
//   node bench/load.mjs --duration 20         shorter runs
//   node bench/load.mjs --shape A --server relay
//   node bench/load.mjs --soak                10 min of a lower-rate shape A on the relay, RSS every minute
//   node bench/load.mjs --soak --duration 60  a short soak while developing
//
// Shapes:
//   A  500 rooms × (1 recorder + 1 replayer), each recorder 100 msgs/s of 1 KB
//   B  1,000 rooms × (1 recorder + 2 replayers), each recorder 30 batches/s of ~1 KB
//
// Clients run in `--workers` forked processes (default 2); each owns whole rooms, so latency is
// receive − send on one clock. The machine's cores are shared by the server and the generator: the
// table reports both processes' CPU and the machine's, so a saturated machine is visible.
import { fork, spawn } from 'node:child_process';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { cpus, setPriority, totalmem, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { performance } from 'node:perf_hooks';
import { CLK_TCK, Histogram, cpuTicks, machineTicks, memory, round } from './lib/load-stats.mjs';

const REPO = resolve(import.meta.dirname, '..');
const RESULTS = join(REPO, 'bench/results');
const RELAY_CLI = join(REPO, 'packages/relay/dist/cli.js');
const SOCKETIO_SERVER = join(REPO, 'bench/lib/load-socketio-server.mjs');
const WORKER = join(REPO, 'bench/lib/load-worker.mjs');

const SHAPES = {
  A: { name: 'A', rooms: 500, replayers: 1, rate: 100, payloadBytes: 1024, label: '500 rooms × (1 recorder + 1 replayer), 100 msgs/s of 1 KB each' },
  B: { name: 'B', rooms: 1000, replayers: 2, rate: 30, payloadBytes: 1024, label: '1,000 rooms × (1 recorder + 2 replayers), 30 batches/s of ~1 KB each' },
  soak: { name: 'soak', rooms: 200, replayers: 1, rate: 100, payloadBytes: 1024, label: 'soak: 200 rooms × (1 recorder + 1 replayer), 100 msgs/s of 1 KB each' },
};
const BARS = { p99Ms: 30, rssMiB: 150 };

const { values: args } = parseArgs({
  options: {
    duration: { type: 'string' },
    shape: { type: 'string', default: 'A,B' },
    server: { type: 'string', default: 'relay,socketio' },
    workers: { type: 'string', default: '2' },
    rooms: { type: 'string' },
    rate: { type: 'string' },
    'tick-ms': { type: 'string', default: '5' },
    nice: { type: 'string', default: '0' },
    pin: { type: 'string', default: 'auto' },
    'cache-bytes': { type: 'string' },
    profile: { type: 'string' },
    soak: { type: 'boolean', default: false },
    help: { type: 'boolean', default: false },
  },
});
if (args.help) {
  process.stdout.write(
    'node bench/load.mjs [--duration S] [--shape A,B] [--server relay,socketio] [--workers N] [--rooms N] [--rate N] [--tick-ms MS] [--cache-bytes N] [--profile DIR] [--soak]\n',
  );
  process.exit(0);
}

const started = Date.now();
const log = (...parts) => process.stderr.write(`[load ${((Date.now() - started) / 1000).toFixed(1).padStart(6)}s] ${parts.join(' ')}\n`);
const sleep = (ms) => new Promise((done) => setTimeout(done, ms));
const num = (value, fallback) => (value === undefined ? fallback : Number(value));

const duration = num(args.duration, args.soak ? 600 : 60);
const workerCount = num(args.workers, 2);
const tickMs = num(args['tick-ms'], 5);
const niceness = num(args.nice, 0);
/**
 * CPU pinning (taskset): the server on core 0, the generator processes on the other cores, so the
 * server under test is not starved by its own load generator. "auto" = on when there are ≥ 2 cores.
 */
const pin = args.pin === 'auto' ? cpus().length >= 2 : args.pin === 'on' || args.pin === 'true';
const SERVER_CPUS = '0';
const GENERATOR_CPUS = cpus().length > 2 ? `1-${cpus().length - 1}` : '1';
function pinTo(pid, list) {
  if (!pin) return;
  try {
    execFileSync('taskset', ['-a', '-p', '-c', list, String(pid)], { stdio: 'ignore' });
  } catch (error) {
    log(`taskset failed for ${pid}: ${error.message}`);
  }
}
if (!(duration > 0 && duration <= 3600)) throw new Error('--duration must be 1..3600 seconds');
if (!(workerCount >= 1 && workerCount <= 16)) throw new Error('--workers must be 1..16');

// ---------------------------------------------------------------------------------------------
// Child processes: every one is tracked and killed on the way out, whatever happens.

const children = new Set();
function track(child) {
  children.add(child);
  child.once('exit', () => children.delete(child));
  return child;
}
function killAll(signal = 'SIGKILL') {
  for (const child of children) {
    try {
      child.kill(signal);
    } catch {}
  }
}
process.on('exit', () => killAll());
for (const sig of ['SIGINT', 'SIGTERM']) {
  process.on(sig, () => {
    log(`${sig}: killing ${children.size} child processes`);
    killAll();
    process.exit(130);
  });
}

function waitExit(child, ms) {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((done) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      done();
    }, ms);
    child.once('exit', () => {
      clearTimeout(timer);
      done();
    });
  });
}

/** Spawns a server process and resolves once it prints "listening on http://…". */
async function startServer(kind) {
  let argv;
  if (kind === 'relay') {
    if (!existsSync(RELAY_CLI)) throw new Error(`${RELAY_CLI} is missing: run \`npm run build\` first`);
    argv = [RELAY_CLI, '--port', '0', '--host', '127.0.0.1', '--dev'];
    // One address (127.0.0.1) opens every socket here: lift the relay's per-address connection
    // limit (a relay option, default 1,000) so 3,000 sockets fit. Nothing else is changed unless asked.
    const config = { maxConnectionsPerAddress: 100_000 };
    if (args['cache-bytes']) config.cacheBytes = Number(args['cache-bytes']);
    const file = join(tmpdir(), `cobrowse-load-relay-${process.pid}.json`);
    writeFileSync(file, JSON.stringify(config));
    argv.push('--config', file);
  } else {
    argv = [SOCKETIO_SERVER, '--port', '0'];
  }
  if (args.profile) argv.unshift('--cpu-prof', `--cpu-prof-dir=${resolve(args.profile)}`);
  // Diagnostics only, e.g. LOAD_SERVER_NODE_ARGS=--trace-gc (the server's stderr is printed at the end of its run).
  if (process.env.LOAD_SERVER_NODE_ARGS) argv.unshift(...process.env.LOAD_SERVER_NODE_ARGS.split(/\s+/).filter(Boolean));
  const child = track(spawn(process.execPath, argv, { stdio: ['ignore', 'pipe', 'pipe'], cwd: REPO }));
  let output = '';
  pinTo(child.pid, SERVER_CPUS);
  const keep = (chunk) => {
    output = (output + chunk).slice(-20_000);
  };
  child.stdout.on('data', keep);
  child.stderr.on('data', keep);
  const url = await new Promise((resolveUrl, reject) => {
    const timer = setTimeout(() => reject(new Error(`${kind} did not start within 10 s:\n${output}`)), 10_000);
    child.stdout.on('data', () => {
      const match = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(output);
      if (match) {
        clearTimeout(timer);
        resolveUrl(match[1]);
      }
    });
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`${kind} exited (${code ?? signal}) before listening:\n${output}`));
    });
  });
  return {
    kind,
    url,
    pid: child.pid,
    child,
    output: () => output,
    alive: () => child.exitCode === null && child.signalCode === null,
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      await waitExit(child, 5000);
    },
  };
}

/** Forks the generator processes; each answers IPC commands (see bench/lib/load-worker.mjs). */
function startWorkers(n) {
  return Array.from({ length: n }, (_, index) => {
    const child = track(fork(WORKER, [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'], cwd: REPO }));
    pinTo(child.pid, GENERATOR_CPUS);
    if (niceness) {
      try {
        setPriority(child.pid, niceness);
      } catch {}
    }
    const waiting = new Map();
    child.on('message', (message) => {
      if (message.type === 'error') {
        for (const { reject } of waiting.values()) reject(new Error(`worker ${index}: ${message.message}`));
        waiting.clear();
        return;
      }
      const entry = waiting.get(message.type);
      if (entry) {
        waiting.delete(message.type);
        entry.resolve(message);
      }
    });
    child.once('exit', (code, signal) => {
      for (const { reject } of waiting.values()) reject(new Error(`worker ${index} exited (${code ?? signal})`));
      waiting.clear();
    });
    return {
      index,
      child,
      pid: child.pid,
      post: (message) => child.connected && child.send(message),
      /** Sends a command and waits for the reply of the given type. */
      ask(message, replyType, ms) {
        return new Promise((resolveReply, reject) => {
          const timer = setTimeout(() => {
            waiting.delete(replyType);
            reject(new Error(`worker ${index}: no "${replyType}" within ${ms} ms`));
          }, ms);
          waiting.set(replyType, {
            resolve: (value) => {
              clearTimeout(timer);
              resolveReply(value);
            },
            reject: (error) => {
              clearTimeout(timer);
              reject(error);
            },
          });
          child.send(message);
        });
      },
    };
  });
}

/** How busy the machine is with nothing of ours running (other processes), over 2 s: % of all cores. */
async function backgroundLoad() {
  const a = machineTicks();
  await sleep(2000);
  const b = machineTicks();
  return { busyPct: round(((b.busy - a.busy) / (b.total - a.total)) * 100) };
}

async function relayStatus(server) {
  if (server.kind !== 'relay') return undefined;
  try {
    const res = await fetch(`${server.url}/cobrowse/status`, { signal: AbortSignal.timeout(2000) });
    return await res.json();
  } catch {
    return undefined;
  }
}

// ---------------------------------------------------------------------------------------------
// One run: one server, one shape.

async function runOne(shapeKey, kind, { soak = false } = {}) {
  const shape = { ...SHAPES[shapeKey] };
  if (args.rooms) shape.rooms = Number(args.rooms);
  if (args.rate) shape.rate = Number(args.rate);
  const tag = `${shape.name}/${kind}`;
  log(`${tag}: ${shape.label} for ${duration} s, ${workerCount} generator processes`);
  const before = await backgroundLoad();
  if (before.busyPct > 10) log(`${tag}: warning: the machine is already ${before.busyPct} % busy before the run (other processes)`);
  const server = await startServer(kind);
  const workers = startWorkers(workerCount);
  try {
    const idle = memory(server.pid);
    const runId = `${Date.now().toString(36)}${process.pid}`;
    const roomIds = Array.from({ length: shape.rooms }, (_, i) => `load-${runId}-${shape.name}-${i}`);
    const setupStart = Date.now();
    await Promise.all(
      workers.map((w) =>
        w.ask(
          {
            cmd: 'setup',
            kind,
            url: server.url,
            rooms: roomIds.filter((_, i) => i % workerCount === w.index),
            replayers: shape.replayers,
            rate: shape.rate,
            payloadBytes: shape.payloadBytes,
            tickMs,
            durationS: duration,
            index: w.index,
            workers: workerCount,
            concurrency: 20,
            setupTimeoutMs: 180_000,
          },
          'ready',
          200_000,
        ),
      ),
    );
    const sockets = shape.rooms * (1 + shape.replayers);
    log(`${tag}: ${sockets} sockets connected, snapshots cached and caught up in ${((Date.now() - setupStart) / 1000).toFixed(1)} s`);
    await sleep(1000);

    // --- the timed run
    const atStart = memory(server.pid);
    const cpu0 = { server: cpuTicks(server.pid), workers: workers.map((w) => cpuTicks(w.pid)), machine: machineTicks(), t: performance.now() };
    let peak = atStart.rss ?? 0;
    const samples = [];
    const at = performance.timeOrigin + performance.now() + 200;
    for (const w of workers) w.post({ cmd: 'start', at });
    const sampleEvery = soak ? Math.min(60, Math.max(5, duration / 10)) : 10;
    const runEnd = Date.now() + 200 + duration * 1000;
    let nextSample = Date.now() + 1000;
    let nextReport = Date.now() + sampleEvery * 1000;
    let lastCpu = { ticks: cpu0.server, t: cpu0.t };
    while (Date.now() < runEnd) {
      await sleep(Math.max(0, Math.min(nextSample, runEnd) - Date.now()));
      if (!server.alive()) throw new Error(`${kind} died during the run:\n${server.output().slice(-3000)}`);
      const m = memory(server.pid);
      if (m.rss > peak) peak = m.rss;
      nextSample += 1000;
      if (Date.now() >= nextReport || Date.now() >= runEnd) {
        nextReport += sampleEvery * 1000;
        const ticks = cpuTicks(server.pid);
        const t = performance.now();
        const cpu = ((ticks - lastCpu.ticks) / CLK_TCK / ((t - lastCpu.t) / 1000)) * 100;
        lastCpu = { ticks, t };
        const status = await relayStatus(server);
        const sample = {
          s: Math.round((t - cpu0.t) / 1000),
          rssMiB: round(m.rss),
          cpuPct: round(cpu),
          ...(status ? { cachedMiB: round(status.cachedBytes / 1048576), connections: status.connections } : {}),
        };
        samples.push(sample);
        log(
          `${tag}: t=${String(sample.s).padStart(4)} s  RSS ${sample.rssMiB} MiB  CPU ${sample.cpuPct} %` +
            (status ? `  relay cache ${sample.cachedMiB} MiB, ${status.connections} sockets` : ''),
        );
      }
    }
    const stopped = await Promise.all(workers.map((w) => w.ask({ cmd: 'stop' }, 'stopped', 30_000)));
    const cpu1 = { server: cpuTicks(server.pid), workers: workers.map((w) => cpuTicks(w.pid)), machine: machineTicks(), t: performance.now() };
    const wall = (cpu1.t - cpu0.t) / 1000;

    // --- drain: nothing is sent any more; wait for what is in flight, then count
    const results = await Promise.all(workers.map((w) => w.ask({ cmd: 'drain', timeoutMs: 20_000 }, 'result', 40_000)));
    const end = memory(server.pid);
    if (end.rss > peak) peak = end.rss;
    const status = await relayStatus(server);
    if (!server.alive()) throw new Error(`${kind} died during the drain:\n${server.output().slice(-3000)}`);

    const hist = new Histogram();
    const totals = { sent: 0, expected: 0, delivered: 0, incompleteReplayers: 0, drainMs: 0 };
    const counters = {};
    const perSecond = [];
    for (const r of results) {
      r.perSecond.forEach((p, i) => {
        const into = (perSecond[i] ??= { s: i, n: 0, maxMs: 0, over30: 0, generatorTickGapMaxMs: 0 });
        into.generatorTickGapMaxMs = Math.max(into.generatorTickGapMaxMs, round(p.tickGapMax, 1));
        into.n += p.n;
        into.over30 += p.over30;
        into.maxMs = Math.max(into.maxMs, round(p.max, 2));
      });
      hist.merge(r.hist);
      for (const key of Object.keys(totals)) totals[key] = key === 'drainMs' ? Math.max(totals[key], r[key]) : totals[key] + r[key];
      for (const [key, value] of Object.entries(r.counters)) counters[key] = key === 'maxBurst' ? Math.max(counters[key] ?? 0, value) : (counters[key] ?? 0) + value;
    }
    const workerCpu = cpu1.workers.reduce((sum, t, i) => sum + (t - cpu0.workers[i]), 0);
    const machineBusy = (cpu1.machine.busy - cpu0.machine.busy) / (cpu1.machine.total - cpu0.machine.total);
    const stealPct = ((cpu1.machine.steal - cpu0.machine.steal) / (cpu1.machine.total - cpu0.machine.total)) * 100;
    const perCpuBusyPct = cpu1.machine.perCpu.map((c, i) => round(((c.busy - cpu0.machine.perCpu[i].busy) / (c.total - cpu0.machine.perCpu[i].total)) * 100));
    const result = {
      shape: shape.name,
      server: kind,
      label: shape.label,
      rooms: shape.rooms,
      replayersPerRoom: shape.replayers,
      ratePerRoom: shape.rate,
      payloadBytes: shape.payloadBytes,
      durationS: round(wall, 2),
      sockets,
      sent: totals.sent,
      sentPerS: round(totals.sent / wall, 0),
      targetPerS: shape.rooms * shape.rate,
      expected: totals.expected,
      delivered: totals.delivered,
      deliveredPct: totals.expected ? (totals.delivered / totals.expected) * 100 : null,
      incompleteReplayers: totals.incompleteReplayers,
      drainMs: totals.drainMs,
      latencyMs: hist.summary(),
      serverCpuPct: round(((cpu1.server - cpu0.server) / CLK_TCK / wall) * 100),
      generatorCpuPct: round((workerCpu / CLK_TCK / wall) * 100),
      machineBusyPct: round(machineBusy * 100),
      machineCores: cpus().length,
      perCpuBusyPct,
      stealPct: round(stealPct),
      backgroundBusyPct: before.busyPct,
      /** CPU of other processes on the machine during the run (not ours), % of one core. */
      otherProcessesCpuPct: round(((cpu1.machine.process - cpu0.machine.process - (cpu1.server - cpu0.server) - workerCpu) / CLK_TCK / wall) * 100),
      /** irq + softirq time (loopback TCP processing), % of one core. */
      kernelIrqCpuPct: round(((cpu1.machine.irq - cpu0.machine.irq) / CLK_TCK / wall) * 100),
      rssMiB: { idle: round(idle.rss), start: round(atStart.rss), peak: round(Math.max(peak, end.hwm ?? 0)), end: round(end.rss) },
      relayStatusAtEnd: status,
      counters,
      samples,
      perSecond: perSecond.filter((p) => p.n > 0),
      sentByWorker: stopped.map((s) => s.sent),
    };
    log(
      `${tag}: delivered ${result.delivered}/${result.expected} (${result.deliveredPct?.toFixed(3)} %), p50 ${result.latencyMs.p50} p99 ${result.latencyMs.p99} max ${result.latencyMs.max} ms, ` +
        `server CPU ${result.serverCpuPct} %, RSS start ${result.rssMiB.start} peak ${result.rssMiB.peak} end ${result.rssMiB.end} MiB`,
    );
    return result;
  } finally {
    for (const w of workers) w.post({ cmd: 'close' });
    await Promise.all(workers.map((w) => waitExit(w.child, 5000)));
    await server.stop();
    if (process.env.LOAD_SERVER_NODE_ARGS) process.stderr.write(server.output());
  }
}

// ---------------------------------------------------------------------------------------------
// Report

const pct = (x) => (x === null || x === undefined ? '—' : `${x >= 99.9995 && x < 100 ? '99.999' : x.toFixed(3)} %`);
const ms = (x) => (x === null || x === undefined ? '—' : x >= 100 ? x.toFixed(0) : x.toFixed(2));
const ratioOf = (a, b) => (typeof a === 'number' && typeof b === 'number' && b > 0 ? Math.round((a / b) * 100) / 100 : null);
const fmtRatio = (r) => (r === null ? '—' : `${r.toFixed(2)}×`);
const pass = (ok) => (ok ? 'pass' : '**FAIL**');

/** Other processes using more than this much CPU during a run make its figures unreliable: flagged. */
const DISTURBED_PCT = 15;
const flagged = (x) => (x > DISTURBED_PCT ? `**${x}** (disturbed)` : `${x}`);

function table(ours, theirs) {
  const rows = [];
  const row = (label, a, b, r = '') => rows.push(`| ${label} | ${a} | ${b} | ${r} |`);
  const get = (res, fn) => (res ? fn(res) : '—');
  rows.push(`| | cobrowse-relay | socket.io | ours / socket.io |`, `|---|---:|---:|---:|`);
  row('delivered / expected', get(ours, (r) => `${pct(r.deliveredPct)} (${r.delivered} / ${r.expected})`), get(theirs, (r) => `${pct(r.deliveredPct)} (${r.delivered} / ${r.expected})`));
  row('sent msgs/s (target)', get(ours, (r) => `${r.sentPerS} (${r.targetPerS})`), get(theirs, (r) => `${r.sentPerS} (${r.targetPerS})`));
  for (const key of ['p50', 'p99', 'max']) {
    row(`fan-out latency ${key} (ms)`, get(ours, (r) => ms(r.latencyMs[key])), get(theirs, (r) => ms(r.latencyMs[key])), fmtRatio(ratioOf(ours?.latencyMs[key], theirs?.latencyMs[key])));
  }
  row('server CPU (% of one core)', get(ours, (r) => r.serverCpuPct), get(theirs, (r) => r.serverCpuPct), fmtRatio(ratioOf(ours?.serverCpuPct, theirs?.serverCpuPct)));
  row('server RSS start / peak / end (MiB)', get(ours, (r) => `${r.rssMiB.start} / ${r.rssMiB.peak} / ${r.rssMiB.end}`), get(theirs, (r) => `${r.rssMiB.start} / ${r.rssMiB.peak} / ${r.rssMiB.end}`), fmtRatio(ratioOf(ours?.rssMiB.peak, theirs?.rssMiB.peak)) + ' (peak)');
  row('generator CPU (% of one core, all workers)', get(ours, (r) => r.generatorCpuPct), get(theirs, (r) => r.generatorCpuPct));
  row(`machine busy (% of ${ours?.machineCores ?? theirs?.machineCores} cores; per core)`, get(ours, (r) => `${r.machineBusyPct} (${r.perCpuBusyPct.join(' / ')})`), get(theirs, (r) => `${r.machineBusyPct} (${r.perCpuBusyPct.join(' / ')})`));
  row('kernel irq/softirq (loopback TCP; % of one core)', get(ours, (r) => r.kernelIrqCpuPct), get(theirs, (r) => r.kernelIrqCpuPct));
  row('other processes on the machine during the run (% of one core)', get(ours, (r) => flagged(r.otherProcessesCpuPct)), get(theirs, (r) => flagged(r.otherProcessesCpuPct)));
  row('machine busy before the run (other processes, % of all cores)', get(ours, (r) => r.backgroundBusyPct), get(theirs, (r) => r.backgroundBusyPct));
  row('seconds with a message over 30 ms / run seconds', get(ours, (r) => `${r.perSecond.filter((p) => p.over30 > 0).length} / ${r.perSecond.length}`), get(theirs, (r) => `${r.perSecond.filter((p) => p.over30 > 0).length} / ${r.perSecond.length}`));
  if (ours?.relayStatusAtEnd) row('relay catch-up cache at end (MiB)', round(ours.relayStatusAtEnd.cachedBytes / 1048576), '—');
  if (ours) row('snapshots the relay asked for / resyncs (dups)', `${ours.counters.snapshotRequests} / ${ours.counters.duplicates + ours.counters.setupReplays}`, get(theirs, (r) => `— / ${r.counters.duplicates}`));
  row('unexpected socket closes', get(ours, (r) => r.counters.unexpectedCloses), get(theirs, (r) => r.counters.unexpectedCloses));
  if (ours && ours.shape === 'A') {
    row(`bar: p99 ≤ ${BARS.p99Ms} ms`, pass(ours.latencyMs.p99 <= BARS.p99Ms), '');
    row(`bar: relay RSS ≤ ${BARS.rssMiB} MiB (peak)`, pass(ours.rssMiB.peak <= BARS.rssMiB), '');
  }
  return rows.join('\n');
}

function soakTable(result) {
  const rows = ['| t (s) | relay RSS (MiB) | relay CPU (%) | catch-up cache (MiB) |', '|---:|---:|---:|---:|'];
  rows.push(`| start | ${result.rssMiB.start} | | |`);
  for (const s of result.samples) rows.push(`| ${s.s} | ${s.rssMiB} | ${s.cpuPct} | ${s.cachedMiB ?? '—'} |`);
  rows.push(`| end (after drain) | ${result.rssMiB.end} | | |`);
  return rows.join('\n');
}

// ---------------------------------------------------------------------------------------------

async function main() {
  const ulimit = Number(execFileSync('sh', ['-c', 'ulimit -n']).toString().trim());
  const shapeKeys = args.soak ? ['soak'] : args.shape.split(',').map((s) => s.trim().toUpperCase());
  const servers = args.soak ? ['relay'] : args.server.split(',').map((s) => s.trim());
  for (const key of shapeKeys) if (!SHAPES[key]) throw new Error(`unknown shape ${key}`);
  for (const kind of servers) if (kind !== 'relay' && kind !== 'socketio') throw new Error(`unknown server ${kind}`);
  const maxSockets = Math.max(...shapeKeys.map((k) => (args.rooms ? Number(args.rooms) : SHAPES[k].rooms) * (1 + SHAPES[k].replayers)));
  // Each socket is one fd in the server and one in a worker (split across workers); plus headroom.
  const needed = maxSockets + 200;
  log(`ulimit -n ${ulimit}; largest shape needs ~${needed} fds in the server process`);
  if (ulimit < needed) throw new Error(`ulimit -n is ${ulimit}, too low for ${maxSockets} sockets (need ~${needed}); not raising it`);

  const env = {
    node: process.version,
    cpus: cpus().length,
    cpuModel: cpus()[0]?.model,
    memGiB: round(totalmem() / 2 ** 30),
    ulimitN: ulimit,
    workers: workerCount,
    tickMs,
    durationS: duration,
    cacheBytes: args['cache-bytes'] ? Number(args['cache-bytes']) : 'default (4 MiB per room)',
  };
  const runs = [];
  for (const key of shapeKeys) {
    for (const kind of servers) {
      runs.push(await runOne(key, kind, { soak: args.soak }));
      await sleep(1000);
    }
  }

  let markdown = `## Relay load test (${new Date().toISOString()}, node ${process.version}, ${env.cpus} cores, ${workerCount} generator processes, ${duration} s per run)\n`;
  const report = { kind: args.soak ? 'soak' : 'load', date: new Date().toISOString(), env, bars: BARS, runs, headline: {} };
  if (args.soak) {
    const r = runs[0];
    markdown += `\n### ${r.label}\n\n${soakTable(r)}\n\n`;
    markdown += `delivered ${pct(r.deliveredPct)} (${r.delivered} / ${r.expected}), p50 ${ms(r.latencyMs.p50)} ms, p99 ${ms(r.latencyMs.p99)} ms, max ${ms(r.latencyMs.max)} ms, relay CPU ${r.serverCpuPct} %, RSS start ${r.rssMiB.start} / peak ${r.rssMiB.peak} / end ${r.rssMiB.end} MiB\n`;
    const mid = r.samples.filter((s) => s.s >= duration / 2).map((s) => s.rssMiB);
    report.headline = { rssStartMiB: r.rssMiB.start, rssEndMiB: r.rssMiB.end, rssPeakMiB: r.rssMiB.peak, secondHalfRssMiB: { min: Math.min(...mid), max: Math.max(...mid) } };
  } else {
    for (const key of shapeKeys) {
      const ours = runs.find((r) => r.shape === key && r.server === 'relay');
      const theirs = runs.find((r) => r.shape === key && r.server === 'socketio');
      const label = (ours ?? theirs).label;
      markdown += `\n### Shape ${key}: ${label}\n\n${table(ours, theirs)}\n`;
      report.headline[key] = {
        p99RatioOursOverSocketIo: ratioOf(ours?.latencyMs.p99, theirs?.latencyMs.p99),
        peakRssRatioOursOverSocketIo: ratioOf(ours?.rssMiB.peak, theirs?.rssMiB.peak),
        cpuRatioOursOverSocketIo: ratioOf(ours?.serverCpuPct, theirs?.serverCpuPct),
        oursP99Ms: ours?.latencyMs.p99,
        oursPeakRssMiB: ours?.rssMiB.peak,
        bars: ours && key === 'A' ? { p99: ours.latencyMs.p99 <= BARS.p99Ms, rss: ours.rssMiB.peak <= BARS.rssMiB } : undefined,
      };
    }
  }
  process.stdout.write(`${markdown}\n`);

  mkdirSync(RESULTS, { recursive: true });
  const prefix = args.soak ? 'load-soak' : 'load';
  const json = `${JSON.stringify(report, null, 2)}\n`;
  writeFileSync(join(RESULTS, `${prefix}-latest.json`), json);
  writeFileSync(join(RESULTS, `${prefix}-${report.date.replace(/[:.]/g, '-')}.json`), json);
  log(`wrote bench/results/${prefix}-latest.json`);
}

const budget = setTimeout(
  () => {
    log('overall time budget exceeded: killing everything');
    killAll();
    process.exit(1);
  },
  (duration * 1000 + 6 * 60_000) * 4 + 60_000,
);
budget.unref();

main().then(
  () => {
    killAll();
    process.exit(0);
  },
  (error) => {
    log(`FAILED: ${error?.stack ?? error}`);
    killAll();
    process.exit(1);
  },
);
