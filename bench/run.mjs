// `npm run bench`: this SDK side by side with the naive setup (plain rrweb live mode over a plain
// `ws` relay that caches the last full snapshot), in one run, in one Chromium, on 127.0.0.1.
// Prints a markdown table and the JSON, and writes bench/results/latest.json plus a timestamped copy.
//
// For trials only: BENCH_ROWS=1,4 runs a subset of the rows (the rest print as "—"), and
// BENCH_RELAY_ARGS='--config relay.json' passes extra arguments to the relay process.
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';
import { join } from 'node:path';
import { gzipSync, inflateRawSync } from 'node:zlib';
import { launchBrowser } from './lib/browser.mjs';
import { startNaiveRelay } from './lib/naive-relay.mjs';
import { REPO, startRelay, startSite } from './lib/processes.mjs';
import { fmtBytes, fmtMs, fmtRatio, median, ratio, summarize } from './lib/stats.mjs';

const CONFIG = {
  /** Row 1: agent live first, then the customer shares; `warmup` unmeasured mutations, then N spaced gap ms apart. */
  live: { warmup: 10, n: 200, gapMs: [30, 50], boundMs: 5000 },
  /** Row 2: the same with the customer's Date 5 minutes ahead. */
  skew: { warmup: 10, n: 100, gapMs: [30, 50], boundMs: 5000, skewMs: 5 * 60_000 },
  /** Row 3: the customer shares and keeps changing the page (pre), the agent joins 2 s in, then N measured mutations. */
  late: { pre: 80, preGapMs: [30, 50], joinAfterMs: 2000, warmup: 10, n: 50, gapMs: [30, 50], boundMs: 5000 },
  /** Row 4/5: a 10,000-node page already shared; `trials` agents join one after another. */
  big: { trials: 7, timeoutMs: 10_000 },
  /** How long to wait for an agent to render the customer's first page before measuring anyway. */
  renderTimeoutMs: 5000,
  /** The whole run is killed after this. */
  budgetMs: 4 * 60_000,
};

const SIDES = ['ours', 'naive'];
const ROWS = process.env.BENCH_ROWS ? new Set(process.env.BENCH_ROWS.split(',').map((r) => r.trim())) : undefined;
const RELAY_ARGS = process.env.BENCH_RELAY_ARGS ? process.env.BENCH_RELAY_ARGS.split(/\s+/).filter(Boolean) : [];
const wanted = (row) => !ROWS || ROWS.has(row);
const started = Date.now();
const log = (...args) => process.stderr.write(`[bench ${((Date.now() - started) / 1000).toFixed(1).padStart(5)}s] ${args.join(' ')}\n`);
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

async function openCustomer(context, side, room, page = 'probe.html', onPage) {
  const tab = await openPage(context, page, side, room, {}, onPage);
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
  const [c, a] = await Promise.all([customer.evaluate(() => window.bench.clockCheck()), agent.evaluate(() => window.bench.clockCheck())]);
  return Math.round((c - a) * 1000) / 1000;
}

