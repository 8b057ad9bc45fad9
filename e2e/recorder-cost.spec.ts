import type { BrowserContext, Page } from '@playwright/test';
import { expect, expectSameDom, openAgent, pageUrl, roomId, test } from './support/cobrowse.js';

/**
 * What sharing costs the customer's main thread: large batches are compressed in a worker (on the
 * main thread when the page forbids workers), and starting a share adds no hidden iframes (rrweb's
 * untainted-prototype check, fixed in the bundle).
 */
async function watchCosts(context: BrowserContext): Promise<void> {
  await context.addInitScript(() => {
    const w = window as any;
    w.iframesAdded = 0;
    new MutationObserver((records) => {
      for (const record of records)
        for (const node of record.addedNodes) if (node.nodeName === 'IFRAME') w.iframesAdded++;
    }).observe(document, { childList: true, subtree: true });
    w.mainThreadDeflates = 0;
    const Native = window.CompressionStream;
    window.CompressionStream = class extends Native {
      constructor(format: CompressionFormat) {
        super(format);
        w.mainThreadDeflates++;
      }
    };
  });
}

/** Opens a customer page that shares itself, keeping every frame it sends. */
async function shareKeepingFrames(
  context: BrowserContext,
  url: string,
): Promise<{ customer: Page; frames: (string | Buffer)[] }> {
  const customer = await context.newPage();
  const frames: (string | Buffer)[] = [];
  customer.on('websocket', (ws) => ws.on('framesent', (frame) => frames.push(frame.payload)));
  await customer.goto(url);
  await expect.poll(() => customer.evaluate(() => (window as any).cobrowse?.status)).toBe('live');
  return { customer, frames };
}

test.describe('what sharing costs the page', () => {
  test('the large snapshot is compressed in a worker, and starting adds no hidden iframes', async ({
    browser,
    site,
    relay,
  }) => {
    const context = await browser.newContext();
    await watchCosts(context);
    const room = roomId();
    const { customer, frames } = await shareKeepingFrames(context, pageUrl(site, relay, 'big.html', room));
    const agent = await openAgent(context, site, relay, room);
    await expectSameDom(customer, agent);
    expect(customer.workers().map((w) => w.url())).toEqual([expect.stringMatching(/^blob:/)]);
    expect(frames.some((f) => typeof f !== 'string')).toBe(true);
    expect(await customer.evaluate(() => (window as any).mainThreadDeflates)).toBe(0);
    expect(await customer.evaluate(() => (window as any).iframesAdded)).toBe(0);
    await context.close();
  });

  test('a page that forbids workers still shares its large snapshot, compressed on the main thread', async ({
    browser,
    site,
    relay,
  }) => {
    const context = await browser.newContext();
    await watchCosts(context);
    const room = roomId();
    const { customer, frames } = await shareKeepingFrames(context, pageUrl(site, relay, 'big-csp.html', room));
    const agent = await openAgent(context, site, relay, room);
    await expectSameDom(customer, agent);
    expect(customer.workers()).toEqual([]);
    expect(await customer.evaluate(() => (window as any).mainThreadDeflates)).toBeGreaterThan(0);
    expect(frames.some((f) => typeof f !== 'string')).toBe(true);
    await context.close();
  });
});
