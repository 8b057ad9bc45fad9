// `npm run bench`: this SDK side by side with the naive setup (plain rrweb live mode over a plain
// `ws` relay that caches the last full snapshot), in one run, in one Chromium, on 127.0.0.1.
// Prints a markdown table (rows 1–10), the fidelity table and the JSON, and writes
// bench/results/latest.json plus a timestamped copy. Rows 1–5 are here; 6/7 (burst), 8 (first
// snapshot), 9 (typical session), 10 (relay memory) and the fidelity table are in bench/lib/.
//
// For trials only: `--only 6,7,fidelity` (or BENCH_ROWS=…) runs a subset of the rows (the rest print
// as "—" or are left out), and BENCH_RELAY_ARGS='--config relay.json' passes extra arguments to the
// relay process. A trial never replaces latest.json.
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';
import { join } from 'node:path';
import zlib, { gzipSync, inflateRawSync } from 'node:zlib';
import { launchBrowser } from '../test-support/browser.mjs';
import { startNaiveRelay } from './lib/naive-relay.mjs';
import { CORPUS, REPO, startRelay, startSite } from '../test-support/processes.mjs';
import { fmtBytes, fmtMs, fmtRatio, median, ratio, summarize } from './lib/stats.mjs';
import { burstScenario } from './lib/burst.mjs';
import { firstSnapshotScenario } from './lib/first-snapshot.mjs';
import { sessionBytesScenario } from './lib/session-bytes.mjs';
import { relayMemoryScenario } from './lib/relay-memory.mjs';
import { FIDELITY, corpusFidelityScenario } from '../test-support/fidelity.mjs';
import { bucketSummary } from './lib/cpu-profile.mjs';

const CONFIG = {
  /** Row 1: agent live first, then the customer shares; `warmup` unmeasured mutations, then N spaced gap ms apart. */
  live: { warmup: 10, n: 200, gapMs: [30, 50], boundMs: 5000 },
  /** Row 2: the same with the customer's Date 5 minutes ahead. */
  skew: { warmup: 10, n: 100, gapMs: [30, 50], boundMs: 5000, skewMs: 5 * 60_000 },
  /** Row 3: the customer shares and keeps changing the page (pre), the agent joins 2 s in, then N measured mutations. */
  late: { pre: 80, preGapMs: [30, 50], joinAfterMs: 2000, warmup: 10, n: 50, gapMs: [30, 50], boundMs: 5000 },
  /**
   * Row 4/5: a page already shared; `trials` agents join one after another. One page per entry of
   * `sizes` (table rows of 9 nodes: 1,100 ≈ 10,000 nodes, the page of row 5 and the bars; 50 = 200
   * cells; 2,100 ≈ 19,000 nodes); with `profile`, one more join per page runs under the CPU profiler.
   */
  big: { trials: 7, timeoutMs: 10_000, sizes: [1100, 50, 2100], profile: true },
  /**
   * Rows 6/7: 2,000 nodes replaced every animation frame for 5 s, on four setups (no recording,
   * record() alone, ours + agent, naive + agent) interleaved `rounds` times; `afterMs` = how long the
   * agent is given after the burst to show its last frame; `settleMs` = quiet time before each burst.
   */
  burst: { rounds: 4, durationMs: 5000, nodes: 2000, afterMs: 5000, settleMs: 300 },
  /**
   * Row 8: sharing of the 10,000- and 20,000-node pages (big.html with `rows` table rows) starts
   * `trials` times per setup (record() alone, ours, naive), interleaved.
   */
  first: { trials: 4, rows: [1100, 2200], settleMs: 700, timeoutMs: 10_000, afterMs: 400 },
  /** Row 9: a scripted session on bench/pages/session.html, ours and naive at once; bytes per minute = bytes × 60 s / window. */
  session: { durationMs: 30_000 },
  /** Row 10: rooms (1 recorder sending row 9's session + 1 replayer) opened `parallel` at a time on a relay process of their own, after `warmupRooms`. */
  memory: { rooms: 200, warmupRooms: 10, parallel: 10 },
  /** How long to wait for an agent to render the customer's first page before measuring anyway. */
  renderTimeoutMs: 5000,
  /** The whole run is killed after this (it takes about 5 minutes on a loaded 2-core machine). */
  budgetMs: 9 * 60_000,
};

const SIDES = ['ours', 'naive'];
/** Results key of row 4's page of `rows` table rows (`big`: the 10,000-node page). */
const bigKey = (rows) => (rows === 1100 ? 'big' : `big${rows}`);
/** `--only 6,7` (or BENCH_ROWS=6,7): run these rows only. Rows 6 and 7 come from one scenario, as do 4 and 5. */
function onlyRows() {
  const i = process.argv.findIndex((a) => a === '--only' || a.startsWith('--only='));
  const value =
    i === -1
      ? process.env.BENCH_ROWS
      : process.argv[i].startsWith('--only=')
        ? process.argv[i].slice(7)
        : process.argv[i + 1];
  if (i !== -1 && !value) throw new Error('--only needs a list of rows, e.g. --only 6,7,fidelity');
  return value ? new Set(value.split(',').map((r) => r.trim().toLowerCase())) : undefined;
}
const ROWS = onlyRows();
const RELAY_ARGS = process.env.BENCH_RELAY_ARGS ? process.env.BENCH_RELAY_ARGS.split(/\s+/).filter(Boolean) : [];
const wanted = (row) => !ROWS || ROWS.has(row);
const started = Date.now();
const log = (...args) =>
  process.stderr.write(`[bench ${((Date.now() - started) / 1000).toFixed(1).padStart(5)}s] ${args.join(' ')}\n`);
const sleep = (ms) => new Promise((done) => setTimeout(done, ms));

let browser;
let relay;
let naive;
let naiveAll;
let site;
let rooms = 0;
const roomId = (tag) => `bench-${process.pid}-${tag}-${++rooms}`;

async function cleanup() {
  await Promise.allSettled([browser?.close(), relay?.stop(), naive?.close(), naiveAll?.close(), site?.close()]);
}

const watchdog = setTimeout(() => {
  log(`over the ${CONFIG.budgetMs / 1000} s budget: giving up`);
  cleanup().finally(() => process.exit(1));
}, CONFIG.budgetMs);
watchdog.unref();
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.once(signal, () => {
    log(`${signal}: stopping`);
    cleanup().finally(() => process.exit(130));
  });
}

// ---------------------------------------------------------------------------------------------
// Pages

/** `naive-all` is the naive pages against the naive relay variant that replays every event since the snapshot. */
function pageUrl(page, side, room, extra = {}) {
  const relayUrl = { ours: relay.url, naive: naive.url, 'naive-all': naiveAll.url }[side];
  const params = new URLSearchParams({ mode: side === 'ours' ? 'ours' : 'naive', relay: relayUrl, room, ...extra });
  return `${site.url}/bench/pages/${page}?${params}`;
}

/** A context whose pages keep the real Date.now as __benchRealNow, and optionally see a clock `skewMs` ahead. */
async function newContext(skewMs = 0) {
  const context = await browser.newContext({ viewport: { width: 1024, height: 768 } });
  await context.addInitScript((skew) => {
    const realNow = Date.now.bind(Date);
    window.__benchRealNow = realNow;
    if (!skew) return;
    const RealDate = Date;
    Date.now = () => realNow() + skew;
    globalThis.Date = class extends RealDate {
      constructor(...args) {
        super(...(args.length ? args : [realNow() + skew]));
      }
      static now() {
        return realNow() + skew;
      }
    };
  }, skewMs);
  return context;
}

/** Polls `fn(arg)` in the page until truthy; false after `timeout` ms. */
async function waitFor(page, fn, arg, timeout) {
  try {
    await page.waitForFunction(fn, arg, { timeout, polling: 10 });
    return true;
  } catch (error) {
    if (/Timeout/i.test(String(error?.message))) return false;
    throw error;
  }
}

