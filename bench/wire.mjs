// Bytes on the wire from the customer's page, and what compressing them costs the page.
//
//   node bench/wire.mjs [--before DIR] [--uplink] [--session-s 60]
//
// For each side — this tree ("after") and, with --before, another built checkout of the repo
// ("before", e.g. `git archive main` built in /tmp) and, with --uplink, this tree with the relay's
// `compressUplink` on ("after+uplink") — one relay process serving that side's SDK,
// one Chromium, the same pages (e2e/pages, served from this tree):
//   - full snapshot of a 10,000-node page (e2e/pages/table.html): wire bytes / JSON bytes;
//   - bursts of 100 changed cells per animation frame for 3 s, the same cells every frame (a live
//     table) and random cells: wire bytes per frame (the relay's uplinkBytes: what it read from the
//     customer's TCP connection), projected to 60 frames/s, and as measured at the frame rate the
//     loaded machine reached;
//   - a typical visit (e2e/pages/customer.html, driven by timers in the page: pointer moves,
//     clicks, typing, scrolling, a new table row now and then) for --session-s seconds: wire bytes
//     per minute, snapshot apart;
//   - main-thread cost of the compression (this tree only, bench/pages/compress.html): the
//     recorder's and the replayer's halves timed in the page on the burst's and the session's batches.
// Bytes do not depend on the machine's load; frame rates and timings do.
// Writes bench/results/wire-latest.json.
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join, normalize, resolve } from 'node:path';
import { launchBrowser } from '../test-support/browser.mjs';
import { REPO, serveFiles, spawnServer } from '../test-support/processes.mjs';
import { median } from './lib/stats.mjs';
import { decodeFrames } from '../test-support/wire-frames.mjs';

const argv = process.argv.slice(2);
const arg = (name, fallback) => {
  const i = argv.indexOf(name);
  return i === -1 ? fallback : argv[i + 1];
};
const BEFORE = arg('--before') ? resolve(arg('--before')) : undefined;
const SESSION_S = Number(arg('--session-s', '60'));
const UPLINK = argv.includes('--uplink');
const BURST_MS = 3000;
const started = Date.now();
const log = (...args) =>
  process.stderr.write(`[wire ${((Date.now() - started) / 1000).toFixed(1).padStart(5)}s] ${args.join(' ')}\n`);
const sleep = (ms) => new Promise((done) => setTimeout(done, ms));

/** The relay CLI of one checkout, on a free loopback port. */
async function startRelayAt(root, extra = []) {
  const cli = join(root, 'packages/relay/dist/cli.js');
  if (!existsSync(cli)) throw new Error(`${cli} is missing: build that checkout first`);
  const relay = await spawnServer(
    'relay',
    [cli, '--port', '0', '--host', '127.0.0.1', '--dev', ...extra],
    /listening on (http:\/\/\S+)/,
  );
  return {
    ...relay,
    uplinkBytes: async () =>
      (await (await fetch(`${relay.url}/cobrowse/status`, { headers: { authorization: 'Bearer dev' } })).json())
        .uplinkBytes,
  };
}

const SERVED = ['e2e/pages/', 'bench/pages/', 'packages/protocol/dist/', 'node_modules/pako/dist/'];
function startSite() {
  return serveFiles((path) => {
    const file = normalize(join(REPO, path.replace(/^\/+/, '')));
    return SERVED.some((prefix) => file.startsWith(join(REPO, prefix))) ? file : undefined;
  });
}

const sum = (list, get) => list.reduce((total, x) => total + get(x), 0);
const jsonBytes = (frames) => sum(frames, (f) => Buffer.byteLength(f.json));
const wireBytes = (frames) => sum(frames, (f) => f.wire);

let browser;
let site;
const relays = {};
let rooms = 0;

