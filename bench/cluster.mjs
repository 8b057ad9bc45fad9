#!/usr/bin/env node
// The relay as a cluster: rooms and messages per second with 1, 2 and 3 nodes behind one real Redis,
// against one process without Redis, on this machine.
//
//   node bench/cluster.mjs                         1 process, then 1, 2 and 3 nodes (20 s each)
//   node bench/cluster.mjs --nodes 2 --rooms 300   one configuration
//
// Each row starts redis-server (test-support/redis.mjs) and N relay processes (`--redis`, one shared
// secret, distinct node ids), then the load generator of bench/load.mjs (bench/lib/load-worker.mjs)
// opens the rooms: every connection-info call goes to the next node in turn, as a load balancer
// would, and each socket goes where the answer says (the room's owner). "Rooms/s" is how fast the
// rooms were set up (recorder + replayers: connection info, socket, hello → welcome, catch-up);
// "msgs/s" is what the replayers received per second during the timed run at the offered rate.
// Everything shares this machine's cores (generator included): read the shape of the curve, not a
// promise of what N machines carry.
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { performance } from 'node:perf_hooks';
import { REPO, startRelay } from '../test-support/processes.mjs';
import { startRedis } from '../test-support/redis.mjs';
import { CLK_TCK, Histogram, cpuTicks } from './lib/load-stats.mjs';
import { forkWorker } from './lib/load-workers.mjs';

const { values: args } = parseArgs({
  options: {
    nodes: { type: 'string', default: '0,1,2,3' },
    rooms: { type: 'string', default: '600' },
    replayers: { type: 'string', default: '2' },
    rate: { type: 'string', default: '30' },
    duration: { type: 'string', default: '20' },
    workers: { type: 'string', default: '2' },
    help: { type: 'boolean' },
  },
});
if (args.help) {
  process.stdout
    .write(`Usage: node bench/cluster.mjs [--nodes 0,1,2,3] [--rooms 600] [--replayers 2] [--rate 30] [--duration 20] [--workers 2]
  --nodes     configurations to run: 0 = one process without Redis, N = N nodes behind one Redis
  --rooms     rooms (1 recorder + replayers each); --rate batches/s of 1 KB per room
`);
  process.exit(0);
}
const num = (value, name, min, max) => {
  const n = Number(value);
  if (!Number.isInteger(n) || n < min || n > max) throw new Error(`--${name} must be an integer ${min}..${max}`);
  return n;
};
const configs = args.nodes.split(',').map((n) => num(n.trim(), 'nodes', 0, 5));
const rooms = num(args.rooms, 'rooms', 1, 5000);
const replayers = num(args.replayers, 'replayers', 1, 5);
const rate = num(args.rate, 'rate', 1, 200);
const duration = num(args.duration, 'duration', 3, 300);
const workerCount = num(args.workers, 'workers', 1, 8);
const SECRET = 'bench-cluster-secret-of-at-least-32-bytes!';
// Every socket of the bench comes from 127.0.0.1: lift the per-address limit (default 1,000), as bench/load.mjs does.
const CONFIG = join(mkdtempSync(join(tmpdir(), 'cobrowse-cluster-bench-')), 'relay.json');
writeFileSync(CONFIG, JSON.stringify({ maxConnectionsPerAddress: 100_000 }));

const log = (line) => process.stderr.write(`${line}\n`);
const sleep = (ms) => new Promise((done) => setTimeout(done, ms));
const round = (x, digits = 1) => Math.round(x * 10 ** digits) / 10 ** digits;

