import type { Page } from '@playwright/test';
import { agentDom, customerDom, expect, pageUrl, roomId, test } from './support/cobrowse.js';

/**
 * The full snapshot of a big page is taken in slices: rrweb's walk stops after a few ms and the rest
 * of the document follows as "add" mutations (packages/recorder/src/snapshot-slices.ts). The page
 * keeps changing all the while; agents watching from the start and joining afterwards end with the
 * customer's DOM.
 */

/** Counts the nodes of the first full snapshot the recorder encodes (its batch's JSON). */
function watchSnapshotBatch(): void {
  const w = window as any;
  const stringify = JSON.stringify;
  JSON.stringify = function (...args: Parameters<typeof JSON.stringify>) {
    const out = stringify.apply(this, args);
    if (w.snapshotNodes === undefined && typeof out === 'string' && out.includes('"type":2,"data":{"node"'))
      w.snapshotNodes = (out.match(/"id":\d+/g) ?? []).length;
    return out;
  } as typeof JSON.stringify;
}

async function joinAgent(page: Page, url: string): Promise<void> {
  await page.goto(url);
  await page.evaluate(() => (window as any).cobrowseReady);
  await page.evaluate(() => (window as any).cobrowseJoin());
}

test('a 20,000-node page shared while it keeps changing ends DOM-equal for every agent', async ({
  browser,
  site,
  relay,
}) => {
  test.setTimeout(90_000);
  const context = await browser.newContext();
  const room = roomId();
  const early = await context.newPage();
  // Kept for the failure message: what the early agent's console said (errors, refused batches).
  const earlyLog: string[] = [];
  early.on('console', (message) => {
    if (message.type() !== 'log' && earlyLog.length < 20) earlyLog.push(`${message.type()}: ${message.text()}`);
  });
  early.on('pageerror', (error) => earlyLog.length < 20 && earlyLog.push(`pageerror: ${error.message}`));
  await joinAgent(early, pageUrl(site, relay, 'agent.html', room, '&auto=0'));

  const customer = await context.newPage();
  await customer.addInitScript(watchSnapshotBatch);
  await customer.goto(pageUrl(site, relay, 'huge.html', room, '&auto=0'));
  await customer.evaluate(() => (window as any).cobrowseReady);
  const nodes = await customer.evaluate(() => document.querySelectorAll('*').length);
  expect(nodes).toBeGreaterThan(6000); // elements alone; with their text nodes, ~20,000
  // Changes start with the share and go on through the sliced snapshot and after it.
  const changes = await customer.evaluate(async () => {
    const w = window as any;
    const churn = w.churn(1500);
    await w.cobrowseStart();
    return churn;
  });
  // Enough changes to interleave with the slices (about 5 every few ms; fewer on a loaded machine).
  expect(changes).toBeGreaterThan(10);
  await expect.poll(() => customer.evaluate(() => (window as any).cobrowse?.status)).toBe('live');

  const want = await customerDom(customer);
  try {
    await expect.poll(() => agentDom(early), { timeout: 30_000 }).toBe(want);
  } catch (error) {
    // For whoever reads the failure: what the early agent's SDK and console said.
    const log = await early.evaluate(() => ((window as any).cobrowseLog ?? []).slice(-30));
    console.log(`early agent: log ${JSON.stringify(log)}; console ${JSON.stringify(earlyLog)}`);
    throw error;
  }

  const late = await context.newPage();
  await joinAgent(late, pageUrl(site, relay, 'agent.html', room, '&auto=0'));
  await expect.poll(() => agentDom(late), { timeout: 30_000 }).toBe(want);

  // The snapshot itself held only part of the page: the rest was streamed.
  const inSnapshot = await customer.evaluate(() => (window as any).snapshotNodes);
  const total = await customer.evaluate(() => {
    let n = 0;
    const walker = document.createTreeWalker(document, NodeFilter.SHOW_ALL);
    while (walker.nextNode()) n++;
    return n;
  });
  expect(total).toBeGreaterThan(19_000);
  expect(inSnapshot).toBeLessThan(total * 0.8);
  await context.close();
});
