// Row 8 of `npm run bench`: the customer's main thread when sharing of the 10,000-node page starts.
// rrweb serializes the whole document in one synchronous call; this measures the longest task that
// follows the start (Long Tasks API) for ours, the naive setup, and rrweb's record() alone, started
// the same way on the same loaded page, interleaved, and says what is inside it.
import { median } from './stats.mjs';

export const SNAPSHOT_VARIANTS = ['record', 'ours', 'naive'];

/** Installed before the page's scripts: long tasks, hidden iframes, big JSON.stringify calls, socket sends. */
function instrument() {
  const w = window;
  const now = () => performance.timeOrigin + performance.now();
  w.__cost = { longTasks: [], iframes: 0, stringify: [], sends: [] };
  new PerformanceObserver((list) => {
    for (const e of list.getEntries())
      w.__cost.longTasks.push({ start: performance.timeOrigin + e.startTime, ms: e.duration });
  }).observe({ type: 'longtask', buffered: true });
  new MutationObserver((records) => {
    for (const r of records) for (const n of r.addedNodes) if (n.nodeName === 'IFRAME') w.__cost.iframes++;
  }).observe(document, { childList: true, subtree: true });
  const stringify = JSON.stringify;
  JSON.stringify = function (...args) {
    const t = now();
    const out = stringify.apply(this, args);
    if (typeof out === 'string' && out.length > 100_000)
      w.__cost.stringify.push({ start: t, ms: now() - t, chars: out.length });
    return out;
  };
  const send = WebSocket.prototype.send;
  w.__cost.lastSendAt = 0;
  WebSocket.prototype.send = function (data) {
    const bytes = typeof data === 'string' ? data.length : (data.byteLength ?? data.size ?? 0);
    w.__cost.lastSendAt = now();
    // Big frames (naive: the snapshot as text) and every binary one (ours: batches, a sliced snapshot's small ones too).
    if (bytes > 10_000 || typeof data !== 'string')
      w.__cost.sends.push({ at: now(), bytes, binary: typeof data !== 'string' });
    return send.call(this, data);
  };
}

const round1 = (x) => (typeof x === 'number' ? Math.round(x * 10) / 10 : null);

const TRACE_CATEGORIES = ['toplevel', 'devtools.timeline', 'disabled-by-default-devtools.timeline'];

/**
 * The page's tasks from a Chromium trace: for each task on the busiest renderer main thread, its
 * main-thread CPU time (`tdur`: time the thread ran, which other processes on a busy machine do not
 * inflate, unlike the Long Tasks API's wall time). Returns the CPU ms of the tasks, longest first.
 */
function taskCpuFromTrace(buffer) {
  const { traceEvents = [] } = JSON.parse(buffer.toString('utf8'));
  const mains = new Set(
    traceEvents
      .filter((e) => e.ph === 'M' && e.name === 'thread_name' && e.args?.name === 'CrRendererMain')
      .map((e) => `${e.pid}:${e.tid}`),
  );
  const byThread = new Map();
  for (const e of traceEvents) {
    if (e.ph !== 'X' || e.name !== 'RunTask' || typeof e.tdur !== 'number') continue;
    const key = `${e.pid}:${e.tid}`;
    if (!mains.has(key)) continue;
    if (!byThread.has(key)) byThread.set(key, []);
    byThread.get(key).push(e.tdur / 1000);
  }
  let busiest = [];
  for (const tasks of byThread.values())
    if (tasks.reduce((a, b) => a + b, 0) > busiest.reduce((a, b) => a + b, 0)) busiest = tasks;
  return busiest.sort((a, b) => b - a);
}

