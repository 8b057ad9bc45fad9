// Where an agent's join goes: a page of `--rows` table rows (9 nodes a row) is shared (ours and/or
// naive), then `--joins` agents join it one after another, each with Chromium's CPU profiler on from
// join() (ours) / new WebSocket (naive) until the page's last element is in the replay. Prints the
// phase marks of each join and the agent page's main-thread self time per phase, by function.
//
//   node bench/join-profile.mjs [--rows 1100] [--joins 5] [--side ours|naive|both] [--top 25] [--prepared] [--room]
//
// --prepared: ours builds its view with CobrowseReplayer.prepare() before the profiler starts, as
// naive builds its Replayer before its clock. --room: prepare() is told the room too (its connection
// info and socket are made ahead; the join says hello on that socket).
//
// A tool for finding time, not a bench row: no JSON is written, and the figures are noisy on a shared machine.
import { startPeers } from './lib/peers.mjs';
import { median } from './lib/stats.mjs';
import { PHASES, SETUP, functionKey, phaseWindows, selfTimes } from './lib/cpu-profile.mjs';

const arg = (name, fallback) => {
  const i = process.argv.indexOf(`--${name}`);
  return i === -1 ? fallback : process.argv[i + 1];
};
const ROWS = Number(arg('rows', 1100));
const JOINS = Number(arg('joins', 5));
const TOP = Number(arg('top', 25));
const ROOM = process.argv.includes('--room');
const PREPARED = ROOM || process.argv.includes('--prepared');
const SIDES = arg('side', 'both') === 'both' ? ['ours', 'naive'] : [arg('side')];
const sleep = (ms) => new Promise((done) => setTimeout(done, ms));

const { relay, naive, site, browser, url } = await startPeers({ query: { rows: String(ROWS) } });

try {
  for (const side of SIDES) {
    const room = `profile-${process.pid}-${side}`;
    const customerContext = await browser.newContext({ viewport: { width: 1024, height: 768 } });
    const customer = await customerContext.newPage();
    await customer.goto(url('big.html', side, room));
    await customer.evaluate(() => window.bench.ready);
    await customer.waitForFunction(() => window.bench.liveStatus() === 'live');
    const nodes = await customer.evaluate(() => {
      const walker = document.createTreeWalker(document, NodeFilter.SHOW_ALL);
      let count = 0;
      while (walker.nextNode()) count++;
      return count;
    });
    await sleep(1500); // the full snapshot is sent and cached
    const totalsByPhase = new Map([SETUP, ...PHASES].map((p) => [p, new Map()]));
    const joins = [];
    for (let i = 0; i < JOINS; i++) {
      const context = await browser.newContext({ viewport: { width: 1024, height: 768 } });
      const agent = await context.newPage();
      await agent.goto(url('agent.html', side, room, { auto: '0', watchFor: 'last', trace: '1' }));
      await agent.evaluate(() => window.bench.ready);
      await agent.waitForFunction(() => true, undefined, { polling: 10 });
      const cdp = await context.newCDPSession(agent);
      await cdp.send('Profiler.enable');
      await cdp.send('Profiler.setSamplingInterval', { interval: 100 });
      await sleep(50);
      // A prepared view is built (and warmed up) before the profiler starts, as naive's Replayer is before its clock.
      if (PREPARED && side === 'ours') await agent.evaluate((forRoom) => window.bench.prepare(forRoom), ROOM);
      await cdp.send('Profiler.start');
      await agent.evaluate(() => void window.bench.join());
      await agent.waitForFunction(() => window.bench.foundAt !== undefined, undefined, {
        polling: 10,
        timeout: 10_000,
      });
      const { profile } = await cdp.send('Profiler.stop');
      const marks = await agent.evaluate(() => {
        const { marks, joinAt, foundAt } = window.bench;
        const at = (t) => (t === undefined ? null : Math.round((t - joinAt) * 10) / 10);
        return {
          // The connection-info reply's last byte (Resource Timing), and join() resolved.
          info: at(window.bench.connectionInfoEnd()),
          joined: at(marks.joinResolved),
          socket: at(marks.socketCreated),
          open: at(marks.open),
          sent: at(marks.firstSend),
          first: at(marks.firstMessage),
          last: at(marks.lastMessageBeforeFound),
          found: at(foundAt),
          setup: marks.replayerStart === undefined ? null : Math.round((joinAt - marks.replayerStart) * 10) / 10,
        };
      });
      joins.push(marks);
      // Prepared for the room: the socket opened before join(); its second window is join() → the hello sent.
      const parked = ROOM && side === 'ours';
      const windows = phaseWindows({
        connectionInfo: parked ? 0 : marks.info,
        socketCreated: parked ? 0 : marks.socket,
        socketOpen: parked ? marks.sent : marks.open,
        lastFrame: marks.last,
        rendered: marks.found,
        // A prepared view was built before the profiler started: no setup window.
        setup: PREPARED && side === 'ours' ? 0 : (marks.setup ?? 0),
      });
      for (const [phase, totals] of selfTimes(profile, functionKey, windows)) {
        const into = totalsByPhase.get(phase);
        for (const [k, v] of totals) into.set(k, (into.get(k) ?? 0) + v);
      }
      await context.close();
    }
    await customerContext.close();
    console.log(`\n## ${side}: ${nodes} nodes, ${JOINS} joins (ms after join(); naive: after new WebSocket)`);
    console.log('  info joined socket  open  sent first  last found  (setup before start)');
    for (const m of joins)
      console.log(
        [m.info, m.joined, m.socket, m.open, m.sent, m.first, m.last, m.found, m.setup]
          .map((x) => String(x ?? '—').padStart(6))
          .join(''),
      );
    console.log(`median found: ${median(joins.map((m) => m.found))}`);
    const top = (totals, n) =>
      [...totals]
        .sort((a, b) => b[1] - a[1])
        .slice(0, n)
        .map(([k, v]) => `${(v / JOINS).toFixed(1).padStart(7)}  ${k}`)
        .join('\n');
    for (const [phase, totals] of totalsByPhase) {
      const sum = [...totals.values()].reduce((a, b) => a + b, 0);
      if (!sum) continue;
      console.log(
        `\n${phase}: ${(sum / JOINS).toFixed(1)} ms a join, main-thread self time by function:\n${top(totals, TOP)}`,
      );
    }
  }
} finally {
  await Promise.allSettled([browser.close(), relay.stop(), naive.close(), site.close()]);
}
