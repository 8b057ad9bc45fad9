// A prepared agent's join over a network with a round-trip time, not loopback: every agent-side
// connection (connection-info requests, sockets) goes through a TCP proxy that holds each chunk
// `--rtt`/2 ms in each direction (and a new connection's first bytes a round trip more: TCP's
// handshake). Three setups, interleaved, `--joins` of each, on a page of `--rows`
// table rows (9 nodes a row) already shared:
//
// - ours, a view prepared with the service's options (as the demo's console does), the relay's
//   sockets opened ahead on (its default): the join fetches the connection info and signs the
//   socket opened at prepare();
// - the same with the relay's `socketsAhead: false`: the join fetches the connection info, then
//   opens its socket;
// - naive rrweb live mode (its Replayer built before its clock), from `new WebSocket`.
//
//   node bench/join-latency.mjs [--rtt 50] [--rows 50] [--joins 5]
//
// The customer shares over loopback; only the agent is far away. A tool for one question (what a
// socket opened ahead saves on a real network): no JSON is written.
import { createServer, connect } from 'node:net';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { launchBrowser } from '../test-support/browser.mjs';
import { startRelay, startSite } from '../test-support/processes.mjs';
import { startNaiveRelay } from './lib/naive-relay.mjs';
import { median } from './lib/stats.mjs';

const arg = (name, fallback) => {
  const i = process.argv.indexOf(`--${name}`);
  return i === -1 ? fallback : Number(process.argv[i + 1]);
};
const RTT = arg('rtt', 50);
const ROWS = arg('rows', 50);
const JOINS = arg('joins', 5);
const sleep = (ms) => new Promise((done) => setTimeout(done, ms));

/**
 * A TCP proxy on loopback to `port` that delays every chunk by `oneWayMs` in each direction (in
 * order), and holds what a new connection sends first for a round trip more, as TCP's handshake
 * would (a TLS handshake, not simulated, would add one more).
 */
function delayProxy(port, oneWayMs) {
  const sockets = new Set();
  const server = createServer((client) => {
    const upstream = connect(port, '127.0.0.1');
    for (const s of [client, upstream]) sockets.add(s);
    const handshakeDone = Date.now() + 2 * oneWayMs;
    const forward = (from, to, first) =>
      from.on('data', (chunk) => {
        const at = Math.max(Date.now(), first ? handshakeDone : 0) + oneWayMs;
        setTimeout(() => to.destroyed || to.write(chunk), at - Date.now());
      });
    forward(client, upstream, true);
    forward(upstream, client, false);
    const close = () => {
      setTimeout(() => (client.destroy(), upstream.destroy()), oneWayMs);
    };
    client.on('error', close).on('close', close);
    upstream.on('error', close).on('close', close);
  });
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () =>
      resolve({
        port: server.address().port,
        close: () => {
          for (const s of sockets) s.destroy();
          server.close();
        },
      }),
    ),
  );
}

const dir = mkdtempSync(join(tmpdir(), 'join-latency-'));
const off = join(dir, 'off.json');
writeFileSync(off, JSON.stringify({ socketsAhead: false }));
const [on, offRelay, naive, site, browser] = await Promise.all([
  startRelay(['--dev']),
  startRelay(['--dev', '--config', off]),
  startNaiveRelay(),
  startSite(),
  launchBrowser(),
]);
const proxies = [];
try {
  const port = (url) => Number(new URL(url).port);
  const far = async (url, scheme) => {
    const proxy = await delayProxy(port(url), RTT / 2);
    proxies.push(proxy);
    return `${scheme}://127.0.0.1:${proxy.port}${scheme === 'ws' ? '/' : ''}`;
  };
  const setups = [
    { name: 'ours, socket opened ahead', mode: 'ours', relay: on.url, agentRelay: await far(on.url, 'http') },
    {
      name: 'ours, socketsAhead: false',
      mode: 'ours',
      relay: offRelay.url,
      agentRelay: await far(offRelay.url, 'http'),
    },
    { name: 'naive rrweb', mode: 'naive', relay: naive.url, agentRelay: await far(naive.url, 'ws') },
  ];
  const page = (name, setup, room, extra = {}) =>
    `${site.url}/bench/pages/${name}?${new URLSearchParams({ mode: setup.mode, room, rows: String(ROWS), ...extra })}`;
  // One customer per setup, sharing the page over loopback.
  const customers = await browser.newContext();
  for (const setup of setups) {
    setup.room = `latency-${process.pid}-${setup.mode}-${setups.indexOf(setup)}`;
    const customer = await customers.newPage();
    await customer.goto(`${page('big.html', setup, setup.room)}&relay=${encodeURIComponent(setup.relay)}`);
    await customer.evaluate(() => window.bench.ready);
    await customer.waitForFunction(() => window.bench.liveStatus() === 'live');
    setup.results = [];
  }
  await sleep(1500);
  for (let i = 0; i < JOINS; i++) {
    const order = i % 2 ? [...setups].reverse() : setups;
    for (const setup of order) {
      const context = await browser.newContext();
      const agent = await context.newPage();
      const url = page('agent.html', setup, setup.room, { auto: '0', watchFor: 'last', trace: '1' });
      // The SDK loads from the relay itself (not timed); the join goes through the proxy.
      await agent.goto(`${url}&relay=${encodeURIComponent(setup.agentRelay)}&sdk=${encodeURIComponent(setup.relay)}`);
      await agent.evaluate(() => window.bench.ready);
      if (setup.mode === 'ours') await agent.evaluate(() => window.bench.prepare(false));
      await sleep(200);
      await agent.evaluate(() => void window.bench.join());
      await agent.waitForFunction(() => window.bench.foundAt !== undefined, undefined, {
        polling: 10,
        timeout: 15_000,
      });
      setup.results.push(
        await agent.evaluate(() => {
          const { marks, joinAt, foundAt } = window.bench;
          const at = (t) => (t === undefined ? null : Math.round(t - joinAt));
          return { info: at(window.bench.connectionInfoEnd()), first: at(marks.firstMessage), found: at(foundAt) };
        }),
      );
      await context.close();
    }
  }
  console.log(
    `\nA prepared join over a ${RTT} ms round trip, a page of ${ROWS} table rows, ${JOINS} joins each (ms after join(); naive: after new WebSocket)\n`,
  );
  console.log('| setup | connection info | first message | rendered (median) | rendered, each join |');
  console.log('|---|---:|---:|---:|---|');
  const naiveFound = median(setups[2].results.map((r) => r.found));
  for (const setup of setups) {
    const m = (key) => median(setup.results.map((r) => r[key]).filter((v) => v !== null));
    const found = m('found');
    console.log(
      `| ${setup.name} | ${setup.mode === 'ours' ? m('info') : '—'} | ${m('first')} | ${found} (${(found / naiveFound).toFixed(2)}× naive) | ${setup.results.map((r) => r.found).join(', ')} |`,
    );
  }
} finally {
  for (const proxy of proxies) proxy.close();
  await Promise.allSettled([browser.close(), on.stop(), offRelay.stop(), naive.close(), site.close()]);
  rmSync(dir, { recursive: true, force: true });
}