/** Runs `n` stamped mutations on the customer and collects their arrival in the agent's replay. */
async function measureMutations(customer, agent, prefix, n, [minGap, maxGap], boundMs) {
  const stamps = await customer.evaluate(([p, count, lo, hi]) => window.bench.mutate(p, count, lo, hi, false), [prefix, n, minGap, maxGap]);
  const lastStamp = stamps[stamps.length - 1][1];
  // Every mutation's window closes at most boundMs after the last one was made.
  await waitFor(agent, ([p, count]) => window.bench.arrivals.filter(([id]) => id.startsWith(p + '-')).length >= count, [prefix, n], boundMs + 200);
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
  return agent.evaluate(() => ({ errors: window.bench.errors.slice(0, 5), pending: window.bench.pending(), snapshots: window.bench.snapshots }));
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
    if (warmup) await customer.evaluate(([count, [lo, hi]]) => window.bench.mutate('warmup', count, lo, hi, false), [warmup, gapMs]);
    const result = await measureMutations(customer, agent, 'm', n, gapMs, boundMs);
    return { ...result, skewMs, rendered, renderWaitMs: rendered ? renderWaitMs : null, clockOffsetMs: offset, ...(await diagnostics(agent)) };
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
    await customer.evaluate(([count, [lo, hi]]) => {
      window.benchPre = window.bench.mutate('pre', count, lo, hi, true);
    }, [pre, preGapMs]);
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
    if (warmup) await customer.evaluate(([count, [lo, hi]]) => window.bench.mutate('warmup', count, lo, hi, false), [warmup, gapMs]);
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

/** Splits one of our frames: JSON header, newline, payload (deflate-raw when header.z === 1). */
function decodeOurFrame(payload) {
  const bytes = typeof payload === 'string' ? Buffer.from(payload) : Buffer.from(payload);
  const nl = bytes.indexOf(0x0a);
  const header = JSON.parse(bytes.subarray(0, nl === -1 ? bytes.length : nl).toString());
  const body = nl === -1 ? Buffer.alloc(0) : bytes.subarray(nl + 1);
  const json = header.z === 1 ? inflateRawSync(body).toString() : body.toString();
  return { header, wireBytes: bytes.length, binary: typeof payload !== 'string', json };
}

/** Rows 4 and 5: a 10,000-node page is shared; agents join it; its full snapshot's size on the wire. */
async function bigPageScenario(side, { trials, timeoutMs }) {
  const room = roomId('big');
  const customerContext = await newContext();
  const frames = [];
  try {
    const customer = await openCustomer(customerContext, side, room, 'big.html', (tab) => {
      // Attached before the page loads, so the first frames are seen.
      tab.on('websocket', (ws) => ws.on('framesent', (frame) => frames.push(frame.payload)));
    });
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
      const meta = texts.slice(0, texts.indexOf(full)).filter((t) => t.startsWith('{"type":4')).pop();
      return { meta, full };
    };
    const deadline = Date.now() + timeoutMs;
    let snapshot;
    while (!(snapshot = findSnapshot()) && Date.now() < deadline) await sleep(20);
    if (!snapshot) throw new Error(`${side}: the 10,000-node page's full snapshot was never sent`);
    await sleep(500); // the relay has it cached by now

    let wire;
    if (side === 'ours') {
      const events = JSON.parse(snapshot.json);
      const full = events.find((e) => e.type === 2);
      const jsonBytes = Buffer.byteLength(snapshot.json);
      wire = {
        frames: 1,
        binary: snapshot.binary,
        compressed: snapshot.header.z === 1,
        wireBytes: snapshot.wireBytes,
        jsonBytes,
        eventsInFrame: events.length,
        fullSnapshotEventJsonBytes: Buffer.byteLength(JSON.stringify(full)),
        gzipJsonBytes: gzipSync(snapshot.json).length,
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

    const joins = [];
    const phases = [];
    for (let i = 0; i < trials; i++) {
      const agentContext = await newContext();
      try {
        const agent = await openAgent(agentContext, side, room, { auto: '0', watchFor: 'last', trace: '1' });
        // Playwright compiles its injected script on the first waitForFunction (10–20 ms of main thread): not inside the measured window.
        await waitFor(agent, () => true, undefined, 5000);
        await sleep(50);
        await agent.evaluate(() => {
          window.bench.join();
        });
        const found = await waitFor(agent, () => window.bench.foundAt !== undefined, undefined, timeoutMs);
        const ms = found ? await agent.evaluate(() => window.bench.foundAt - window.bench.joinAt) : null;
        joins.push(ms === null ? null : Math.round(ms * 100) / 100);
        if (found) {
          // Where the time went, ms after join() / new WebSocket.
          phases.push(
            await agent.evaluate(() => {
              const { marks, joinAt, foundAt } = window.bench;
              const at = (t) => (t === undefined ? null : Math.round((t - joinAt) * 10) / 10);
              return {
                connectionInfo: at(marks.joinResolved),
                socketOpen: at(marks.open),
                firstMessage: at(marks.firstMessage),
                lastMessageBeforeRender: at(marks.lastMessageBeforeFound),
                messagesBeforeRender: marks.messagesBeforeFound,
                snapshotEvent: at(marks.snapshotEvent),
                // naive only: building rrweb's Replayer (iframe) before the clock starts at new WebSocket.
                replayerSetupBeforeStart: marks.replayerStart === undefined ? null : Math.round((joinAt - marks.replayerStart) * 10) / 10,
                lastElementInReplay: at(foundAt),
              };
            }),
          );
        }
        if (!found) log(`${side}: agent ${i + 1} did not render the 10,000-node page within ${timeoutMs} ms`, JSON.stringify(await diagnostics(agent)));
      } finally {
        await agentContext.close();
      }
    }
    const rendered = joins.filter((x) => x !== null);
    // Agents joining should be served from the relay's cache, not make the customer snapshot again.
    wire.snapshotsSentDuringScenario = snapshotFrames();
    return {
      page: nodes,
      firstRender: {
        trials,
        rendered: rendered.length,
        timeoutMs,
        medianMs: rendered.length ? median(rendered) : null,
        minMs: rendered.length ? Math.min(...rendered) : null,
        maxMs: rendered.length ? Math.max(...rendered) : null,
        samplesMs: joins,
        // Median of each phase over the joins that rendered.
        phasesMs: Object.fromEntries(
          Object.keys(phases[0] ?? {}).map((key) => {
            const values = phases.map((p) => p[key]).filter((v) => typeof v === 'number');
            return [key, values.length ? median(values) : null];
          }),
        ),
        phasesPerJoin: phases,
      },
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
    rows.push({ metric, ours: fmtMs(o), naive: fmtMs(nv), ratio: fmtRatio(ratio(o, nv)), values: { ours: o ?? null, naive: nv ?? null, ratio: ratio(o, nv) } });
  };
  const text = (metric, get) => rows.push({ metric, ours: safe(get, r.ours) ?? 'error', naive: safe(get, r.naive) ?? 'error', ratio: '—' });
  const arrived = (x) => `${x.arrived} of ${x.sent}${x.arrivedLate ? ` (+${x.arrivedLate} later)` : ''}`;

  const l = CONFIG.live;
  ms(`1. mutation → agent DOM, p50 ms (${l.n} × ${l.gapMs.join('–')} ms)`, (s) => s.live.latencyMs.p50);
  ms('1. mutation → agent DOM, p95 ms', (s) => s.live.latencyMs.p95);
  ms('1. mutation → agent DOM, p99 ms', (s) => s.live.latencyMs.p99);
  text(`1. arrived within ${l.boundMs / 1000} s`, (s) => arrived(s.live));
  const k = CONFIG.skew;
  const queued = (p) => (p && p.actions ? `; ${p.actions} events queued by rrweb, next due in ${Math.round(p.nextDueInMs / 1000)} s` : '');
  text(`2. customer clock +${k.skewMs / 60_000} min: arrived within ${k.boundMs / 1000} s`, (s) => arrived(s.skew) + (s.skew.rendered ? '' : ', page never rendered') + queued(s.skew.pending));
  ms('2. customer clock +5 min: p50 ms', (s) => s.skew.latencyMs.p50);
  ms('2. customer clock +5 min: p95 ms', (s) => s.skew.latencyMs.p95);
  ms('2. customer clock +5 min: p99 ms', (s) => s.skew.latencyMs.p99);
  const j = CONFIG.late;
  text(`3. late join (${j.joinAfterMs / 1000} s in, page busy): arrived within ${j.boundMs / 1000} s`, (s) => arrived(s.late) + (s.late.rendered ? '' : ', page never rendered'));
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
  rows.push({ metric: '3b. … replay shows the current page (#log rows agent/customer)', ours: safe((s) => `${current(s.late)} (row 3)`, r.ours) ?? 'error', naive: safe((s) => current(s.late), all) ?? 'error', ratio: '—' });
  const nodes = safe((s) => s.big.page.nodes, r.ours) ?? safe((s) => s.big.page.nodes, r.naive) ?? 10_000;
  ms(`4. join → first render of ${nodes.toLocaleString('en')}-node page, median ms (${CONFIG.big.trials} joins)`, (s) => s.big.firstRender.medianMs);
  text('4. first render, min–max ms (rendered/joins)', (s) => {
    const f = s.big.firstRender;
    return f.rendered ? `${fmtMs(f.minMs)}–${fmtMs(f.maxMs)} (${f.rendered}/${f.trials})` : `none within ${f.timeoutMs / 1000} s (0/${f.trials})`;
  });
  text('4. median ms to: connection info → socket open → last frame in → rendered', (s) => {
    const p = s.big.firstRender.phasesMs;
    const setup = p.replayerSetupBeforeStart ? ` (+${fmtMs(p.replayerSetupBeforeStart)} Replayer setup before start)` : '';
    return [p.connectionInfo, p.socketOpen, p.lastMessageBeforeRender, p.lastElementInReplay].map(fmtMs).join(' → ') + setup;
  });
  const bytes = (metric, get) => {
    const o = safe(get, r.ours);
    const nv = safe(get, r.naive);
    rows.push({ metric, ours: fmtBytes(o), naive: fmtBytes(nv), ratio: fmtRatio(ratio(o, nv)), values: { ours: o ?? null, naive: nv ?? null, ratio: ratio(o, nv) } });
  };
  bytes('5. full snapshot bytes on the wire', (s) => s.big.snapshot.wireBytes);
  bytes("5. full snapshot's JSON", (s) => s.big.snapshot.jsonBytes);
  const frac = (metric, get) => {
    const o = safe(get, r.ours);
    const nv = safe(get, r.naive);
    const f = (x) => (typeof x === 'number' ? x.toFixed(3) : '—');
    rows.push({ metric, ours: f(o), naive: f(nv), ratio: fmtRatio(ratio(o, nv)), values: { ours: o ?? null, naive: nv ?? null, ratio: ratio(o, nv) } });
  };
  frac('5. wire / JSON', (s) => s.big.snapshot.wireOverJson);
  frac('5. gzip(JSON) / JSON (reference, node:zlib)', (s) => s.big.snapshot.gzipOverJson);
  text('5. full snapshots the customer sent (1 + one per agent join = no cache)', (s) => `${s.big.snapshot.snapshotsSentDuringScenario} for ${s.big.firstRender.trials} joins`);
  return rows;
}

function markdown(rows) {
  const header = ['metric', 'ours', 'naive', 'ratio (ours/naive)'];
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
    check('customer clock +5 min: all arrive, p99 ≤ 6 ms', (s) => (s.skew.arrived === s.skew.sent ? s.skew.latencyMs.p99 : null), 6),
    check('late joiner: all arrive, p99 ≤ 6 ms', (s) => (s.late.arrived === s.late.sent && s.late.replayCurrent ? s.late.latencyMs.p99 : null), 6),
    check('10,000-node page: first full render ≤ 150 ms (median)', (s) => s.big.firstRender.medianMs, 150),
    check('full snapshot wire bytes ≤ 0.1 × JSON', (s) => s.big.snapshot.wireOverJson, 0.1),
  ];
}

// ---------------------------------------------------------------------------------------------

const loadBefore = Math.round(loadavg()[0] * 100) / 100;

async function main() {
  log('starting the relay process, the naive relay, the page server and Chromium');
  [relay, naive, naiveAll, site, browser] = await Promise.all([startRelay(['--dev', ...RELAY_ARGS]), startNaiveRelay(), startNaiveRelay({ cacheSinceSnapshot: true }), startSite(), launchBrowser()]);
  log(`ours: ${relay.url} (pid ${relay.pid}); naive: ${naive.url} (variant: ${naiveAll.url}); pages: ${site.url}; chromium ${browser.version()}`);

  const results = { ours: {}, naive: {}, 'naive-all': {} };
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
  if (wanted('1')) for (const side of SIDES) await run(side, 'live', 'row 1, live mutations', () => liveScenario(side, CONFIG.live));
  if (wanted('2')) for (const side of SIDES) await run(side, 'skew', 'row 2, customer clock 5 min ahead', () => liveScenario(side, CONFIG.skew));
  if (wanted('3')) for (const side of SIDES) await run(side, 'late', 'row 3, late join', () => lateJoinScenario(side, CONFIG.late));
  if (wanted('3')) await run('naive-all', 'late', 'row 3b, late join against the naive relay that replays every event since the snapshot', () => lateJoinScenario('naive-all', CONFIG.late));
  if (wanted('4') || wanted('5')) for (const side of SIDES) await run(side, 'big', 'rows 4 and 5, the 10,000-node page', () => bigPageScenario(side, CONFIG.big));

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
      clock: 'performance.timeOrigin + performance.now() in both pages of one Chromium; clockOffsetMs = (customer − agent) measured against the real wall clock',
      percentiles: 'nearest rank',
      ours: 'packages/relay/dist/cli.js --dev (child process) + <relay>/sdk/recorder.js and /sdk/replayer.js',
      naive: 'rrweb.record({emit: e => ws.send(JSON.stringify(e))}); new rrweb.Replayer([], {root, liveMode: true}).startLive(); addEvent(JSON.parse(data)); bench/lib/naive-relay.mjs (ws broadcast + last Meta/FullSnapshot cache)',
      'naive-all': 'the naive pages against bench/lib/naive-relay.mjs with cacheSinceSnapshot: a late joiner gets Meta + FullSnapshot + every event since (row 3b only)',
      rows: {
        1: 'agent joined and waiting; then the customer shares; 10 unmeasured warm-up changes, then N text-node changes on #probe (every row warms up the same way)',
        2: 'as 1, customer page Date/Date.now 5 minutes ahead (context.addInitScript)',
        3: 'customer shares and changes the page (#probe text + a new #log row every 30–50 ms); agent joins 2 s in while that continues; then N measured #probe changes',
        '3b': 'row 3 for the naive pages against the naive relay variant that replays every event since the snapshot to a late joiner',
        4: 'from calling CobrowseReplayer.join (ours) / new WebSocket (naive) to #last existing in the replay document (naive builds its Replayer and iframe before that start, see replayerSetupBeforeStart; ours does it inside join()); phasesMs = median ms after that start of each step (connectionInfo = join() resolved; socket marks from a WebSocket subclass in the agent page)',
        5: 'full snapshot frame(s) as sent by the customer page (Playwright framesent): ours = header + deflate-raw batch, naive = Meta + FullSnapshot JSON text',
      },
    },
    config: { ...CONFIG, ...(ROWS ? { rows: [...ROWS] } : {}), ...(RELAY_ARGS.length ? { relayArgs: RELAY_ARGS } : {}) },
    results,
    table: table.map(({ metric, ours, naive: n, ratio: q, values }) => ({ metric, ours, naive: n, ratio: q, ...(values ? { values } : {}) })),
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
  const printed = JSON.parse(text, (key, value) => (['samples', 'phasesPerJoin', 'table'].includes(key) ? undefined : value));
  process.stdout.write(`\n${markdown(table)}\n\n`);
  for (const bar of report.bars) process.stdout.write(`${bar.pass ? 'PASS' : 'MISS'}  ${bar.bar}: ${bar.value ?? '—'}\n`);
  process.stdout.write(`\nload average (1 min) before/after: ${report.machine.loadAverage1m.before} / ${report.machine.loadAverage1m.after} on ${report.machine.cpus} CPUs`);
  process.stdout.write(`\nclock offset customer−agent, rows 1/2/3 (ms): ${SIDES.map((s) => `${s} ${['live', 'skew', 'late'].map((k) => results[s][k]?.clockOffsetMs ?? '—').join(' / ')}`).join('; ')}\n`);
  process.stdout.write(`\n${JSON.stringify(printed, null, 2)}\n`);
  process.stdout.write(`\nwrote ${trial ? '' : 'bench/results/latest.json and '}bench/results/${stampName} (${report.durationS} s)\n`);
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