/** A customer page sharing into a new room (frames it sends collected) and an agent watching it. */
async function openPair(side, page) {
  const room = `wire-${process.pid}-${++rooms}`;
  const context = await browser.newContext({ viewport: { width: 1024, height: 768 } });
  const url = (p) => `${site.url}/e2e/pages/${p}?relay=${encodeURIComponent(relays[side].url)}&room=${room}`;
  const frames = [];
  const customer = await context.newPage();
  customer.on('websocket', (ws) => ws.on('framesent', (frame) => frames.push(frame.payload)));
  await customer.goto(url(page));
  await customer.waitForFunction(() => window.cobrowse?.status === 'live', undefined, { timeout: 15_000 });
  const agent = await context.newPage();
  await agent.goto(url('agent.html'));
  await agent.waitForFunction(() => window.agent?.status === 'live' && window.cobrowseSnapshots > 0, undefined, {
    timeout: 15_000,
  });
  return { context, customer, agent, frames };
}

/** Waits until the agent's replay shows `selector` as the customer has it. */
async function caughtUp(customer, agent, selector, timeout = 20_000) {
  const want = await customer.evaluate((s) => document.querySelector(s).textContent, selector);
  await agent.waitForFunction(
    ([s, text]) => window.agent.iframe.contentDocument?.querySelector(s)?.textContent === text,
    [selector, want],
    { timeout, polling: 20 },
  );
}

async function tableScenario(side) {
  const { context, customer, agent, frames } = await openPair(side, 'table.html');
  try {
    const snap = decodeFrames(frames).find((f) => f.snap);
    const snapshot = { json: Buffer.byteLength(snap.json), wire: snap.wire, z: snap.z };
    snapshot.wireOverJson = Math.round((snapshot.wire / snapshot.json) * 1000) / 1000;
    const bursts = {};
    for (const pick of ['same', 'random']) {
      await caughtUp(customer, agent, '#orders tbody');
      await sleep(300);
      const before = await relays[side].uplinkBytes();
      const lastSeq = decodeFrames(frames).at(-1)?.seq ?? 0;
      const run = await customer.evaluate(([ms, p]) => window.burst({ ms, cells: 100, pick: p }), [BURST_MS, pick]);
      const ended = Date.now();
      await caughtUp(customer, agent, '#orders tbody');
      const caughtUpMs = Date.now() - ended;
      await sleep(300);
      const wire = (await relays[side].uplinkBytes()) - before;
      const burst = decodeFrames(frames).filter((f) => f.seq > lastSeq);
      const perFrame = wire / run.frames;
      bursts[pick] = {
        frames: run.frames,
        fps: Math.round((run.frames / (run.ms / 1000)) * 10) / 10,
        batches: burst.length,
        encodings: [...new Set(burst.map((f) => f.z))],
        wireBytesPerFrame: Math.round(perFrame),
        jsonBytesPerFrame: Math.round(jsonBytes(burst) / run.frames),
        wireOverJson: Math.round((wireBytes(burst) / jsonBytes(burst)) * 1000) / 1000,
        kBps60: Math.round(perFrame * 60) / 1000,
        kBpsMeasured: Math.round(wire / run.ms),
        jsonKBps60: Math.round((jsonBytes(burst) / run.frames) * 60) / 1000,
        agentEqualAfterMs: caughtUpMs,
        batchesJson: burst.map((f) => f.json),
      };
      log(
        `${side}: burst ${pick}: ${bursts[pick].wireBytesPerFrame} B/frame on the wire (${bursts[pick].kBps60} KB/s at 60 frames/s), ${bursts[pick].fps} frames/s`,
      );
    }
    return { snapshot, bursts };
  } finally {
    await context.close();
  }
}

/**
 * An ordinary visit, driven in the page by timers so that every run (and both sides) does the same:
 * the pointer wanders (a move every 50 ms), a click every 10 s, a sentence typed into a field every
 * 15 s (5 keys/s), the page scrolled every 8 s, the inner list every 12 s, a new table row every 12 s.
 */
