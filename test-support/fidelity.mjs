// Fidelity on the shared page corpus (../shared/pages/): the customer's viewport against the agent's
// replay at the same size, compared with pixelmatch (threshold 0.1). One procedure for the e2e
// suite (e2e/fidelity.spec.ts: ours, with the bar) and for `npm run bench` (ours and plain rrweb
// live replay, side by side); each caller says how its customer shares and how its agent joins.
import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import pngjs from 'pngjs';
import pixelmatch from 'pixelmatch';

const { PNG } = pngjs;

export const FIDELITY = {
  viewport: { width: 1024, height: 768 },
  /** pixelmatch's per-pixel colour threshold. */
  threshold: 0.1,
  /** The bar: this share of pixels on every page. */
  bar: 0.999,
  /** The corpus pages finish their own scripted changes in this time after `load`. */
  pageSettleMs: 600,
  /** After the agent's first snapshot rendered: late resources, canvas frames, scroll positions. */
  replaySettleMs: 800,
};

/** The corpus: one entry per directory, its index.html (or first .html). Empty when the corpus is absent. */
export function corpusPages(dir) {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true })
    .filter((d) => d.isDirectory())
    .map((d) => {
      const files = readdirSync(join(dir, d.name)).filter((f) => f.endsWith('.html'));
      return { name: d.name, file: files.includes('index.html') ? 'index.html' : files[0] };
    })
    .filter((p) => p.file)
    .sort((a, b) => a.name.localeCompare(b.name));
}

/** Two animation frames: what was changed has been painted. */
export function settle(page) {
  return page.evaluate(() => new Promise((resolve) => requestAnimationFrame(() => requestAnimationFrame(resolve))));
}

/** Share of pixels that match (pixelmatch, FIDELITY.threshold) and the diff image; null when the sizes differ. */
export function comparePngs(customerPng, agentPng) {
  const a = PNG.sync.read(customerPng);
  const b = PNG.sync.read(agentPng);
  if (a.width !== b.width || a.height !== b.height)
    return { matched: null, size: [a.width, a.height], agentSize: [b.width, b.height] };
  const diff = new PNG({ width: a.width, height: a.height });
  const mismatched = pixelmatch(a.data, b.data, diff.data, a.width, a.height, { threshold: FIDELITY.threshold });
  return {
    matched: 1 - mismatched / (a.width * a.height),
    size: [a.width, a.height],
    agentSize: [b.width, b.height],
    diffPng: PNG.sync.write(diff),
  };
}

/** Where the replay iframe's document shows on the agent's page: its box without the border (rrweb's iframe has the browser's 2 px). */
function contentBox(frame) {
  return frame.evaluate((el) => {
    const r = el.getBoundingClientRect();
    const scale = el.offsetWidth ? r.width / el.offsetWidth : 1;
    return {
      x: r.x + el.clientLeft * scale,
      y: r.y + el.clientTop * scale,
      width: el.clientWidth * scale,
      height: el.clientHeight * scale,
    };
  });
}

/**
 * One page: opens `url` as the customer in `context` (viewport FIDELITY.viewport), lets it settle,
 * `share(customer)` starts sharing, `join(context)` opens the agent and resolves with
 * `{ agent, frame }` (the replay iframe's locator) once the first snapshot has rendered; then both
 * are screenshotted and compared. `artifacts = { dir, name }` keeps the images.
 */
export async function pageFidelity({ context, url, share, join: openAgent, artifacts }) {
  const customer = await context.newPage();
  await customer.goto(url);
  await customer.waitForLoadState('load');
  await customer.waitForTimeout(FIDELITY.pageSettleMs);
  await share(customer);
  const { agent, frame } = await openAgent(context);
  await agent.waitForTimeout(FIDELITY.replaySettleMs);
  await settle(customer);
  await settle(agent);
  const customerPng = await customer.screenshot();
  const agentPng = await agent.screenshot({ clip: await contentBox(frame) });
  const result = comparePngs(customerPng, agentPng);
  if (artifacts) {
    mkdirSync(artifacts.dir, { recursive: true });
    writeFileSync(
      join(artifacts.dir, `${artifacts.name}.json`),
      JSON.stringify({ page: artifacts.name, matched: result.matched }),
    );
    writeFileSync(join(artifacts.dir, `${artifacts.name}-customer.png`), customerPng);
    writeFileSync(join(artifacts.dir, `${artifacts.name}-agent.png`), agentPng);
    if (result.diffPng) writeFileSync(join(artifacts.dir, `${artifacts.name}-diff.png`), result.diffPng);
  }
  return { matched: result.matched, size: result.size, agentSize: result.agentSize, customer, agent };
}