async function openPage(context, page, side, room, extra, onPage) {
  const tab = await context.newPage();
  tab.on('pageerror', (error) => log(`${side} ${page}: page error: ${error.message}`));
  onPage?.(tab);
  await tab.goto(pageUrl(page, side, room, extra));
  await tab.evaluate(() => window.bench.ready);
  return tab;
}

async function waitLive(tab, what) {
  if (!(await waitFor(tab, () => window.bench.liveStatus() === 'live', undefined, 10_000))) {
    const errors = await tab.evaluate(() => window.bench.errors);
    throw new Error(`${what} did not go live: ${errors.join('; ')}`);
  }
}

async function openCustomer(context, side, room, page = 'probe.html', onPage, extra = {}) {
  const tab = await openPage(context, page, side, room, extra, onPage);
  await waitLive(tab, `${side} customer`);
  return tab;
}

async function openAgent(context, side, room, extra = {}) {
  const tab = await openPage(context, 'agent.html', side, room, extra);
  if (extra.auto !== '0') await waitLive(tab, `${side} agent`);
  return tab;
}

const hasProbe = () => !!window.bench.replayDoc()?.getElementById('probe');

/** The two pages' clocks (performance.timeOrigin + now) compared through the real wall clock: customer − agent, ms. */
async function clockOffset(customer, agent) {
  const [c, a] = await Promise.all([
    customer.evaluate(() => window.bench.clockCheck()),
    agent.evaluate(() => window.bench.clockCheck()),
  ]);
  return Math.round((c - a) * 1000) / 1000;
}

/** Runs `n` stamped mutations on the customer and collects their arrival in the agent's replay. */
async function measureMutations(customer, agent, prefix, n, [minGap, maxGap], boundMs) {
  const stamps = await customer.evaluate(
    ([p, count, lo, hi]) => window.bench.mutate(p, count, lo, hi, false),
    [prefix, n, minGap, maxGap],
  );
  const lastStamp = stamps[stamps.length - 1][1];
  // Every mutation's window closes at most boundMs after the last one was made.
  await waitFor(
    agent,
    ([p, count]) => window.bench.arrivals.filter(([id]) => id.startsWith(p + '-')).length >= count,
    [prefix, n],
    boundMs + 200,
  );
  const arrivals = new Map(await agent.evaluate(() => window.bench.arrivals));
  const latencies = [];
  let late = 0;
  for (const [id, t] of stamps) {
    const at = arrivals.get(id);
    if (at === undefined) continue;
    if (at - t <= boundMs) latencies.push(at - t);
    else late++;
  }
  const gaps = stamps.slice(1).map(([, t], i) => t - stamps[i][1]);
  return {
    sent: n,
    arrived: latencies.length,
    arrivedLate: late,
    boundMs,
    latencyMs: summarize(latencies),
    spacingMs: summarize(gaps),
    durationMs: Math.round(lastStamp - stamps[0][1]),
    samples: latencies.map((x) => Math.round(x * 1000) / 1000),
  };
}

async function diagnostics(agent) {
  return agent.evaluate(() => ({
    errors: window.bench.errors.slice(0, 5),
    pending: window.bench.pending(),
    snapshots: window.bench.snapshots,
  }));
}

// ---------------------------------------------------------------------------------------------
// Scenarios

/** Rows 1 and 2: the agent is watching first, then the customer shares (optionally with a skewed clock). */
async function liveScenario(side, { skewMs = 0, warmup = 0, n, gapMs, boundMs }) {
  const room = roomId(skewMs ? 'skew' : 'live');
  const agentContext = await newContext();
  const customerContext = await newContext(skewMs);
  try {
    const agent = await openAgent(agentContext, side, room);
    const customer = await openCustomer(customerContext, side, room);
    const sharedAt = Date.now();
    const rendered = await waitFor(agent, hasProbe, undefined, CONFIG.renderTimeoutMs);
    const renderWaitMs = Date.now() - sharedAt;
    if (skewMs) {
      const seen = await customer.evaluate(() => Date.now() - window.__benchRealNow());
      if (Math.abs(seen - skewMs) > 1000) throw new Error(`the customer's clock skew did not take (${seen} ms)`);
    }
    const offset = await clockOffset(customer, agent);
    if (warmup)
      await customer.evaluate(
        ([count, [lo, hi]]) => window.bench.mutate('warmup', count, lo, hi, false),
        [warmup, gapMs],
      );
    const result = await measureMutations(customer, agent, 'm', n, gapMs, boundMs);
    return {
      ...result,
      skewMs,
      rendered,
      renderWaitMs: rendered ? renderWaitMs : null,
      clockOffsetMs: offset,
      ...(await diagnostics(agent)),
    };
  } finally {
    await Promise.allSettled([agentContext.close(), customerContext.close()]);
  }
}

/** Row 3: the customer shares a busy page; the agent joins while it keeps changing, then N measured mutations. */
async function lateJoinScenario(side, { pre, preGapMs, joinAfterMs, warmup, n, gapMs, boundMs }) {
  const room = roomId('late');
  const customerContext = await newContext();
  const agentContext = await newContext();
  try {
    const customer = await openCustomer(customerContext, side, room);
    await customer.evaluate(
      ([count, [lo, hi]]) => {
        window.benchPre = window.bench.mutate('pre', count, lo, hi, true);
      },
      [pre, preGapMs],
    );
    await sleep(joinAfterMs);
    const joinedAt = Date.now();
    const agent = await openAgent(agentContext, side, room);
    const rendered = await waitFor(agent, hasProbe, undefined, CONFIG.renderTimeoutMs);
    const renderWaitMs = Date.now() - joinedAt;
    await customer.evaluate(() => window.benchPre);
    await sleep(500);
    // Does the late joiner show the customer's current page (every row added before and during the join)?
    const customerRows = await customer.evaluate(() => document.querySelectorAll('#log li').length);
    const agentRows = await agent.evaluate(() => window.bench.replayDoc()?.querySelectorAll('#log li').length ?? 0);
    const offset = await clockOffset(customer, agent);
    if (warmup)
      await customer.evaluate(
        ([count, [lo, hi]]) => window.bench.mutate('warmup', count, lo, hi, false),
        [warmup, gapMs],
      );
    const result = await measureMutations(customer, agent, 'm', n, gapMs, boundMs);
    return {
      ...result,
      rendered,
      renderWaitMs: rendered ? renderWaitMs : null,
      rowsOnCustomer: customerRows,
      rowsInReplay: agentRows,
      replayCurrent: customerRows === agentRows,
      clockOffsetMs: offset,
      ...(await diagnostics(agent)),
    };
  } finally {
    await Promise.allSettled([agentContext.close(), customerContext.close()]);
  }
}

/** Splits one of our frames: JSON header, newline, payload (deflate-raw when header.z === 1, or 2 for a snapshot batch). */
function decodeOurFrame(payload) {
  const bytes = typeof payload === 'string' ? Buffer.from(payload) : Buffer.from(payload);
  const nl = bytes.indexOf(0x0a);
  const header = JSON.parse(bytes.subarray(0, nl === -1 ? bytes.length : nl).toString());
  const body = nl === -1 ? Buffer.alloc(0) : bytes.subarray(nl + 1);
  // z: 2 = a history of sync-flushed deflate-raw batches; a snapshot batch starts one, so it inflates alone.
  const json =
    header.z === 1
      ? inflateRawSync(body).toString()
      : header.z === 2 && header.snap
        ? inflateRawSync(body, { finishFlush: zlib.Z_SYNC_FLUSH }).toString()
        : body.toString();
  return { header, wireBytes: bytes.length, binary: typeof payload !== 'string', json };
}

/**
 * A full snapshot as the recorder sends it: the snap batch and the batches after it until the page
 * has sent nothing for 600 ms (the bench page is static once built). Wire bytes, and the JSON they
 * carry: `z: 1` batches inflate alone, `z: 2` batches are one deflate stream from the snap batch on.
 */
