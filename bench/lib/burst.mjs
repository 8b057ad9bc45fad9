// Rows 6 and 7 of `npm run bench`: a page that re-renders 2,000 nodes every animation frame for
// 5 s. Row 6: does the agent keep up (its lag at the end of the burst, and how long after the burst
// it shows the customer's final state)? Row 7: what the customer's main thread pays for it, with no
// recording, with rrweb's record() alone, with ours (sharing, an agent watching), with ours sharing
// while no agent watches (the same conditions as record() alone: no replaying renderer competing
// for the two cores) and with the naive setup (sharing, an agent watching). All run in one
// Chromium, interleaved, `rounds` times.
import { median } from './stats.mjs';

export const BURST_VARIANTS = ['none', 'record', 'ours-solo', 'ours', 'naive'];

/** Main-thread metrics of one page (CDP Performance domain, thread CPU time): seconds. */
const METRICS = ['TaskDuration', 'ScriptDuration', 'LayoutDuration', 'RecalcStyleDuration', 'ThreadTime'];

async function metrics(cdp) {
  const { metrics: list } = await cdp.send('Performance.getMetrics');
  return Object.fromEntries(list.filter((m) => METRICS.includes(m.name)).map((m) => [m.name, m.value]));
}

const round2 = (x) => (typeof x === 'number' ? Math.round(x * 100) / 100 : null);

/**
 * One burst on one setup. `h` is the bench harness (pages, contexts, relays) from run.mjs.
 * Returns the customer's frames and main-thread time and, with an agent, when each frame showed there.
 */
async function burstTrial(h, variant, { durationMs, nodes, afterMs, settleMs }) {
  const side = variant === 'naive' ? 'naive' : 'ours';
  const mode = variant === 'ours-solo' ? 'ours' : variant;
  const room = h.roomId(`burst-${variant}`);
  const watched = variant === 'ours' || variant === 'naive';
  const customerContext = await h.newContext();
  const agentContext = watched ? await h.newContext() : undefined;
  try {
    const agent = watched ? await h.openAgent(agentContext, side, room) : undefined;
    const customer = await h.openCustomer(customerContext, side, room, 'burst.html', undefined, { mode });
    if (
      agent &&
      !(await h.waitFor(agent, () => !!window.bench.replayDoc()?.getElementById('probe'), undefined, 5000))
    ) {
      throw new Error(`${variant}: the agent never rendered the page`);
    }
    const cdp = await customerContext.newCDPSession(customer);
    // threadTicks: durations are the main thread's CPU time, so other processes on a busy machine do not inflate them.
    await cdp.send('Performance.enable', { timeDomain: 'threadTicks' });
    await h.sleep(settleMs);
    const before = await metrics(cdp);
    const stamps = await customer.evaluate(([d, n]) => window.bench.burst('b', d, n), [durationMs, nodes]);
    const after = await metrics(cdp);
    const frames = stamps.length;
    const first = stamps[0][1];
    const last = stamps[frames - 1][1];
    const lastId = stamps[frames - 1][0];
    const spanS = (last - first) / 1000;
    const busy = Object.fromEntries(METRICS.map((k) => [k, round2((after[k] - before[k]) * 1000)]));
    const result = {
      variant,
      frames,
      fps: round2((frames - 1) / spanS),
      mainThreadMs: busy,
      taskMsPerFrame: round2(busy.TaskDuration / frames),
      threadMsPerFrame: round2(busy.ThreadTime / frames),
    };
    if (!agent) return result;

    // The agent's side: when did each frame's counter show in the replay?
    const caughtUp = await h.waitFor(agent, (id) => window.bench.arrivals.some(([x]) => x === id), lastId, afterMs);
    const arrivals = new Map(await agent.evaluate(() => window.bench.arrivals));
    const latencies = [];
    let newestAtEnd = -1;
    stamps.forEach(([id, t], i) => {
      const at = arrivals.get(id);
      if (at === undefined) return;
      latencies.push([t, at - t]);
      if (at <= last) newestAtEnd = i;
    });
    // Lag at the end of the burst: how old the frame the agent was showing when the customer drew the last one.
    const lagAtEndMs = newestAtEnd >= 0 ? last - stamps[newestAtEnd][1] : last - first;
    const window1 = latencies.filter(([t]) => t - first < 1000).map(([, l]) => l);
    const windowN = latencies.filter(([t]) => last - t < 1000).map(([, l]) => l);
    // Where the agent is `afterMs` after the burst when it never caught up.
    let stillBehind = null;
    if (!caughtUp) {
      const now = await agent.evaluate(() => window.bench.now());
      const shown = stamps.findLastIndex(([id]) => arrivals.has(id));
      stillBehind = { framesBehind: frames - 1 - shown, lagMs: round2(now - (shown >= 0 ? stamps[shown][1] : first)) };
    }
    return {
      ...result,
      framesShown: arrivals.size,
      lagAtEndMs: round2(lagAtEndMs),
      backToLiveMs: caughtUp ? round2(arrivals.get(lastId) - last) : null,
      afterMs,
      stillBehind,
      latencyFirstSecondP50: round2(median(window1)),
      latencyLastSecondP50: round2(median(windowN)),
      errors: await agent.evaluate(() => window.bench.errors.slice(0, 3)),
    };
  } finally {
    await Promise.allSettled([customerContext.close(), agentContext?.close()]);
  }
}

