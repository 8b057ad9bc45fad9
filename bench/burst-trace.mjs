// Where a burst frame's time goes, ours and naive: for each frame of a 3 s burst (2,000 nodes replaced
// per frame, bench/pages/burst.html) prints, in ms after the burst started, when the customer page drew
// it, when its page called WebSocket.send (ours: when the batch went to the compression worker and
// when its answer was handled), when the agent's socket got a message and when the frame's
// #probe text showed in the replay. Sends, messages and frames are listed in order (one batch a frame
// when the machine keeps up; compare the lists rather than columns when it does not).
//
//   node bench/burst-trace.mjs
//
// A tool for finding time, not a bench row (row 6 measures the lag): noisy on a shared machine.
import { startPeers } from './lib/peers.mjs';
const { relay, naive, site, browser, url } = await startPeers();
const init = () => {
  const now = () => performance.timeOrigin + performance.now();
  window.__sends = [];
  window.__msgs = [];
  const send = WebSocket.prototype.send;
  WebSocket.prototype.send = function (d) {
    window.__sends.push([now(), d.length ?? d.byteLength ?? d.size]);
    return send.call(this, d);
  };
  // The compression worker (ours): when a batch is handed to it and when its answer is handled.
  window.__wpost = [];
  window.__wans = [];
  const W = window.Worker;
  if (W)
    window.Worker = class extends W {
      constructor(...a) {
        super(...a);
        this.addEventListener('message', () => window.__wans.push(now()));
      }
      postMessage(...a) {
        window.__wpost.push(now());
        return super.postMessage(...a);
      }
    };
  const N = window.WebSocket;
  window.WebSocket = class extends N {
    constructor(...a) {
      super(...a);
      this.addEventListener('message', (e) => window.__msgs.push([now(), e.data.length ?? e.data.byteLength]));
    }
  };
};
try {
  for (const side of ['ours', 'naive']) {
    const room = 'bt-' + side;
    const actx = await browser.newContext();
    await actx.addInitScript(init);
    const a = await actx.newPage();
    await a.goto(url('agent.html', side, room));
    await a.evaluate(() => window.bench.ready);
    const cctx = await browser.newContext();
    await cctx.addInitScript(init);
    const c = await cctx.newPage();
    await c.goto(url('burst.html', side, room));
    await c.evaluate(() => window.bench.ready);
    await c.waitForFunction(() => window.bench.liveStatus() === 'live');
    await new Promise((d) => setTimeout(d, 1000));
    const t0 = await c.evaluate(() => performance.timeOrigin + performance.now());
    const stamps = await c.evaluate(() => window.bench.burst('b', 3000, 2000));
    await new Promise((d) => setTimeout(d, 3000));
    const sends = (await c.evaluate(() => window.__sends)).filter(([t]) => t >= t0);
    const msgs = (await a.evaluate(() => window.__msgs)).filter(([t]) => t >= t0);
    const wpost = (await c.evaluate(() => window.__wpost)).filter((t) => t >= t0);
    const wans = (await c.evaluate(() => window.__wans)).filter((t) => t >= t0);
    const arrivals = new Map(await a.evaluate(() => window.bench.arrivals));
    console.log(
      `== ${side}: ${stamps.length} frames; customer sends ${sends.length} (${sends.map((s) => s[1]).slice(0, 5)}…), agent msgs ${msgs.length}`,
    );
    const rel = (x) => (x - t0).toFixed(0);
    console.log('frames ', stamps.map(([, t]) => rel(t)).join(' '));
    console.log('sends  ', sends.map(([t, n]) => rel(t) + ':' + Math.round(n / 1000) + 'k').join(' '));
    if (wpost.length) console.log('worker ', wpost.map(rel).join(' '));
    if (wans.length) console.log('answer ', wans.map(rel).join(' '));
    console.log('msgs   ', msgs.map(([t, n]) => rel(t) + ':' + Math.round(n / 1000) + 'k').join(' '));
    console.log('shown  ', stamps.map(([id]) => (arrivals.get(id) ? rel(arrivals.get(id)) : '—')).join(' '));
    await actx.close();
    await cctx.close();
  }
} finally {
  await Promise.allSettled([browser.close(), relay.stop(), naive.close(), site.close()]);
}