function typicalVisit(ms) {
  return new Promise((done) => {
    const start = performance.now();
    const at = (x, y) => document.elementFromPoint(x, y) ?? document.body;
    const mouse = (type, x, y) =>
      at(x, y).dispatchEvent(new MouseEvent(type, { bubbles: true, clientX: x, clientY: y, view: window }));
    const fields = ['name', 'notes', 'policy', 'card'].map((id) => document.getElementById(id));
    let tick = 0;
    let typing;
    const timer = setInterval(() => {
      tick++;
      const t = tick * 50;
      const x = 200 + Math.round(180 * Math.sin(t / 1300));
      const y = 250 + Math.round(150 * Math.sin(t / 1700));
      mouse('mousemove', x, y);
      if (t % 10_000 === 0) for (const type of ['mousedown', 'mouseup', 'click']) mouse(type, x, y);
      if (t % 15_000 === 5_000)
        typing = {
          field: fields[((t / 15_000) % fields.length) | 0],
          text: `Sentence number ${t / 1000} typed by the customer.`,
          i: 0,
        };
      if (typing && t % 200 === 0) {
        typing.field.focus();
        typing.field.value += typing.text[typing.i++];
        typing.field.dispatchEvent(new Event('input', { bubbles: true }));
        if (typing.i >= typing.text.length) typing = undefined;
      }
      if (t % 8_000 === 0) window.scrollBy(0, t % 16_000 === 0 ? -300 : 300);
      if (t % 12_000 === 6_000) document.getElementById('scroller').scrollTop = (t / 12) % 1800;
      if (t % 12_000 === 0) window.addRow(`Item ${t / 1000}`);
      if (performance.now() - start >= ms) {
        clearInterval(timer);
        done(tick);
      }
    }, 50);
  });
}

async function sessionScenario(side) {
  const { context, customer, agent, frames } = await openPair(side, 'customer.html');
  try {
    await sleep(500);
    const before = await relays[side].uplinkBytes();
    const lastSeq = decodeFrames(frames).at(-1)?.seq ?? 0;
    const ticks = await customer.evaluate(typicalVisit, SESSION_S * 1000);
    await caughtUp(customer, agent, '#claims tbody');
    await sleep(500);
    const wire = (await relays[side].uplinkBytes()) - before;
    const session = decodeFrames(frames).filter((f) => f.seq > lastSeq);
    const minutes = SESSION_S / 60;
    return {
      seconds: SESSION_S,
      ticks,
      batches: session.length,
      encodings: [...new Set(session.map((f) => f.z))],
      snapshotWireBytes: decodeFrames(frames).find((f) => f.snap)?.wire,
      snapshotJsonBytes: Buffer.byteLength(decodeFrames(frames).find((f) => f.snap)?.json ?? ''),
      wireBytesPerMinute: Math.round(wire / minutes),
      jsonBytesPerMinute: Math.round(jsonBytes(session) / minutes),
      wireOverJson: Math.round((wireBytes(session) / jsonBytes(session)) * 1000) / 1000,
      wireBytesPerBatch: Math.round(wireBytes(session) / session.length),
      jsonBytesPerBatch: Math.round(jsonBytes(session) / session.length),
      batchesJson: session.map((f) => f.json),
    };
  } finally {
    await context.close();
  }
}

/** The compression's main-thread cost in Chromium, on real batches. */
async function mainThreadScenario(burstBatches, sessionBatches) {
  const context = await browser.newContext();
  try {
    const page = await context.newPage();
    await page.goto(`${site.url}/bench/pages/compress.html`);
    await page.waitForFunction(() => window.ready === true);
    const measure = async (batches) => {
      const { compress, decompress } = await page.evaluate((list) => window.time(list), batches);
      const ms = (xs) => ({
        median: Math.round(median(xs) * 10000) / 10000,
        best: Math.round(Math.min(...xs) * 10000) / 10000,
      });
      return {
        batches: batches.length,
        meanJsonBytes: Math.round(sum(batches, (b) => Buffer.byteLength(b)) / batches.length),
        compressMsPerBatch: ms(compress),
        decompressMsPerBatch: ms(decompress),
      };
    };
    return { burstBatches: await measure(burstBatches), sessionBatches: await measure(sessionBatches) };
  } finally {
    await context.close();
  }
}