/** Runs every variant `rounds` times, the order reversed every other round; a failed trial is kept as {error}. */
export async function burstScenario(h, cfg) {
  const trials = [];
  for (let round = 0; round < cfg.rounds; round++) {
    const order = round % 2 ? [...BURST_VARIANTS].reverse() : BURST_VARIANTS;
    for (const variant of order) {
      h.log(`rows 6/7, burst ${round + 1}/${cfg.rounds}: ${variant}`);
      try {
        trials.push({ round, ...(await burstTrial(h, variant, cfg)) });
      } catch (error) {
        h.log(`burst ${variant} FAILED: ${error?.stack ?? error}`);
        trials.push({ round, variant, error: String(error?.message ?? error) });
      }
    }
  }
  const by = (variant) => trials.filter((t) => t.variant === variant && !t.error);
  const med = (variant, get) => {
    const values = by(variant)
      .map(get)
      .filter((v) => typeof v === 'number');
    return values.length ? round2(median(values)) : null;
  };
  const summary = {};
  for (const variant of BURST_VARIANTS) {
    summary[variant] = {
      trials: by(variant).length,
      fps: med(variant, (t) => t.fps),
      taskMsPerFrame: med(variant, (t) => t.taskMsPerFrame),
      threadMsPerFrame: med(variant, (t) => t.threadMsPerFrame),
      scriptMsPerFrame: med(variant, (t) => t.mainThreadMs.ScriptDuration / t.frames),
    };
  }
  // What recording adds per frame over the bare page, and ours over record() alone.
  const base = summary.none.taskMsPerFrame;
  for (const variant of ['record', 'ours-solo', 'ours', 'naive']) {
    const s = summary[variant];
    s.recordingMsPerFrame = s.taskMsPerFrame !== null && base !== null ? round2(s.taskMsPerFrame - base) : null;
  }
  const rec = summary.record;
  for (const variant of ['ours-solo', 'ours', 'naive']) {
    const s = summary[variant];
    s.overRecordTotalPct =
      s.taskMsPerFrame && rec.taskMsPerFrame ? round2((s.taskMsPerFrame / rec.taskMsPerFrame - 1) * 100) : null;
    s.overRecordAttributablePct =
      s.recordingMsPerFrame !== null && rec.recordingMsPerFrame
        ? round2((s.recordingMsPerFrame / rec.recordingMsPerFrame - 1) * 100)
        : null;
  }
  for (const variant of ['ours', 'naive']) {
    const s = summary[variant];
    // Agent side, median over the rounds (the worst trial is in `trials`).
    s.lagAtEndMs = med(variant, (t) => t.lagAtEndMs);
    s.backToLiveMs = by(variant).some((t) => t.backToLiveMs === null) ? null : med(variant, (t) => t.backToLiveMs);
    s.backToLiveMaxMs = by(variant).some((t) => t.backToLiveMs === null)
      ? null
      : Math.max(...by(variant).map((t) => t.backToLiveMs));
    s.caughtUp = `${by(variant).filter((t) => t.backToLiveMs !== null).length} of ${by(variant).length}`;
    s.latencyFirstSecondP50 = med(variant, (t) => t.latencyFirstSecondP50);
    s.latencyLastSecondP50 = med(variant, (t) => t.latencyLastSecondP50);
    s.stillBehind =
      by(variant)
        .map((t) => t.stillBehind)
        .find(Boolean) ?? null;
  }
  return { summary, trials };
}