async function slicedSnapshot(frames, timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  let seen = -1;
  let quietSince = Date.now();
  while (Date.now() < deadline && Date.now() - quietSince < 600) {
    if (frames.length !== seen) {
      seen = frames.length;
      quietSince = Date.now();
    }
    await sleep(50);
  }
  const decoded = [];
  for (const payload of frames) {
    const bytes = Buffer.from(payload);
    const nl = bytes.indexOf(0x0a);
    let header;
    try {
      header = JSON.parse(bytes.subarray(0, nl === -1 ? bytes.length : nl).toString());
    } catch {
      continue;
    }
    if (header.type === 'events') decoded.push({ header, wireBytes: bytes.length, body: bytes.subarray(nl + 1) });
  }
  const first = decoded.findIndex((f) => f.header.snap);
  const taken = decoded.slice(first);
  const texts = [];
  const stream = [];
  for (const f of taken) {
    if (f.header.z === 1) texts.push(inflateRawSync(f.body).toString());
    else if (f.header.z === 2) stream.push(f.body);
    else texts.push(f.body.toString());
  }
  if (stream.length) texts.push(inflateRawSync(Buffer.concat(stream), { finishFlush: zlib.Z_SYNC_FLUSH }).toString());
  const json = texts.join('');
  return {
    frames: taken.length,
    wireBytes: taken.reduce((sum, f) => sum + f.wireBytes, 0),
    jsonBytes: Buffer.byteLength(json),
    json,
  };
}

/**
 * Rows 4 and 5: a page of `rows` table rows (1,100: ~10,000 nodes) is shared; agents join it; its
 * full snapshot's size on the wire. With `profile`, one more join runs under the CPU profiler.
 */
/** Median, min–max and per-phase medians of a set of joins (ms after join(); null = did not render). */
function summarizeJoins(joins, phases) {
  const rendered = joins.filter((x) => x !== null);
  return {
    trials: joins.length,
    rendered: rendered.length,
    medianMs: rendered.length ? median(rendered) : null,
    minMs: rendered.length ? Math.min(...rendered) : null,
    maxMs: rendered.length ? Math.max(...rendered) : null,
    samplesMs: joins,
    phasesMs: Object.fromEntries(
      Object.keys(phases[0] ?? {}).map((key) => {
        const values = phases.map((p) => p[key]).filter((v) => typeof v === 'number');
        return [key, values.length ? median(values) : null];
      }),
    ),
  };
}

async function bigPageScenario(side, { trials, timeoutMs, rows = 1100, profile = false }) {
  const room = roomId(`big${rows}`);
  const customerContext = await newContext();
  const frames = [];
  try {
    const customer = await openCustomer(
      customerContext,
      side,
      room,
      'big.html',
      (tab) => {
        // Attached before the page loads, so the first frames are seen.
        tab.on('websocket', (ws) => ws.on('framesent', (frame) => frames.push(frame.payload)));
      },
      { rows: String(rows) },
    );
    const nodes = await customer.evaluate(() => {
      const walker = document.createTreeWalker(document, NodeFilter.SHOW_ALL);
      let count = 0;
      while (walker.nextNode()) count++;
      return { nodes: count, elements: document.getElementsByTagName('*').length };
    });

    // Wait until the full snapshot has been sent.
    const findSnapshot = () => {
      if (side === 'ours') {
        for (const payload of frames) {
          let frame;
          try {
            frame = decodeOurFrame(payload);
          } catch {
            continue;
          }
          if (frame.header.type === 'events' && frame.header.snap) return frame;
        }
        return undefined;
      }
      const texts = frames.filter((p) => typeof p === 'string');
      const full = texts.find((t) => t.startsWith('{"type":2'));
      if (!full) return undefined;
      const meta = texts
        .slice(0, texts.indexOf(full))
        .filter((t) => t.startsWith('{"type":4'))
        .pop();
      return { meta, full };
    };
    const deadline = Date.now() + timeoutMs;
    let snapshot;
    while (!(snapshot = findSnapshot()) && Date.now() < deadline) await sleep(20);
    if (!snapshot) throw new Error(`${side}: the ${nodes.nodes}-node page's full snapshot was never sent`);
    await sleep(500); // the relay has it cached by now

    let wire;
    if (side === 'ours') {
      // The recorder sends a big page's snapshot in time slices (snapshot-slices.ts): the snap batch,
      // then the rest of the page as add mutations. All of them count, until the static page goes quiet.
      const sliced = await slicedSnapshot(frames, timeoutMs);
      const events = JSON.parse(snapshot.json);
      const full = events.find((e) => e.type === 2);
      wire = {
        frames: sliced.frames,
        binary: snapshot.binary,
        compressed: (snapshot.header.z ?? 0) !== 0,
        wireBytes: sliced.wireBytes,
        jsonBytes: sliced.jsonBytes,
        eventsInFrame: events.length,
        fullSnapshotEventJsonBytes: Buffer.byteLength(JSON.stringify(full)),
        gzipJsonBytes: gzipSync(sliced.json).length,
      };
    } else {
      const texts = [snapshot.meta, snapshot.full].filter(Boolean);
      const bytes = texts.reduce((sum, t) => sum + Buffer.byteLength(t), 0);
      wire = {
        frames: texts.length,
        binary: false,
        compressed: false,
        wireBytes: bytes,
        jsonBytes: bytes,
        eventsInFrame: 1,
        fullSnapshotEventJsonBytes: Buffer.byteLength(snapshot.full),
        gzipJsonBytes: gzipSync(texts.join('')).length,
      };
    }
    wire.wireOverJson = Math.round((wire.wireBytes / wire.jsonBytes) * 10000) / 10000;
    const snapshotFrames = () =>
      side === 'ours'
        ? frames.filter((p) => {
            try {
              return decodeOurFrame(p).header.snap === true;
            } catch {
              return false;
            }
          }).length
        : frames.filter((p) => typeof p === 'string' && p.startsWith('{"type":2')).length;
    wire.gzipOverJson = Math.round((wire.gzipJsonBytes / wire.jsonBytes) * 10000) / 10000;

    /** One agent joins in a context of its own; with `profile`, under Chromium's CPU profiler (not one of the timed joins). */
    const joinOnce = async (profile, prepared = false) => {
      const agentContext = await newContext();
      try {
        const agent = await openAgent(agentContext, side, room, { auto: '0', watchFor: 'last', trace: '1' });
        // Playwright compiles its injected script on the first waitForFunction (10–20 ms of main thread): not inside the measured window.
        await waitFor(agent, () => true, undefined, 5000);
        // ours with prepare(): the view is built and warmed up (warm-up.ts) before the clock starts, as naive's Replayer is built before its own.
        // 'room': prepare() knows the room too, and opens the socket ahead.
        if (prepared) await agent.evaluate((forRoom) => window.bench.prepare(forRoom), prepared === 'room');
        const cdp = profile ? await agentContext.newCDPSession(agent) : undefined;
        if (cdp) {
          await cdp.send('Profiler.enable');
          await cdp.send('Profiler.setSamplingInterval', { interval: 200 });
        }
        await sleep(50);
        if (cdp) await cdp.send('Profiler.start');
        await agent.evaluate(() => {
          window.bench.join();
        });
        const found = await waitFor(agent, () => window.bench.foundAt !== undefined, undefined, timeoutMs);
        const cpu = cdp ? (await cdp.send('Profiler.stop')).profile : undefined;
        if (!found) {
          log(
            `${side}: an agent did not render the ${nodes.nodes}-node page within ${timeoutMs} ms`,
            JSON.stringify(await diagnostics(agent)),
          );
          return { ms: null };
        }
        // Where the time went, ms after join() / new WebSocket.
        const marks = await agent.evaluate(() => {
          const { marks, joinAt, foundAt } = window.bench;
          const at = (t) => (t === undefined ? null : Math.round((t - joinAt) * 10) / 10);
          return {
            // ours: the connection-info reply's last byte, before join() resolves.
            connectionInfo: at(window.bench.connectionInfoEnd()),
            joinResolved: at(marks.joinResolved),
            socketCreated: at(marks.socketCreated),
            socketOpen: at(marks.open),
            // The first frame sent after join(): a prepared view's hello on a socket opened ahead.
            firstSend: at(marks.firstSend),
            firstMessage: at(marks.firstMessage),
            lastMessageBeforeRender: at(marks.lastMessageBeforeFound),
            messagesBeforeRender: marks.messagesBeforeFound,
            snapshotEvent: at(marks.snapshotEvent),
            // naive only: building rrweb's Replayer (iframe) before the clock starts at new WebSocket.
            replayerSetupBeforeStart:
              marks.replayerStart === undefined ? null : Math.round((joinAt - marks.replayerStart) * 10) / 10,
            lastElementInReplay: at(foundAt),
          };
        });
        const ms = marks.lastElementInReplay;
        return {
          ms,
          marks,
          profile:
            cpu &&
            bucketSummary(cpu, {
              connectionInfo: marks.connectionInfo,
              socketCreated: marks.socketCreated,
              socketOpen: marks.socketOpen,
              lastFrame: marks.lastMessageBeforeRender,
              rendered: ms,
              setup: marks.replayerSetupBeforeStart ?? 0,
            }),
        };
      } finally {
        await agentContext.close();
      }
    };
    const joins = [];
    const phases = [];
    // ours: each join is paired with one whose view was built ahead by prepare() and one whose view
    // was prepared for the room (socket opened ahead), the order turned each round.
    const preparedJoins = [];
    const preparedPhases = [];
    const parkedJoins = [];
    const parkedPhases = [];
    const kinds = [false, 'view', 'room'];
    for (let i = 0; i < trials; i++) {
      const order = side === 'ours' ? [0, 1, 2].map((k) => kinds[(k + i) % 3]) : [false];
      for (const prepared of order) {
        const { ms, marks } = await joinOnce(false, prepared);
        const [into, intoPhases] =
          prepared === 'room'
            ? [parkedJoins, parkedPhases]
            : prepared
              ? [preparedJoins, preparedPhases]
              : [joins, phases];
        into.push(ms);
        if (marks) intoPhases.push(marks);
      }
    }
    const profiled = profile ? await joinOnce(true) : undefined;
    // Agents joining should be served from the relay's cache, not make the customer snapshot again.
    wire.snapshotsSentDuringScenario = snapshotFrames();
    return {
      page: nodes,
      firstRender: {
        ...summarizeJoins(joins, phases),
        timeoutMs,
        // naive: counted from new rrweb.Replayer (its setup included, as ours includes it in join()).
        medianWithSetupMs: phases.length
          ? median(phases.map((p) => p.lastElementInReplay + (p.replayerSetupBeforeStart ?? 0)))
          : null,
        phasesPerJoin: phases,
        // Main-thread self time (ms) of one more join under the CPU profiler, per phase, by bucket.
        ...(profiled?.profile ? { profile: profiled.profile, profiledJoinMs: profiled.ms } : {}),
      },
      ...(preparedJoins.length ? { firstRenderPrepared: summarizeJoins(preparedJoins, preparedPhases) } : {}),
      ...(parkedJoins.length ? { firstRenderParked: summarizeJoins(parkedJoins, parkedPhases) } : {}),
      snapshot: wire,
    };
  } finally {
    await customerContext.close();
  }
}