async function startTrial(h, variant, rows, { settleMs, timeoutMs, afterMs }) {
  const side = variant === 'naive' ? 'naive' : 'ours';
  const context = await h.newContext();
  try {
    await context.addInitScript(instrument);
    const page = await context.newPage();
    page.on('pageerror', (error) => h.log(`${variant} big.html: page error: ${error.message}`));
    await page.goto(
      h.pageUrl('big.html', side, h.roomId(`first-${variant}`), { mode: variant, auto: '0', rows: String(rows) }),
    );
    await page.evaluate(() => window.bench.ready);
    const cdp = await context.newCDPSession(page);
    // threadTicks: main-thread CPU time, which other processes on a busy machine do not inflate.
    await cdp.send('Performance.enable', { timeDomain: 'threadTicks' });
    const cpu = async () => {
      const m = Object.fromEntries(
        (await cdp.send('Performance.getMetrics')).metrics.map((x) => [x.name, x.value * 1000]),
      );
      return m.TaskDuration - m.DevToolsCommandDuration;
    };
    await h.sleep(settleMs);
    await h.browser.startTracing(page, { categories: TRACE_CATEGORIES });
    const cpuBefore = await cpu();
    // Started from a task of the page's own (work done inside Playwright's evaluate counts as DevTools time).
    const t0 = await page.evaluate(() => {
      const t = window.bench.now();
      setTimeout(() => window.bench.start(), 0);
      return t;
    });
    // Until the snapshot has left the page (or, for record() alone, was emitted), then trailing tasks.
    const sent =
      variant === 'record'
        ? await h.waitFor(page, () => window.bench.recordEvents >= 2, undefined, timeoutMs)
        : await h.waitFor(page, () => window.__cost.sends.length > 0, undefined, timeoutMs);
    if (!sent) throw new Error(`${variant}: the first snapshot was not taken/sent within ${timeoutMs} ms`);
    // Ours sends the snapshot in slices: until the page has sent nothing for `afterMs`.
    await h.waitFor(page, (quiet) => window.bench.now() - window.__cost.lastSendAt > quiet, afterMs, timeoutMs);
    await h.sleep(afterMs);
    const startCpuMs = (await cpu()) - cpuBefore;
    const taskCpu = taskCpuFromTrace(await h.browser.stopTracing());
    const cost = await page.evaluate(() => ({ ...window.__cost, recordCallMs: window.bench.recordCallMs ?? null }));
    const tasks = cost.longTasks.filter((t) => t.start >= t0 - 1).sort((a, b) => b.ms - a.ms);
    const longest = tasks[0];
    const snapshotStringify = cost.stringify.filter((s) => s.start >= t0).sort((a, b) => b.chars - a.chars)[0];
    const inside = (x) => !!longest && !!x && x.start >= longest.start && x.start <= longest.start + longest.ms;
    // The first frame after the snapshot's encoding (ours: its first slice; the largest stringify is a later slice's).
    const send = cost.sends.find((s) => s.at >= (snapshotStringify?.start ?? t0));
    const nodes = await page.evaluate(() => {
      let n = 0;
      const walker = document.createTreeWalker(document, NodeFilter.SHOW_ALL);
      while (walker.nextNode()) n++;
      return n;
    });
    return {
      variant,
      rows,
      nodes,
      longestTaskMs: longest ? round1(longest.ms) : 0,
      // The same from the trace, as main-thread CPU time: what the page's code took, however busy the machine.
      longestTaskCpuMs: round1(taskCpu[0] ?? 0),
      tasksOver50Cpu: taskCpu.filter((ms) => ms > 50).length,
      tasksOver50: tasks.length,
      longTasksMs: tasks.map((t) => round1(t.ms)),
      startCpuMs: round1(startCpuMs),
      recordCallMs: round1(cost.recordCallMs),
      iframesAdded: cost.iframes,
      stringify: snapshotStringify
        ? { ms: round1(snapshotStringify.ms), chars: snapshotStringify.chars, inLongestTask: inside(snapshotStringify) }
        : null,
      // From the end of JSON.stringify to the frame being handed to the socket: compression (ours: in a worker).
      encodeToSendMs:
        send && snapshotStringify ? round1(send.at - (snapshotStringify.start + snapshotStringify.ms)) : null,
      sentBytes: send?.bytes ?? null,
      // Every frame the start sent (ours: the snapshot's slices; naive: the snapshot's text).
      sentTotalBytes: cost.sends.filter((s) => s.at >= t0).reduce((sum, s) => sum + s.bytes, 0),
      sentBinary: send?.binary ?? null,
      workers: page.workers().length,
    };
  } finally {
    await context.close();
  }
}

