import { join } from 'node:path';
import { FIDELITY, corpusPages, pageFidelity } from '../test-support/fidelity.mjs';
import { expect, pageUrl, roomId, test } from './support/cobrowse.js';
import { REPO, SHARED } from './support/processes.js';

/**
 * Fidelity on the shared page corpus: the customer's viewport against the agent's replay at the same
 * size, compared with pixelmatch (threshold 0.1). The bar is 99.9 % of pixels on every page.
 * The procedure lives in test-support/fidelity.mjs: `npm run bench` measures the same way, next to
 * plain rrweb live replay.
 */
const CORPUS = join(SHARED, 'pages');
const { viewport: VIEWPORT, bar: BAR } = FIDELITY;
const pages = corpusPages(CORPUS);

test.describe('fidelity on the page corpus', () => {
  // Without the corpus (a checkout outside the workspace), say so in the summary as a skipped test.
  if (pages.length === 0) test('the page corpus', () => test.skip(true, `no page corpus at ${CORPUS}`));
  for (const { name, file } of pages) {
    test(`${name}: the agent sees what the customer sees`, async ({ browser, site, relay }) => {
      const room = roomId();
      const context = await browser.newContext({ viewport: VIEWPORT });
      const { matched, size, agentSize } = await pageFidelity({
        context,
        url: `${site.url}/shared/pages/${name}/${file}`,
        share: async (customer) => {
          await customer.addScriptTag({ url: `${relay.url}/sdk/recorder.js` });
          await customer.evaluate(
            ({ server, room }) =>
              (window as any).CobrowseRecorder.start({
                server,
                roomId: room,
                headers: { 'ccmessaging-token': 'dev' },
                indicator: false,
                maskAllInputs: false,
                recordCanvas: true,
              }).then((s: any) => ((window as any).cobrowse = s)),
            { server: relay.url, room },
          );
        },
        join: async (ctx) => {
          const agent = await ctx.newPage();
          await agent.goto(
            pageUrl(site, relay, 'agent.html', room, `&auto=0&w=${VIEWPORT.width}&h=${VIEWPORT.height}`),
          );
          await agent.evaluate(() =>
            (window as any).cobrowseReady.then(() => (window as any).cobrowseJoin({ showPointer: false })),
          );
          await expect.poll(() => agent.evaluate(() => (window as any).cobrowseSnapshots)).toBeGreaterThan(0);
          return { agent, frame: agent.locator('#screen iframe') };
        },
        artifacts: { dir: join(REPO, 'test-results', 'fidelity'), name },
      });
      expect(agentSize).toEqual(size);
      test.info().annotations.push({
        type: 'fidelity',
        description: `${name}: ${(matched! * 100).toFixed(2)} % of pixels match`,
      });
      console.log(`fidelity ${name}: ${(matched! * 100).toFixed(3)} %`);
      await context.close();
      expect(matched, `${name}: ${(matched! * 100).toFixed(3)} % of pixels match`).toBeGreaterThanOrEqual(BAR);
    });
  }
});