// ---------------------------------------------------------------------------------------------
// Report

/** get(side) or undefined when that side's scenario failed. */
const safe = (get, side) => {
  try {
    return get(side);
  } catch {
    return undefined;
  }
};

function buildTable(r) {
  const rows = [];
  const ms = (metric, get) => {
    const o = safe(get, r.ours);
    const nv = safe(get, r.naive);
    rows.push({
      metric,
      ours: fmtMs(o),
      naive: fmtMs(nv),
      ratio: fmtRatio(ratio(o, nv)),
      values: { ours: o ?? null, naive: nv ?? null, ratio: ratio(o, nv) },
    });
  };
  const text = (metric, get) =>
    rows.push({ metric, ours: safe(get, r.ours) ?? 'error', naive: safe(get, r.naive) ?? 'error', ratio: '—' });
  const arrived = (x) => `${x.arrived} of ${x.sent}${x.arrivedLate ? ` (+${x.arrivedLate} later)` : ''}`;

  const l = CONFIG.live;
  ms(`1. mutation → agent DOM, p50 ms (${l.n} × ${l.gapMs.join('–')} ms)`, (s) => s.live.latencyMs.p50);
  ms('1. mutation → agent DOM, p95 ms', (s) => s.live.latencyMs.p95);
  ms('1. mutation → agent DOM, p99 ms', (s) => s.live.latencyMs.p99);
  text(`1. arrived within ${l.boundMs / 1000} s`, (s) => arrived(s.live));
  const k = CONFIG.skew;
  const queued = (p) =>
    p && p.actions ? `; ${p.actions} events queued by rrweb, next due in ${Math.round(p.nextDueInMs / 1000)} s` : '';
  text(
    `2. customer clock +${k.skewMs / 60_000} min: arrived within ${k.boundMs / 1000} s`,
    (s) => arrived(s.skew) + (s.skew.rendered ? '' : ', page never rendered') + queued(s.skew.pending),
  );
  ms('2. customer clock +5 min: p50 ms', (s) => s.skew.latencyMs.p50);
  ms('2. customer clock +5 min: p95 ms', (s) => s.skew.latencyMs.p95);
  ms('2. customer clock +5 min: p99 ms', (s) => s.skew.latencyMs.p99);
  const j = CONFIG.late;
  text(
    `3. late join (${j.joinAfterMs / 1000} s in, page busy): arrived within ${j.boundMs / 1000} s`,
    (s) => arrived(s.late) + (s.late.rendered ? '' : ', page never rendered'),
  );
  ms('3. late join: p50 ms', (s) => s.late.latencyMs.p50);
  ms('3. late join: p95 ms', (s) => s.late.latencyMs.p95);
  ms('3. late join: p99 ms', (s) => s.late.latencyMs.p99);
  const current = (x) => `${x.replayCurrent ? 'yes' : 'NO'} (${x.rowsInReplay}/${x.rowsOnCustomer})`;
  text('3. late join: replay shows the current page (#log rows agent/customer)', (s) => current(s.late));
  const all = r['naive-all'];
  rows.push({
    metric: `3b. late join, naive relay variant replaying every event since the snapshot: arrived within ${j.boundMs / 1000} s`,
    ours: safe((s) => `${arrived(s.late)} (row 3)`, r.ours) ?? 'error',
    naive: safe((s) => arrived(s.late) + (s.late.rendered ? '' : ', page never rendered'), all) ?? 'error',
    ratio: '—',
  });
  rows.push({
    metric: '3b. … replay shows the current page (#log rows agent/customer)',
    ours: safe((s) => `${current(s.late)} (row 3)`, r.ours) ?? 'error',
    naive: safe((s) => current(s.late), all) ?? 'error',
    ratio: '—',
  });
  // Row 4 for each page size (CONFIG.big.sizes; `big` is the 10,000-node page rows 5 and the bars read).
  for (const size of CONFIG.big.sizes) {
    const key = bigKey(size);
    const big = (s) => s[key];
    const nodes = safe((s) => big(s).page.nodes, r.ours) ?? safe((s) => big(s).page.nodes, r.naive) ?? size * 9;
    const page = `${nodes.toLocaleString('en')}-node page`;
    ms(`4. join → first render of ${page}, median ms (${CONFIG.big.trials} joins)`, (s) => big(s).firstRender.medianMs);
    ms(
      `4. … ${page}, naive's clock started at new rrweb.Replayer (its iframe setup counted, as ours counts it)`,
      (s) => big(s).firstRender.medianWithSetupMs,
    );
    ms(
      `4. … ${page}, ours with its view built ahead by prepare() (as naive's Replayer is, before its clock; the relay's socket opened ahead too)`,
      (s) => (big(s).firstRenderPrepared ?? big(s).firstRender).medianMs,
    );
    text(
      `4. ${page}, ours prepared: median ms to: connection info → signed hello sent → first message → last frame in → rendered`,
      (s) => {
        const p = big(s).firstRenderPrepared?.phasesMs;
        if (!p) return '—';
        return [p.connectionInfo, p.firstSend, p.firstMessage, p.lastMessageBeforeRender, p.lastElementInReplay]
          .map(fmtMs)
          .join(' → ');
      },
    );
    ms(
      `4. … ${page}, ours with its view prepared for the room (connection info and socket made ahead; the join says hello)`,
      (s) => (big(s).firstRenderParked ?? big(s).firstRender).medianMs,
    );
    text(`4. ${page}, ours prepared for the room: median ms to: first message → last frame in → rendered`, (s) => {
      const p = big(s).firstRenderParked?.phasesMs;
      if (!p) return '—';
      return [p.firstMessage, p.lastMessageBeforeRender, p.lastElementInReplay].map(fmtMs).join(' → ');
    });
    text(`4. ${page}: first render, min–max ms (rendered/joins)`, (s) => {
      const f = big(s).firstRender;
      return f.rendered
        ? `${fmtMs(f.minMs)}–${fmtMs(f.maxMs)} (${f.rendered}/${f.trials})`
        : `none within ${f.timeoutMs / 1000} s (0/${f.trials})`;
    });
    text(`4. ${page}: median ms to: connection info → socket open → last frame in → rendered`, (s) => {
      const p = big(s).firstRender.phasesMs;
      const setup = p.replayerSetupBeforeStart
        ? ` (+${fmtMs(p.replayerSetupBeforeStart)} Replayer setup before start)`
        : p.joinResolved
          ? ` (join() resolved ${fmtMs(p.joinResolved)})`
          : '';
      return (
        [p.connectionInfo, p.socketOpen, p.lastMessageBeforeRender, p.lastElementInReplay].map(fmtMs).join(' → ') +
        setup
      );
    });
    if (CONFIG.big.profile)
      text(`4. ${page}: one profiled join, main-thread ms by phase (largest parts)`, (s) => {
        const f = big(s).firstRender;
        if (!f.profile) return '—';
        return Object.entries(f.profile)
          .map(([phase, parts]) => {
            const total = Object.values(parts).reduce((a, b) => a + b, 0);
            if (total < 0.5) return undefined;
            const top = Object.entries(parts)
              .slice(0, 4)
              .map(([k, v]) => `${k} ${fmtMs(v)}`)
              .join(', ');
            return `${phase.includes(' → ') ? phase.replace(/^.* → /, '→ ') : phase} ${fmtMs(total)}: ${top}`;
          })
          .filter(Boolean)
          .join('; ');
      });
  }
  const bytes = (metric, get) => {
    const o = safe(get, r.ours);
    const nv = safe(get, r.naive);
    rows.push({
      metric,
      ours: fmtBytes(o),
      naive: fmtBytes(nv),
      ratio: fmtRatio(ratio(o, nv)),
      values: { ours: o ?? null, naive: nv ?? null, ratio: ratio(o, nv) },
    });
  };
  bytes('5. full snapshot bytes on the wire', (s) => s.big.snapshot.wireBytes);
  bytes("5. full snapshot's JSON", (s) => s.big.snapshot.jsonBytes);
  const frac = (metric, get) => {
    const o = safe(get, r.ours);
    const nv = safe(get, r.naive);
    const f = (x) => (typeof x === 'number' ? x.toFixed(3) : '—');
    rows.push({
      metric,
      ours: f(o),
      naive: f(nv),
      ratio: fmtRatio(ratio(o, nv)),
      values: { ours: o ?? null, naive: nv ?? null, ratio: ratio(o, nv) },
    });
  };
  frac('5. wire / JSON', (s) => s.big.snapshot.wireOverJson);
  frac('5. gzip(JSON) / JSON (reference, node:zlib)', (s) => s.big.snapshot.gzipOverJson);
  text(
    '5. full snapshots the customer sent (1 + one per agent join = no cache)',
    (s) => `${s.big.snapshot.snapshotsSentDuringScenario} for ${s.big.firstRender.trials} joins`,
  );

  // Rows 6–10 and the fidelity table come from scenarios that ran both setups (and baselines) together.
  const both = r.both ?? {};
  const pair = (metric, get, fmt = fmtMs) => {
    const o = safe((x) => get(x, 'ours'), both);
    const nv = safe((x) => get(x, 'naive'), both);
    const show = (v) => (v === undefined || v === null ? '—' : typeof v === 'number' ? fmt(v) : v);
    const numeric = typeof o === 'number' && typeof nv === 'number';
    rows.push({
      metric,
      ours: show(o),
      naive: show(nv),
      ratio: numeric ? fmtRatio(ratio(o, nv)) : '—',
      ...(numeric ? { values: { ours: o, naive: nv, ratio: ratio(o, nv) } } : {}),
    });
  };
  const pct = (x) => (typeof x === 'number' ? `${x >= 0 ? '+' : ''}${x.toFixed(1)} %` : '—');
  const b = CONFIG.burst;
  const burst = both.burst?.summary;
  if (burst) {
    pair(
      `6. burst (${b.nodes.toLocaleString('en')} nodes replaced per frame, ${b.durationMs / 1000} s): agent's lag at the end of the burst, median ms (${b.rounds} bursts)`,
      (x, side) => x.burst.summary[side].lagAtEndMs,
    );
    pair(
      `6. … agent shows the customer's final frame, ms after the burst: median / worst (caught up within ${b.afterMs / 1000} s)`,
      (x, side) => {
        const v = x.burst.summary[side];
        if (v.backToLiveMs === null)
          return `not within ${b.afterMs / 1000} s (${v.caughtUp})${v.stillBehind ? `; ${v.stillBehind.framesBehind} frames behind, ${fmtMs(v.stillBehind.lagMs)} ms stale` : ''}`;
        return `${fmtMs(v.backToLiveMs)} / ${fmtMs(v.backToLiveMaxMs)} (${v.caughtUp})`;
      },
    );
    pair(
      '6. … update latency, p50 ms in the first → last second of the burst (a growing lag grows here)',
      (x, side) => {
        const v = x.burst.summary[side];
        return `${fmtMs(v.latencyFirstSecondP50)} → ${fmtMs(v.latencyLastSecondP50)}`;
      },
    );
    pair(
      `6. … customer frames per second (no recording: ${fmtMs(burst.none.fps)}; record() alone: ${fmtMs(burst.record.fps)})`,
      (x, side) => x.burst.summary[side].fps,
    );
    pair(
      `7. customer main thread per burst frame, CPU ms (no recording: ${fmtMs(burst.none.taskMsPerFrame)}; record() alone: ${fmtMs(burst.record.taskMsPerFrame)})`,
      (x, side) => x.burst.summary[side].taskMsPerFrame,
    );
    pair("7. … added over rrweb's record() alone: whole page / recording's own share", (x, side) => {
      const v = x.burst.summary[side];
      return `${pct(v.overRecordTotalPct)} / ${pct(v.overRecordAttributablePct)}`;
    });
    const solo = burst['ours-solo'];
    rows.push({
      metric:
        '7. … ours sharing with no agent watching (as record() alone: no replay competing for the cores): CPU ms per frame; added over record() alone',
      ours: `${fmtMs(solo.taskMsPerFrame)}; ${pct(solo.overRecordTotalPct)} / ${pct(solo.overRecordAttributablePct)}`,
      naive: '—',
      ratio: '—',
    });
  }
  const first = both.firstSnapshot?.summary;
  if (first) {
    const n = CONFIG.first.trials;
    // Long tasks are reported from 50 ms: a start with none reported had no task over 50 ms.
    const task = (v) => (v === 0 ? 'none over 50' : fmtMs(v));
    pair(
      `8. sharing starts on the 9,940-node page: longest main-thread task, median ms (${n} starts; record() alone: ${task(first.record.longestTaskMs)})`,
      (x, side) => x.firstSnapshot.summary[side].longestTaskMs,
      task,
    );
    const sizes = both.firstSnapshot.bySize ?? [first];
    sizes.forEach((size) => {
      rows.push({
        metric: `8. … ${fmtMs(size.record.nodes)}-node page: longest task, median ms — ours / record() alone (ratio); naive / record() alone (ratio)`,
        ours: `${task(size.ours.longestTaskMs)} / ${task(size.record.longestTaskMs)} (${fmtRatio(size.ours.longestOverRecord)})`,
        naive: `${task(size.naive.longestTaskMs)} / ${task(size.record.longestTaskMs)} (${fmtRatio(size.naive.longestOverRecord)})`,
        ratio: fmtRatio(ratio(size.ours.longestTaskMs, size.naive.longestTaskMs)),
      });
      rows.push({
        metric: `8. … ${fmtMs(size.record.nodes)}-node page: longest task as main-thread CPU (trace), median / worst ms — ours, naive; record() alone: ${fmtMs(size.record.longestTaskCpuMs)}`,
        ours: `${fmtMs(size.ours.longestTaskCpuMs)} / ${fmtMs(size.ours.longestTaskCpuMaxMs)} (${fmtRatio(size.ours.longestCpuOverRecord)} of record())`,
        naive: `${fmtMs(size.naive.longestTaskCpuMs)} / ${fmtMs(size.naive.longestTaskCpuMaxMs)} (${fmtRatio(size.naive.longestCpuOverRecord)} of record())`,
        ratio: fmtRatio(ratio(size.ours.longestTaskCpuMs, size.naive.longestTaskCpuMs)),
      });
    });
    pair(
      `8. … the same, least disturbed start, ms (record() alone: ${task(first.record.longestTaskMinMs)})`,
      (x, side) => x.firstSnapshot.summary[side].longestTaskMinMs,
      task,
    );
    pair(
      `8. … main-thread CPU to start sharing, all tasks, median ms (record() alone: ${fmtMs(first.record.startCpuMs)})`,
      (x, side) => x.firstSnapshot.summary[side].startCpuMs,
    );
    pair("8. … hidden iframes added (rrweb's prototype check) / JSON.stringify of the snapshot", (x, side) => {
      const v = x.firstSnapshot.summary[side];
      return `${v.iframesAdded} / ${fmtMs(v.stringifyMs)} ms ${v.stringifyInLongestTask ? 'inside the long task' : 'in a task of its own'}`;
    });
    pair('8. … bytes the start sent in all (ours: every slice, deflated; naive: the snapshot as text)', (x, side) =>
      fmtBytes(x.firstSnapshot.summary[side].sentTotalBytes),
    );
    pair('8. … the snapshot batch on its way out', (x, side) => {
      const v = x.firstSnapshot.summary[side];
      return side === 'ours'
        ? `deflated ${v.worker ? 'in a worker' : 'on the main thread'} to ${fmtBytes(v.sentBytes)}, sent ${fmtMs(v.encodeToSendMs)} ms after JSON.stringify`
        : `${fmtBytes(v.sentBytes)} of text, sent from inside the task`;
    });
  }
  const session = both.session;
  if (session && !session.onlyForRow10) {
    const sec = Math.round(CONFIG.session.durationMs / 1000);
    pair(
      `9. typical session (${sec} s script on a 950-node form page, in the JSON): bytes on the wire per minute, after the first snapshot`,
      (x, side) => x.session[side].wireBytesPerMinute,
      fmtBytes,
    );
    rows.push({
      metric: "9. … ours with the relay's compressUplink (permessage-deflate), per minute",
      ours: fmtBytes(session.oursDeflate?.wireBytesPerMinute),
      naive: fmtBytes(session.naive?.wireBytesPerMinute),
      ratio: fmtRatio(ratio(session.oursDeflate?.wireBytesPerMinute, session.naive?.wireBytesPerMinute)),
    });
    pair('9. … first full snapshot on the wire', (x, side) => x.session[side].snapshotBytes, fmtBytes);
    pair('9. … of the per-minute bytes: our per-frame routing header (JSON line)', (x, side) =>
      side === 'ours'
        ? fmtBytes(Math.round((x.session.ours.routingHeaderBytes * 60_000) / x.session.ours.windowMs))
        : '—',
    );
  }
  const memory = both.memory;
  if (memory) {
    const m = CONFIG.memory;
    pair(
      `10. relay memory per room after a full GC, heap + buffers, KiB (${m.rooms} rooms × 1 recorder + 1 replayer, row 9's session each)`,
      (x, side) => x.memory[side].kibPerRoom,
      (v) => v.toFixed(0),
    );
    pair('10. … of which cached for late joiners, KiB', (x, side) =>
      side === 'ours'
        ? x.memory.ours.cachedKibPerRoom.toFixed(0)
        : `~${(x.session.naive.snapshotBytes / 1024).toFixed(0)} (last snapshot as text)`,
    );
    pair(
      '10. … RSS per room, KiB',
      (x, side) => x.memory[side].rssKibPerRoom,
      (v) => v.toFixed(0),
    );
  }
  return rows;
}

