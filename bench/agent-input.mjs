// Agent input under remote control → the customer page's own handler runs, next to the stream's
// own latency (customer DOM change → the agent's replay), loopback, one Chromium, one relay.
// `node bench/agent-input.mjs` (after `npm run build`). All times are `performance.timeOrigin +
// performance.now()`: one clock for every page of the browser.
import { launchBrowser } from '../test-support/browser.mjs';
import { startRelay, startSite } from '../test-support/processes.mjs';
import { fmtMs, summarize } from './lib/stats.mjs';

const N = 200;
const GAP_MS = [30, 50];
const WARMUP = 10;

const pause = () => new Promise((r) => setTimeout(r, GAP_MS[0] + Math.random() * (GAP_MS[1] - GAP_MS[0])));

const relay = await startRelay(['--dev']);
const site = await startSite();
const browser = await launchBrowser();
try {
  const room = `bench-input-${Date.now().toString(36)}`;
  const url = (side) =>
    `${site.url}/bench/pages/control.html?side=${side}&relay=${encodeURIComponent(relay.url)}&room=${room}`;
  const customer = await (await browser.newContext()).newPage();
  await customer.goto(url('customer'));
  await customer.waitForFunction(() => window.bench.session?.status === 'live', null, { timeout: 15_000 });
  const agent = await (await browser.newContext()).newPage();
  await agent.goto(url('agent'));
  await agent.waitForFunction(() => window.bench.snapshots > 0, null, { timeout: 15_000 });
  const granted = await agent.evaluate(() => window.bench.session.requestControl());
  if (!granted) throw new Error('control was not granted');

  // Stream: the customer changes the page; the agent's replay shows it.
  await agent.evaluate(() => {
    const doc = window.bench.session.iframe.contentDocument;
    const out = doc.getElementById('out');
    new MutationObserver(() => window.bench.seen.push([Number(out.textContent), window.bench.now()])).observe(out, {
      childList: true,
      characterData: true,
      subtree: true,
    });
  });
  const streamSent = [];
  for (let i = 1; i <= WARMUP + N; i++) {
    streamSent.push([
      i,
      await customer.evaluate((n) => {
        const t = window.bench.now();
        document.getElementById('out').textContent = String(n);
        return t;
      }, i),
    ]);
    await pause();
  }
  await agent
    .waitForFunction((n) => window.bench.seen.some(([i]) => i === n), WARMUP + N, { timeout: 5000 })
    .catch(() => undefined);
  const seen = new Map(await agent.evaluate(() => window.bench.seen));
  const stream = streamSent.filter(([i]) => i > WARMUP && seen.has(i)).map(([i, t]) => seen.get(i) - t);

  // Agent input: a click on the replay's button, and typing into the replay's field, as the agent does them.
  const inputSent = [];
  for (let i = 1; i <= WARMUP + N; i++) {
    inputSent.push(
      await agent.evaluate((n) => {
        const doc = window.bench.session.iframe.contentDocument;
        const t = window.bench.now();
        if (n % 2)
          doc.getElementById('save').dispatchEvent(new MouseEvent('click', { bubbles: true, cancelable: true }));
        else {
          const field = doc.getElementById('name');
          field.value = 'v' + n;
          field.dispatchEvent(new Event('input', { bubbles: true }));
        }
        return t;
      }, i),
    );
    await pause();
  }
  await customer
    .waitForFunction((n) => window.bench.handled.length >= n, WARMUP + N, { timeout: 5000 })
    .catch(() => undefined);
  const handled = await customer.evaluate(() => window.bench.handled);
  const input = inputSent
    .map((t, i) => (handled[i] ?? NaN) - t)
    .slice(WARMUP)
    .filter(Number.isFinite);

  const rows = [
    ['Customer DOM change → agent replay (stream)', summarize(stream)],
    ['Agent input → customer page handler (remote control)', summarize(input)],
  ];
  console.log('| loopback latency | n | p50 | p99 |\n|---|---|---|---|');
  for (const [name, s] of rows) console.log(`| ${name} | ${s.count} | ${fmtMs(s.p50)} | ${fmtMs(s.p99)} |`);
  console.log(JSON.stringify(Object.fromEntries(rows), null, 2));
} finally {
  await browser.close();
  await site.close();
  await relay.stop?.();
}