/** Row 8 on each page size (`cfg.rows`: table rows of big.html; 1,100 ≈ 9,940 nodes, 2,200 ≈ 19,800). */
export async function firstSnapshotScenario(h, cfg) {
  const trials = [];
  for (const rows of cfg.rows) {
    for (let i = 0; i < cfg.trials; i++) {
      const order = i % 2 ? [...SNAPSHOT_VARIANTS].reverse() : SNAPSHOT_VARIANTS;
      for (const variant of order) {
        h.log(`row 8, first snapshot (${rows} rows) ${i + 1}/${cfg.trials}: ${variant}`);
        try {
          trials.push(await startTrial(h, variant, rows, cfg));
        } catch (error) {
          h.log(`first snapshot ${variant} FAILED: ${error?.stack ?? error}`);
          trials.push({ variant, rows, error: String(error?.message ?? error) });
        }
      }
    }
  }
  const bySize = cfg.rows.map((rows) => summarize(trials.filter((t) => t.rows === rows)));
  // `summary`: the first size (the 10,000-node page), as before; `bySize`: every size.
  return { summary: bySize[0], bySize, trials };
}

function summarize(trials) {
  const summary = {};
  for (const variant of SNAPSHOT_VARIANTS) {
    const ok = trials.filter((t) => t.variant === variant && !t.error);
    const med = (get) => {
      const values = ok.map(get).filter((v) => typeof v === 'number');
      return values.length ? round1(median(values)) : null;
    };
    summary[variant] = {
      starts: ok.length,
      longestTaskMs: med((t) => t.longestTaskMs),
      longestTaskMaxMs: ok.length ? Math.max(...ok.map((t) => t.longestTaskMs)) : null,
      // Other work on the machine only ever lengthens a task: the shortest start is the least disturbed.
      longestTaskMinMs: ok.length ? Math.min(...ok.map((t) => t.longestTaskMs)) : null,
      tasksOver50: med((t) => t.tasksOver50),
      longestTaskCpuMs: med((t) => t.longestTaskCpuMs),
      longestTaskCpuMaxMs: ok.length ? Math.max(...ok.map((t) => t.longestTaskCpuMs)) : null,
      startCpuMs: med((t) => t.startCpuMs),
      recordCallMs: med((t) => t.recordCallMs),
      iframesAdded: med((t) => t.iframesAdded),
      stringifyMs: med((t) => t.stringify?.ms),
      stringifyInLongestTask: ok.length ? ok.every((t) => t.stringify?.inLongestTask) : null,
      encodeToSendMs: med((t) => t.encodeToSendMs),
      sentBytes: med((t) => t.sentBytes),
      sentTotalBytes: med((t) => t.sentTotalBytes),
      worker: ok.length ? ok.every((t) => t.workers > 0) : null,
      nodes: med((t) => t.nodes),
    };
  }
  // Ours and naive against rrweb's record() alone, started the same way in the same run.
  for (const variant of ['ours', 'naive']) {
    const s = summary[variant];
    const rec = summary.record.longestTaskMs;
    const recCpu = summary.record.longestTaskCpuMs;
    s.longestCpuOverRecord =
      typeof s.longestTaskCpuMs === 'number' && recCpu ? Math.round((s.longestTaskCpuMs / recCpu) * 100) / 100 : null;
    s.longestOverRecord =
      typeof s.longestTaskMs === 'number' && rec ? Math.round((s.longestTaskMs / rec) * 100) / 100 : null;
  }
  return summary;
}