/** The fidelity table: page, pixels matched by ours and by plain rrweb live replay. */
function fidelityTable(r) {
  const pages = r.both?.fidelity?.pages;
  if (!pages) return undefined;
  const cell = (x) => (x?.matched === undefined ? `error: ${x?.error ?? '—'}` : `${(x.matched * 100).toFixed(3)} %`);
  return pages.map((p) => ({
    page: p.page,
    ours: cell(p.ours),
    naive: cell(p.naive),
    values: { ours: p.ours?.matched ?? null, naive: p.naive?.matched ?? null },
  }));
}

function markdown(rows, header = ['metric', 'ours', 'naive', 'ratio (ours/naive)']) {
  const cells = rows.map((row) => [row.metric, row.ours, row.naive, row.ratio]);
  const widths = header.map((h, i) => Math.max(h.length, ...cells.map((c) => String(c[i]).length)));
  const line = (c) => `| ${c.map((x, i) => String(x).padEnd(widths[i])).join(' | ')} |`;
  return [line(header), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...cells.map(line)].join('\n');
}

/** The design's quality bars that this run measures. */
function bars(r) {
  const o = r.ours;
  const check = (name, get, limit) => {
    const value = safe(get, o) ?? null;
    return { bar: name, value, limit, pass: typeof value === 'number' && value <= limit };
  };
  return [
    check('mutation → agent DOM p50 ≤ 2.5 ms', (s) => s.live.latencyMs.p50, 2.5),
    check('mutation → agent DOM p99 ≤ 6 ms', (s) => s.live.latencyMs.p99, 6),
    check(
      'customer clock +5 min: all arrive, p99 ≤ 6 ms',
      (s) => (s.skew.arrived === s.skew.sent ? s.skew.latencyMs.p99 : null),
      6,
    ),
    check(
      'late joiner: all arrive, p99 ≤ 6 ms',
      (s) => (s.late.arrived === s.late.sent && s.late.replayCurrent ? s.late.latencyMs.p99 : null),
      6,
    ),
    check('10,000-node page: first full render ≤ 150 ms (median)', (s) => s.big.firstRender.medianMs, 150),
    check(
      '10,000-node page, view prepared ahead: first full render ≤ 100 ms (median; a quiet machine)',
      (s) => s.big.firstRenderPrepared?.medianMs,
      100,
    ),
    ...['firstRenderPrepared', 'firstRenderParked'].flatMap((kind) =>
      CONFIG.big.sizes.map((size) =>
        check(
          `${(r.ours?.[bigKey(size)]?.page?.nodes ?? size * 9).toLocaleString('en')}-node page, view prepared ahead${kind === 'firstRenderParked' ? ' for the room' : ''}: join ≤ 0.7 × naive's`,
          (s) => {
            const ours = s[bigKey(size)]?.[kind]?.medianMs;
            const naive = r.naive?.[bigKey(size)]?.firstRender?.medianMs;
            return ours && naive ? Math.round((ours / naive) * 100) / 100 : null;
          },
          0.7,
        ),
      ),
    ),
    // Against rrweb's full snapshot as JSON (naive's frame): a sliced snapshot carries more JSON than that.
    check(
      "full snapshot wire bytes ≤ 0.1 × rrweb's snapshot JSON",
      (s) => Math.round((s.big.snapshot.wireBytes / r.naive.big.snapshot.jsonBytes) * 10000) / 10000,
      0.1,
    ),
    ...(r.both?.burst
      ? [
          check(
            'burst: the agent shows the final frame ≤ 1 s after the burst (worst burst)',
            () => r.both.burst.summary.ours.backToLiveMaxMs,
            1000,
          ),
          check(
            "burst: ours adds ≤ 10 % to the page's main-thread time over rrweb's record() alone (both with no agent)",
            () => r.both.burst.summary['ours-solo'].overRecordTotalPct,
            10,
          ),
          check(
            'burst: … and with an agent watching (its replay competes for the 2 cores)',
            () => r.both.burst.summary.ours.overRecordTotalPct,
            10,
          ),
        ]
      : []),
    ...(r.both?.firstSnapshot
      ? [
          check(
            'sharing a 10,000-node page: no main-thread task over 50 ms (longest, median of the starts)',
            () => r.both.firstSnapshot.summary.ours.longestTaskMs,
            50,
          ),
          ...(r.both.firstSnapshot.bySize ?? []).map((size) =>
            check(
              `sharing a ${size.record.nodes}-node page: no task over 50 ms of main-thread CPU (trace; worst of the starts)`,
              () => size.ours.longestTaskCpuMaxMs,
              50,
            ),
          ),
          ...(r.both.firstSnapshot.bySize?.[1]
            ? [
                check(
                  'sharing a 20,000-node page: no main-thread task over 50 ms (longest, median of the starts)',
                  () => r.both.firstSnapshot.bySize[1].ours.longestTaskMs,
                  50,
                ),
              ]
            : []),
        ]
      : []),
    ...(r.both?.fidelity
      ? [
          (() => {
            const values = r.both.fidelity.pages.map((p) => p.ours?.matched);
            const value = values.every((v) => typeof v === 'number')
              ? Math.round(Math.min(...values) * 100000) / 1000
              : null;
            return {
              bar: 'fidelity ≥ 99.9 % of pixels on every corpus page (lowest)',
              value,
              limit: 99.9,
              pass: value !== null && value >= 99.9,
            };
          })(),
        ]
      : []),
  ];
}

