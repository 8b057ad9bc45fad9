import { launchBrowser } from './lib/browser.mjs';
import { startRelay, startSite } from './lib/processes.mjs';
const [relay, site, browser] = await Promise.all([startRelay(), startSite(), launchBrowser()]);
const room = 'diag-' + Date.now();
const cctx = await browser.newContext();
const customer = await cctx.newPage();
await customer.goto(`${site.url}/bench/pages/big.html?mode=ours&relay=${encodeURIComponent(relay.url)}&room=${room}`);
await customer.waitForFunction(() => window.bench.liveStatus() === 'live');
await new Promise(r => setTimeout(r, 1500));
for (let i = 0; i < 4; i++) {
  const ctx = await browser.newContext();
  const agent = await ctx.newPage();
  await agent.goto(`${site.url}/bench/pages/agent.html?mode=ours&relay=${encodeURIComponent(relay.url)}&room=${room}&auto=0&watchFor=last&trace=1`);
  await agent.evaluate(() => window.bench.ready);
  await agent.evaluate(() => { window.bench.join(); });
  await agent.waitForFunction(() => window.bench.foundAt !== undefined);
  const out = await agent.evaluate(() => {
    const j = window.bench.joinAt - performance.timeOrigin;
    const r = (x) => Math.round((x - j) * 10) / 10;
    const e = performance.getEntriesByType('resource').filter(e => /getConnectionInfo/.test(e.name)).map(e => ({ start: r(e.startTime), connectStart: r(e.connectStart), connectEnd: r(e.connectEnd), requestStart: r(e.requestStart), responseStart: r(e.responseStart), end: r(e.responseEnd) }));
    const m = window.bench.marks; const at = (t) => Math.round((t - window.bench.joinAt) * 10) / 10;
    return { ci: e, joinResolved: at(m.joinResolved), socketCreated: at(m.socketCreated), open: at(m.open), first: at(m.firstMessage), last: at(m.lastMessageBeforeFound), n: m.messagesBeforeFound, snap: at(m.snapshotEvent), found: at(window.bench.foundAt) };
  });
  console.log(JSON.stringify(out));
  await ctx.close();
}
await browser.close(); await relay.stop(); await site.close();
