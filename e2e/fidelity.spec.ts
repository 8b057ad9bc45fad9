import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PNG } from 'pngjs';
import pixelmatch from 'pixelmatch';
import type { Page } from '@playwright/test';
import { expect, pageUrl, roomId, test } from './support/cobrowse.js';
import { REPO, SHARED } from './support/processes.js';

/**
 * Fidelity on the shared page corpus: the customer's viewport against the agent's replay at the same
 * size, compared with pixelmatch (threshold 0.1). The bar is 99.9 % of pixels on every page.
 */
const CORPUS = join(SHARED, 'pages');
const VIEWPORT = { width: 1024, height: 768 };
const BAR = 0.999;
const pages = existsSync(CORPUS)
  ? readdirSync(CORPUS, { withFileTypes: true })
      .filter((d) => d.isDirectory())
      .map((d) => {
        const files = readdirSync(join(CORPUS, d.name)).filter((f) => f.endsWith('.html'));
        return { name: d.name, file: files.includes('index.html') ? 'index.html' : files[0]! };
      })
  : [];

async function settle(page: Page): Promise<void> {
  await page.evaluate(() => new Promise((resolve) => requestAnimationFrame(() => requestAnimationFrame(resolve))));
}

test.describe('fidelity on the page corpus', () => {
  test.skip(pages.length === 0, `no page corpus at ${CORPUS}`);
  for (const { name, file } of pages) {
    test(`${name}: the agent sees what the customer sees`, async ({ browser, site, relay }) => {
      const room = roomId();
      const context = await browser.newContext({ viewport: VIEWPORT });
      const customer = await context.newPage();
      await customer.goto(`${site.url}/shared/pages/${name}/${file}`);
      await customer.waitForLoadState('load');
      await customer.waitForTimeout(600); // the corpus pages finish their own scripted changes
      await customer.addScriptTag({ url: `${relay.url}/sdk/recorder.js` });
      await customer.evaluate(
        ({ server, room }) =>
          (window as any).CobrowseRecorder.start({ server, roomId: room, headers: { 'ccmessaging-token': 'dev' }, indicator: false, maskAllInputs: false, recordCanvas: true }).then((s: any) => ((window as any).cobrowse = s)),
        { server: relay.url, room },
      );
      const agent = await context.newPage();
      await agent.goto(pageUrl(site, relay, 'agent.html', room, `&auto=0&w=${VIEWPORT.width}&h=${VIEWPORT.height}`));
      await agent.evaluate(() => (window as any).cobrowseReady.then(() => (window as any).cobrowseJoin({ showPointer: false })));
      await expect.poll(() => agent.evaluate(() => (window as any).cobrowseSnapshots)).toBeGreaterThan(0);
      await agent.waitForTimeout(800);
      await settle(customer);
      await settle(agent);
      const a = PNG.sync.read(await customer.screenshot());
      const b = PNG.sync.read(await agent.locator('#screen iframe').screenshot());
      expect([b.width, b.height]).toEqual([a.width, a.height]);
      const diff = new PNG({ width: a.width, height: a.height });
      const mismatched = pixelmatch(a.data, b.data, diff.data, a.width, a.height, { threshold: 0.1 });
      const matched = 1 - mismatched / (a.width * a.height);
      const out = join(REPO, 'test-results', 'fidelity');
      mkdirSync(out, { recursive: true });
      writeFileSync(join(out, `${name}.json`), JSON.stringify({ page: name, matched }));
      writeFileSync(join(out, `${name}-customer.png`), PNG.sync.write(a));
      writeFileSync(join(out, `${name}-agent.png`), PNG.sync.write(b));
      writeFileSync(join(out, `${name}-diff.png`), PNG.sync.write(diff));
      test.info().annotations.push({ type: 'fidelity', description: `${name}: ${(matched * 100).toFixed(2)} % of pixels match` });
      console.log(`fidelity ${name}: ${(matched * 100).toFixed(3)} %`);
      await context.close();
      expect(matched, `${name}: ${(matched * 100).toFixed(3)} % of pixels match`).toBeGreaterThanOrEqual(BAR);
    });
  }
});