async function main() {
  const loadBefore = loadavg()[0];
  const sides = [...(BEFORE ? ['before'] : []), 'after', ...(UPLINK ? ['after+uplink'] : [])];
  [site, browser] = await Promise.all([startSite(), launchBrowser()]);
  relays.after = await startRelayAt(REPO);
  if (BEFORE) relays.before = await startRelayAt(BEFORE);
  if (UPLINK) {
    const config = join(tmpdir(), `wire-uplink-${process.pid}.json`);
    writeFileSync(config, JSON.stringify({ compressUplink: true }));
    relays['after+uplink'] = await startRelayAt(REPO, ['--config', config]);
  }
  log(
    `pages ${site.url}; ${sides.map((side) => `${side}: ${relays[side].url}`).join('; ')}${BEFORE ? ` (before: ${BEFORE})` : ''}`,
  );
  const results = {};
  for (const side of sides) {
    log(`${side}: snapshot and bursts`);
    results[side] = await tableScenario(side);
  }
  for (const side of sides) {
    log(`${side}: a ${SESSION_S} s session`);
    results[side].session = await sessionScenario(side);
  }
  log('main-thread cost of the compression (this tree)');
  const mainThread = await mainThreadScenario(results.after.bursts.same.batchesJson, results.after.session.batchesJson);
  for (const side of sides) {
    for (const burst of Object.values(results[side].bursts)) delete burst.batchesJson;
    delete results[side].session.batchesJson;
  }

  const rows = [];
  const row = (metric, get) => rows.push([metric, ...sides.map((s) => String(get(results[s]) ?? '—'))]);
  row(
    'full snapshot: wire / JSON (10,000-node page)',
    (r) => `${r.snapshot.wireOverJson} (${r.snapshot.wire} / ${r.snapshot.json} B, z ${r.snapshot.z})`,
  );
  for (const pick of ['same', 'random']) {
    const name = pick === 'same' ? '100 cells/frame, same cells' : '100 cells/frame, random cells';
    row(`${name}: KB/s on the wire at 60 frames/s`, (r) => r.bursts[pick].kBps60);
    row(
      `${name}: wire B/frame (JSON B/frame)`,
      (r) => `${r.bursts[pick].wireBytesPerFrame} (${r.bursts[pick].jsonBytesPerFrame})`,
    );
    row(`${name}: KB/s measured (frames/s reached)`, (r) => `${r.bursts[pick].kBpsMeasured} (${r.bursts[pick].fps})`);
  }
  row(`typical session: wire KB per minute, snapshot apart (${SESSION_S} s)`, (r) =>
    (r.session.wireBytesPerMinute / 1000).toFixed(1),
  );
  row('typical session: JSON KB per minute', (r) => (r.session.jsonBytesPerMinute / 1000).toFixed(1));
  row(
    'typical session: wire B/batch (JSON B/batch)',
    (r) => `${r.session.wireBytesPerBatch} (${r.session.jsonBytesPerBatch})`,
  );
  row(
    'typical session: snapshot on the wire, B (JSON B)',
    (r) => `${r.session.snapshotWireBytes} (${r.session.snapshotJsonBytes})`,
  );
  const header = ['metric', ...sides];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells) => `| ${cells.map((c, i) => c.padEnd(widths[i])).join(' | ')} |`;
  const table = [line(header), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...rows.map(line)].join('\n');

  const report = {
    name: 'cobrowse-sdk wire bench: bytes from the customer page',
    date: new Date().toISOString(),
    machine: {
      cpus: cpus().length,
      chromium: browser.version(),
      loadAverage1m: { before: loadBefore, after: loadavg()[0] },
    },
    sides: {
      after: REPO,
      ...(BEFORE ? { before: BEFORE } : {}),
      ...(UPLINK ? { 'after+uplink': 'this tree, relay with compressUplink: true' } : {}),
    },
    results,
    mainThread,
  };
  process.stdout.write(
    `\n${table}\n\nmain-thread cost (Chromium, ms per batch: median and best of 7 rounds): ${JSON.stringify(mainThread, null, 2)}\n`,
  );
  const dir = join(REPO, 'bench/results');
  mkdirSync(dir, { recursive: true });
  // A shorter session is a trial: it never replaces wire-latest.json.
  const name = SESSION_S === 60 ? 'wire-latest.json' : `trial-wire-${report.date.replace(/[:.]/g, '-')}.json`;
  writeFileSync(join(dir, name), JSON.stringify(report, null, 2) + '\n');
  process.stdout.write(`\nwrote bench/results/${name}\n`);
}

main()
  .catch((error) => {
    log(`failed: ${error?.stack ?? error}`);
    process.exitCode = 1;
  })
  .finally(async () => {
    await Promise.allSettled([browser?.close(), site?.close(), ...Object.values(relays).map((r) => r.stop())]);
  });