async function runConfig(nodes) {
  const label = nodes === 0 ? '1 process, no Redis' : `${nodes} node${nodes > 1 ? 's' : ''} + Redis`;
  const redis = nodes > 0 ? await startRedis() : undefined;
  const relays = [];
  const workers = [];
  try {
    for (let i = 0; i < Math.max(1, nodes); i++)
      relays.push(
        await startRelay([
          '--dev',
          '--secret',
          SECRET,
          '--log-level',
          'warn',
          '--config',
          CONFIG,
          ...(redis ? ['--redis', redis.url, '--node-id', `node-${i + 1}`] : []),
        ]),
      );
    if (redis) await sleep(1500); // every node sees the others registered
    for (let i = 0; i < workerCount; i++) workers.push(forkWorker(i));
    const runId = `${Date.now().toString(36)}${process.pid}`;
    const ids = Array.from({ length: rooms }, (_, i) => `cluster-${runId}-${i}`);
    const setupStart = performance.now();
    await Promise.all(
      workers.map((w) =>
        w.ask(
          {
            cmd: 'setup',
            kind: 'relay',
            client: 'raw',
            deflate: false,
            url: relays[0].url,
            urls: relays.map((r) => r.url),
            rooms: ids.filter((_, i) => i % workerCount === w.index),
            replayers,
            rate,
            payloadBytes: 1024,
            tickMs: 5,
            durationS: duration,
            warmupMs: 2000,
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
    const setupS = (performance.now() - setupStart) / 1000;
    log(`${label}: ${rooms} rooms set up in ${round(setupS, 2)} s`);
    await sleep(500);
    const cpu0 = relays.map((r) => cpuTicks(r.pid));
    const t0 = performance.now();
    for (const w of workers) w.post({ cmd: 'start', at: performance.timeOrigin + performance.now() + 200 });
    await sleep(duration * 1000 + 200);
    await Promise.all(workers.map((w) => w.ask({ cmd: 'stop' }, 'stopped', 30_000)));
    const wall = (performance.now() - t0) / 1000;
    const cpu = relays.map((r, i) => round(((cpuTicks(r.pid) - cpu0[i]) / CLK_TCK / wall) * 100));
    const results = await Promise.all(workers.map((w) => w.ask({ cmd: 'drain', timeoutMs: 60_000 }, 'result', 80_000)));
    const hist = new Histogram();
    let sent = 0;
    let delivered = 0;
    let expected = 0;
    let firstSend = Infinity;
    let lastSend = 0;
    for (const r of results) {
      hist.merge(r.hist);
      sent += r.sent;
      delivered += r.delivered;
      expected += r.expected;
      if (r.firstSendAt) firstSend = Math.min(firstSend, r.firstSendAt);
      lastSend = Math.max(lastSend, r.lastSendAt);
    }
    const sendS = Math.max(0.001, (lastSend - firstSend) / 1000);
    const latency = hist.summary();
    return {
      config: label,
      nodes,
      rooms,
      replayersPerRoom: replayers,
      ratePerRoom: rate,
      roomsPerS: round(rooms / setupS, 0),
      setupS: round(setupS, 2),
      offeredPerS: rooms * rate,
      sentPerS: round(sent / sendS, 0),
      deliveredPerS: round(delivered / sendS, 0),
      deliveredPct: expected ? round((delivered / expected) * 100, 2) : null,
      p50Ms: latency.p50,
      p99Ms: latency.p99,
      relayCpuPct: cpu,
      relayCpuTotalPct: round(cpu.reduce((a, b) => a + b, 0)),
    };
  } finally {
    for (const w of workers) {
      w.post({ cmd: 'close' });
      setTimeout(() => w.child.kill('SIGKILL'), 2000).unref();
    }
    await Promise.all(relays.map((r) => r.stop()));
    await redis?.stop();
  }
}

const rows = [];
for (const nodes of configs) {
  try {
    rows.push(await runConfig(nodes));
  } catch (error) {
    log(`${nodes} nodes: failed: ${error.message}`);
    rows.push({ config: nodes === 0 ? '1 process, no Redis' : `${nodes} nodes + Redis`, nodes, error: error.message });
  }
}
const base = rows.find((r) => r.nodes === 0 && !r.error);
const header = [
  'configuration',
  'rooms/s (setup)',
  'msgs/s delivered',
  'of offered',
  'p50 ms',
  'p99 ms',
  'relay CPU % (per node)',
];
const table = [
  header,
  ...rows.map((r) =>
    r.error
      ? [r.config, 'failed', '', '', '', '', r.error.slice(0, 60)]
      : [
          r.config,
          `${r.roomsPerS}${base && r !== base ? ` (${round(r.roomsPerS / base.roomsPerS, 2)}×)` : ''}`,
          `${r.deliveredPerS}${base && r !== base ? ` (${round(r.deliveredPerS / base.deliveredPerS, 2)}×)` : ''}`,
          `${r.deliveredPct} %`,
          String(r.p50Ms),
          String(r.p99Ms),
          r.relayCpuPct.join(' + '),
        ],
  ),
];
const widths = header.map((_, i) => Math.max(...table.map((row) => String(row[i]).length)));
const lines = table.map((row) => `| ${row.map((cell, i) => String(cell).padEnd(widths[i])).join(' | ')} |`);
lines.splice(1, 0, `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`);
process.stdout.write(
  `\nCluster: ${rooms} rooms × (1 recorder + ${replayers} replayers), ${rate} batches/s of 1 KB per room, ${duration} s, on ${(await import('node:os')).cpus().length} cores shared with the generator\n${lines.join('\n')}\n`,
);
const dir = join(REPO, 'bench/results');
mkdirSync(dir, { recursive: true });
const file = join(dir, `cluster-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
writeFileSync(file, `${JSON.stringify({ when: new Date().toISOString(), rows }, null, 2)}\n`);
log(`written: ${file}`);
if (rows.some((r) => r.error)) process.exitCode = 1;