/**
 * `npm run bench`: every corpus page shared by ours and by plain rrweb (record → ws.send, a live
 * Replayer as rrweb's docs show, the replayed mouse hidden as ours is) at the same time, each in a
 * context of its own. `h` is the bench harness.
 */
export async function corpusFidelityScenario(h, { corpus, artifactsDir }) {
  const pages = corpusPages(corpus);
  if (!pages.length) throw new Error(`no page corpus at ${corpus}`);
  const { width, height } = FIDELITY.viewport;
  const sides = {
    ours: {
      share: (room) => async (customer) => {
        await customer.addScriptTag({ url: `${h.relay.url}/sdk/recorder.js` });
        await customer.evaluate(
          ({ server, room }) =>
            window.CobrowseRecorder.start({
              server,
              roomId: room,
              headers: { 'ccmessaging-token': 'dev' },
              indicator: false,
              maskAllInputs: false,
              recordCanvas: true,
            }),
          { server: h.relay.url, room },
        );
      },
    },
    naive: {
      share: (room) => async (customer) => {
        await customer.addScriptTag({ url: '/node_modules/rrweb/dist/rrweb.umd.min.cjs' });
        await customer.evaluate(
          ({ url, room }) =>
            new Promise((resolve, reject) => {
              const ws = new WebSocket(`${url}?room=${encodeURIComponent(room)}`);
              ws.onopen = () => {
                window.rrweb.record({ emit: (event) => ws.send(JSON.stringify(event)) });
                resolve();
              };
              ws.onerror = () => reject(new Error('naive socket error'));
            }),
          { url: h.naive.url, room },
        );
      },
    },
  };
  const openAgent = (side, room) => async (context) => {
    const agent = await context.newPage();
    await agent.goto(
      h.pageUrl('agent.html', side, room, { auto: '0', w: String(width), h: String(height), showPointer: '0' }),
    );
    await agent.evaluate(() => window.bench.ready.then(() => window.bench.join()));
    if (!(await h.waitFor(agent, () => window.bench.snapshots > 0, undefined, 10_000)))
      throw new Error(`${side}: no snapshot rendered`);
    return { agent, frame: agent.locator('#screen iframe') };
  };
  const results = [];
  for (const { name, file } of pages) {
    h.log(`fidelity: ${name}`);
    const row = { page: name };
    await Promise.all(
      Object.entries(sides).map(async ([side, { share }]) => {
        const room = h.roomId(`fidelity-${side}`);
        const context = await h.browser.newContext({ viewport: FIDELITY.viewport });
        try {
          const { matched, size, agentSize } = await pageFidelity({
            context,
            url: `${h.site.url}/shared/pages/${name}/${file}`,
            share: share(room),
            join: openAgent(side, room),
            artifacts: { dir: join(artifactsDir, side), name },
          });
          row[side] =
            matched === null
              ? { error: `replay is ${agentSize.join('×')}, the page ${size.join('×')}` }
              : { matched: Math.round(matched * 1e6) / 1e6 };
        } catch (error) {
          h.log(`fidelity ${name} ${side} FAILED: ${error?.message ?? error}`);
          row[side] = { error: String(error?.message ?? error) };
        } finally {
          await context.close();
        }
      }),
    );
    results.push(row);
  }
  return { threshold: FIDELITY.threshold, bar: FIDELITY.bar, viewport: FIDELITY.viewport, pages: results };
}
