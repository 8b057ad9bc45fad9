// Where the agent's main thread goes during a burst (bench/pages/burst.html: 2,000 nodes replaced
// every animation frame): each side's agent watches while the customer bursts for `--ms`, under
// Chromium's CPU profiler; prints self time by bucket and by function (our bundle source-mapped).
//
//   node bench/burst-profile.mjs [--ms 3000] [--nodes 2000] [--top 25]
//
// A tool for finding time, not a bench row (row 6 measures the lag): noisy on a shared machine.
import { startPeers } from './lib/peers.mjs';
import { functionKey, bucketKey, selfTimes } from './lib/cpu-profile.mjs';

const arg = (name, fallback) => {
  const i = process.argv.indexOf(`--${name}`);
  return Number(i === -1 ? fallback : process.argv[i + 1]);
};
const MS = arg('ms', 3000);
const NODES = arg('nodes', 2000);
const TOP = arg('top', 25);
const { relay, naive, site, browser, url } = await startPeers();
try {
  for (const side of ['ours', 'naive']) {
    const room = 'bp-' + side;
    const actx = await browser.newContext();
    const a = await actx.newPage();
    await a.goto(url('agent.html', side, room));
    await a.evaluate(() => window.bench.ready);
    const cctx = await browser.newContext();
    const c = await cctx.newPage();
    await c.goto(url('burst.html', side, room));
    await c.evaluate(() => window.bench.ready);
    await c.waitForFunction(() => window.bench.liveStatus() === 'live');
    await new Promise((d) => setTimeout(d, 1000));
    const cdp = await actx.newCDPSession(a);
    await cdp.send('Profiler.enable');
    await cdp.send('Profiler.setSamplingInterval', { interval: 200 });
    await cdp.send('Profiler.start');
    const stamps = await c.evaluate(([ms, nodes]) => window.bench.burst('b', ms, nodes), [MS, NODES]);
    await new Promise((d) => setTimeout(d, 1500));
    const { profile } = await cdp.send('Profiler.stop');
    const all = [['all', -1e9, 1e9]];
    const sum = (m) => [...m].sort((x, y) => y[1] - x[1]);
    console.log(`== ${side}: ${stamps.length} frames`);
    console.log(
      sum(selfTimes(profile, bucketKey, all).get('all'))
        .map(([k, v]) => `${k} ${v.toFixed(0)}`)
        .join(', '),
    );
    console.log(
      sum(selfTimes(profile, functionKey, all).get('all'))
        .slice(0, TOP)
        .map(([k, v]) => `${v.toFixed(1).padStart(7)} ${k}`)
        .join('\n'),
    );
    await actx.close();
    await cctx.close();
  }
} finally {
  await Promise.allSettled([browser.close(), relay.stop(), naive.close(), site.close()]);
}