// ---------------------------------------------------------------------------------------------

const loadBefore = Math.round(loadavg()[0] * 100) / 100;

async function main() {
  log('starting the relay process, the naive relay, the page server and Chromium');
  [relay, naive, naiveAll, site, browser] = await Promise.all([
    startRelay(['--dev', ...RELAY_ARGS]),
    startNaiveRelay(),
    startNaiveRelay({ cacheSinceSnapshot: true }),
    startSite(),
    launchBrowser(),
  ]);
  log(
    `ours: ${relay.url} (pid ${relay.pid}); naive: ${naive.url} (variant: ${naiveAll.url}); pages: ${site.url}; chromium ${browser.version()}`,
  );

  // `both`: scenarios that measure the two setups (and baselines) together, interleaved.
  const results = { ours: {}, naive: {}, 'naive-all': {}, both: {} };
  const failures = [];
  /** One scenario for one side; a failure is recorded and reported, and the run goes on. */
  const run = async (side, key, what, fn) => {
    log(`${side}: ${what}`);
    try {
      results[side][key] = await fn();
    } catch (error) {
      log(`${side}: ${what} FAILED: ${error?.stack ?? error}`);
      results[side][key] = { error: String(error?.message ?? error) };
      failures.push(`${side} ${key}: ${error?.message ?? error}`);
    }
  };
  if (wanted('1'))
    for (const side of SIDES) await run(side, 'live', 'row 1, live mutations', () => liveScenario(side, CONFIG.live));
  if (wanted('2'))
    for (const side of SIDES)
      await run(side, 'skew', 'row 2, customer clock 5 min ahead', () => liveScenario(side, CONFIG.skew));
  if (wanted('3'))
    for (const side of SIDES) await run(side, 'late', 'row 3, late join', () => lateJoinScenario(side, CONFIG.late));
  if (wanted('3'))
    await run(
      'naive-all',
      'late',
      'row 3b, late join against the naive relay that replays every event since the snapshot',
      () => lateJoinScenario('naive-all', CONFIG.late),
    );
  if (wanted('4') || wanted('5'))
    for (const rows of CONFIG.big.sizes)
      for (const side of SIDES)
        await run(side, bigKey(rows), `rows 4 and 5, the page of ${rows} table rows`, () =>
          bigPageScenario(side, { ...CONFIG.big, rows }),
        );
  const harness = {
    newContext,
    openCustomer,
    openAgent,
    waitFor,
    sleep,
    log,
    roomId,
    pageUrl,
    browser,
    relay,
    naive,
    site,
  };
  if (wanted('6') || wanted('7'))
    await run('both', 'burst', 'rows 6 and 7, the 2,000-node burst', () => burstScenario(harness, CONFIG.burst));
  if (wanted('8'))
    await run('both', 'firstSnapshot', 'row 8, the first snapshot of the 10,000-node page', () =>
      firstSnapshotScenario(harness, CONFIG.first),
    );
  if (wanted('9') || wanted('10')) {
    // Row 10 loads the relays with the frames of row 9's session (a shorter one when row 9 is not run).
    const session = wanted('9') ? CONFIG.session : { durationMs: 10_000 };
    await run('both', 'session', `row 9, a typical ${session.durationMs / 1000} s session`, () =>
      sessionBytesScenario(harness, session),
    );
    if (!wanted('9')) results.both.session = { ...results.both.session, onlyForRow10: true };
  }
  if (wanted('fidelity')) {
    await run('both', 'fidelity', 'fidelity table: the page corpus, ours and plain rrweb', () =>
      corpusFidelityScenario(harness, { corpus: CORPUS, artifactsDir: join(REPO, 'test-results', 'bench-fidelity') }),
    );
  }
  if (wanted('10')) {
    const captured = { ours: results.both.session?.ours?.frames, naive: results.both.session?.naive?.frames };
    await run('both', 'memory', `row 10, relay memory per room (${CONFIG.memory.rooms} rooms)`, () => {
      if (!captured.ours || !captured.naive)
        throw new Error('no session frames to load the relays with (row 9 failed)');
      return relayMemoryScenario(harness, CONFIG.memory, captured);
    });
  }

  const table = buildTable(results);
  const report = {
    name: 'cobrowse-sdk bench: ours vs naive rrweb live mode',
    date: new Date().toISOString(),
    durationS: Math.round((Date.now() - started) / 100) / 10,
    machine: {
      node: process.version,
      platform: `${process.platform} ${process.arch}`,
      cpus: cpus().length,
      cpuModel: cpus()[0]?.model,
      memGiB: Math.round(totalmem() / 2 ** 30),
      chromium: browser.version(),
      // 1-minute load average before and after the run: other work on the machine shows up in the tails.
      loadAverage1m: { before: loadBefore, after: Math.round(loadavg()[0] * 100) / 100 },
    },
    method: {
      clock:
        'performance.timeOrigin + performance.now() in both pages of one Chromium; clockOffsetMs = (customer − agent) measured against the real wall clock',
      percentiles: 'nearest rank',
      ours: 'packages/relay/dist/cli.js --dev (child process) + <relay>/sdk/recorder.js and /sdk/replayer.js',
      naive:
        'rrweb.record({emit: e => ws.send(JSON.stringify(e))}); new rrweb.Replayer([], {root, liveMode: true}).startLive(); addEvent(JSON.parse(data)); bench/lib/naive-relay.mjs (ws broadcast + last Meta/FullSnapshot cache)',
      'naive-all':
        'the naive pages against bench/lib/naive-relay.mjs with cacheSinceSnapshot: a late joiner gets Meta + FullSnapshot + every event since (row 3b only)',
      rows: {
        1: 'agent joined and waiting; then the customer shares; 10 unmeasured warm-up changes, then N text-node changes on #probe (every row warms up the same way)',
        2: 'as 1, customer page Date/Date.now 5 minutes ahead (context.addInitScript)',
        3: 'customer shares and changes the page (#probe text + a new #log row every 30–50 ms); agent joins 2 s in while that continues; then N measured #probe changes',
        '3b': 'row 3 for the naive pages against the naive relay variant that replays every event since the snapshot to a late joiner',
        4: "from calling CobrowseReplayer.join (ours) / new WebSocket (naive) to #last existing in the replay document (naive builds its Replayer and iframe before that start, see replayerSetupBeforeStart; ours does it inside join()); phasesMs = median ms after that start of each step (connectionInfo = the connection-info reply's responseEnd in Resource Timing, joinResolved = join() resolved; socket marks from a WebSocket subclass in the agent page); medianWithSetupMs = naive counted from new rrweb.Replayer; one page per CONFIG.big.sizes (bench/pages/big.html?rows=N); profile = main-thread self time of one more join under the CDP Profiler (200 µs sampling), per phase, by bucket (rrweb, SDK, DOM and natives, GC, other = V8 (program): style, layout, parsing; idle = waiting)",
        5: 'full snapshot frame(s) as sent by the customer page (Playwright framesent): ours = header + deflate-raw batch, naive = Meta + FullSnapshot JSON text',
        6: 'bench/pages/burst.html: every animation frame for 5 s, #grid gets 2,000 new nodes (1,000 <span> + text) and #probe the frame counter; agent watching first; lag at end = time of the last frame − time of the newest frame the agent showed by then; back to live = when the agent showed the last frame − when the customer drew it. Five setups (none, record() alone, ours with no agent, ours, naive) interleaved, order reversed every other round',
        7: "same bursts: customer page main-thread CPU (CDP Performance.getMetrics, timeDomain threadTicks, TaskDuration delta) / frames drawn. record() alone = rrweb.record({emit() {}}) (events dropped, nothing stringified). 'whole page' = ours/record − 1; 'recording's own share' = (ours − none)/(record − none) − 1. Ours and naive have an agent replaying in another renderer process on the same cores; ours-solo shares with no agent, like record() alone",
        8: "bench/pages/big.html (?rows=1100: 9,940 nodes; ?rows=2200: 19,840) loaded with nothing started, then bench.start() from a page task: Long Tasks API entries after it (longest, wall time), the same tasks' main-thread CPU time (tdur of RunTask on the renderer main thread, Chromium trace), CDP threadTicks TaskDuration − DevToolsCommandDuration until 400 ms after the page last sent a frame (ours sends the snapshot in slices) or record() emitted; JSON.stringify and WebSocket.send wrapped in the page to time the snapshot's encoding and sending; MutationObserver counts iframes added. record() alone = stock rrweb UMD, like naive",
        9: 'bench/pages/session.html; the script is in results.both.session.script; the three setups run at once in three contexts; bytes = frames the page sent after its first snapshot (payload + WebSocket framing, as no compression applies) × 60 s / window; ours with compressUplink: the relay /cobrowse/status uplinkBytes delta (wire bytes after permessage-deflate)',
        10: "relay processes of their own (node --inspect on loopback): warm-up rooms, then HeapProfiler.collectGarbage + process.memoryUsage() before and after N rooms; each room = a recorder sending row 9's captured frames (ours: epoch rewritten in the header) + a replayer that caught up (ours: every cached batch; naive: Meta + FullSnapshot)",
        fidelity:
          'test-support/fidelity.mjs (shared with e2e/fidelity.spec.ts): each corpus page at 1024×768, shared 600 ms after load, agent view 1024×768, screenshots 800 ms after the first snapshot rendered, pixelmatch threshold 0.1 on the replay iframe content box. Ours: recorder with recordCanvas, maskAllInputs false, no indicator; showPointer false. Naive: rrweb.record → ws.send(JSON.stringify(e)), live Replayer as its docs show, replayed mouse hidden and the iframe border removed',
      },
    },
    config: {
      ...CONFIG,
      ...(ROWS ? { rows: [...ROWS] } : {}),
      ...(RELAY_ARGS.length ? { relayArgs: RELAY_ARGS } : {}),
    },
    results,
    table: table.map(({ metric, ours, naive: n, ratio: q, values }) => ({
      metric,
      ours,
      naive: n,
      ratio: q,
      ...(values ? { values } : {}),
    })),
    ...(fidelityTable(results) ? { fidelityTable: fidelityTable(results) } : {}),
    bars: bars(results),
    failures,
  };

  const dir = join(REPO, 'bench/results');
  mkdirSync(dir, { recursive: true });
  const text = JSON.stringify(report, null, 2);
  // A trial (a subset of rows, or a relay run with other arguments) never replaces latest.json.
  const trial = !!ROWS || RELAY_ARGS.length > 0;
  if (!trial) writeFileSync(join(dir, 'latest.json'), text + '\n');
  const stampName = `${trial ? 'trial-' : ''}${report.date.replace(/[:.]/g, '-')}.json`;
  writeFileSync(join(dir, stampName), text + '\n');

  // Printed JSON: all but the raw samples, per-join phases and the table again (all in the files).
  const printed = JSON.parse(text, (key, value) =>
    ['samples', 'phasesPerJoin', 'table', 'fidelityTable', 'status'].includes(key) ||
    (key === 'trials' && Array.isArray(value))
      ? undefined
      : value,
  );
  process.stdout.write(`\n${markdown(table)}\n\n`);
  if (report.fidelityTable) {
    const cells = report.fidelityTable.map((row) => ({
      metric: row.page,
      ours: row.ours,
      naive: row.naive,
      ratio: fmtRatio(ratio(row.values.ours, row.values.naive)),
    }));
    process.stdout.write(
      `Fidelity (pixels matched, pixelmatch threshold ${FIDELITY.threshold}; naive = plain rrweb live replay):\n\n${markdown(cells, ['page (../shared/pages/)', 'ours', 'naive', 'ratio (ours/naive)'])}\n\n`,
    );
  }
  for (const bar of report.bars)
    process.stdout.write(`${bar.pass ? 'PASS' : 'MISS'}  ${bar.bar}: ${bar.value ?? '—'}\n`);
  process.stdout.write(
    `\nload average (1 min) before/after: ${report.machine.loadAverage1m.before} / ${report.machine.loadAverage1m.after} on ${report.machine.cpus} CPUs`,
  );
  process.stdout.write(
    `\nclock offset customer−agent, rows 1/2/3 (ms): ${SIDES.map((s) => `${s} ${['live', 'skew', 'late'].map((k) => results[s][k]?.clockOffsetMs ?? '—').join(' / ')}`).join('; ')}\n`,
  );
  process.stdout.write(`\n${JSON.stringify(printed, null, 2)}\n`);
  process.stdout.write(
    `\nwrote ${trial ? '' : 'bench/results/latest.json and '}bench/results/${stampName} (${report.durationS} s)\n`,
  );
  if (failures.length) throw new Error(`${failures.length} scenario(s) failed:\n  ${failures.join('\n  ')}`);
}

main()
  .then(async () => {
    await cleanup();
    clearTimeout(watchdog);
    process.exit(0);
  })
  .catch(async (error) => {
    log(`failed: ${error?.stack ?? error}`);
    if (relay) log(`relay output:\n${relay.output()}`);
    await cleanup();
    process.exit(1);
  });
