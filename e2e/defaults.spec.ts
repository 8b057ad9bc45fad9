import { join } from 'node:path';
import type { Browser, Page } from '@playwright/test';
import { FIDELITY, pageFidelity } from '../test-support/fidelity.mjs';
import { expect, openAgent, openCustomer, pageUrl, replayText, roomId, test } from './support/cobrowse.js';
import { REPO, type RelayProcess, type StaticSite } from './support/processes.js';

/** Defaults that look right: what the agent sees with the recorder's default options. */

/** Shares a page with the recorder's defaults (plus `extra`) and measures what share of pixels the agent sees alike. */
async function chartFidelity(browser: Browser, site: StaticSite, relay: RelayProcess, extra: object) {
  const room = roomId();
  const context = await browser.newContext({ viewport: FIDELITY.viewport });
  let agentPage: Page | undefined;
  const result = await pageFidelity({
    context,
    url: `${site.url}/e2e/pages/canvas-chart.html`,
    share: async (customer: Page) => {
      await customer.addScriptTag({ url: `${relay.url}/sdk/recorder.js` });
      await customer.evaluate(
        ({ server, room, extra }) =>
          (window as any).CobrowseRecorder.start({
            server,
            roomId: room,
            headers: { 'ccmessaging-token': 'dev' },
            // The badge is on the customer's screen only: leave it out of the comparison.
            indicator: false,
            ...extra,
          }),
        { server: relay.url, room, extra },
      );
    },
    join: async (ctx: import('@playwright/test').BrowserContext) => {
      const agent = await ctx.newPage();
      agentPage = agent;
      await agent.goto(
        pageUrl(site, relay, 'agent.html', room, `&auto=0&w=${FIDELITY.viewport.width}&h=${FIDELITY.viewport.height}`),
      );
      await agent.evaluate(() =>
        (window as any).cobrowseReady.then(() => (window as any).cobrowseJoin({ showPointer: false })),
      );
      await expect.poll(() => agent.evaluate(() => (window as any).cobrowseSnapshots)).toBeGreaterThan(0);
      return { agent, frame: agent.locator('#screen iframe') };
    },
    artifacts: { dir: join(REPO, 'test-results', 'defaults'), name: `canvas-chart-${JSON.stringify(extra)}` },
  });
  const painted = await agentPage!.evaluate(
    () =>
      [...(window as any).agent.iframe.contentDocument.querySelectorAll('canvas')].filter((c: HTMLElement) =>
        c.style.backgroundImage.includes('data:image/png'),
      ).length,
  );
  await context.close();
  return { matched: result.matched as number, painted };
}

test.describe('canvas content is shared by default', () => {
  test('a chart drawn on a canvas looks the same to the agent under default options', async ({
    browser,
    site,
    relay,
  }) => {
    const { matched, painted } = await chartFidelity(browser, site, relay, {});
    console.log(`canvas-chart, default options: ${(matched * 100).toFixed(3)} % of pixels match`);
    expect(painted).toBeGreaterThan(0);
    expect(matched).toBeGreaterThanOrEqual(FIDELITY.bar);
  });

  test('recordCanvas: false keeps canvas pixels on the customer page', async ({ browser, site, relay }) => {
    const { matched, painted } = await chartFidelity(browser, site, relay, { recordCanvas: false });
    console.log(`canvas-chart, recordCanvas false: ${(matched * 100).toFixed(3)} % of pixels match`);
    expect(painted).toBe(0);
    expect(matched).toBeLessThan(FIDELITY.bar);
  });
});

test('a canvas that appears after sharing started is shared too', async ({ context, site, relay }) => {
  const room = roomId();
  const customer = await openCustomer(context, site, relay, room);
  const agent = await openAgent(context, site, relay, room);
  expect(customer.workers()).toHaveLength(1); // the compressor's: no canvas sampler on a page without canvases
  await customer.evaluate(() => {
    const canvas = Object.assign(document.createElement('canvas'), { id: 'late-chart', width: 200, height: 100 });
    document.querySelector('main')!.prepend(canvas);
    const ctx = canvas.getContext('2d')!;
    ctx.fillStyle = 'rgb(220, 40, 40)';
    ctx.fillRect(10, 10, 180, 80);
  });
  await expect
    .poll(() =>
      agent.evaluate(
        () =>
          (window as any).agent.iframe.contentDocument
            .querySelector('#late-chart')
            ?.style.backgroundImage.slice(0, 30) ?? '',
      ),
    )
    .toContain('data:image/png');
});

test('a page whose policy refuses workers is still shared, without canvas pixels', async ({ context, site, relay }) => {
  const room = roomId();
  const customer = await openCustomer(context, site, relay, room, 'canvas-csp.html');
  const agent = await openAgent(context, site, relay, room);
  await expect.poll(() => replayText(agent, '#title')).toBe('Signature');
  await customer.evaluate(() => (document.getElementById('title')!.textContent = 'Signed'));
  await expect.poll(() => replayText(agent, '#title')).toBe('Signed');
  expect(customer.workers()).toEqual([]);
});

const inShadow = (agent: Page, selector: string, property: string) =>
  agent.evaluate(
    ({ selector, property }) => {
      const doc = (window as any).agent.iframe.contentDocument as Document;
      const host = doc.querySelector('search-box')!;
      const el = selector === ':host' ? host : host.shadowRoot!.querySelector(selector)!;
      return doc.defaultView!.getComputedStyle(el).getPropertyValue(property);
    },
    { selector, property },
  );

test('focus inside a web component shows on the agent side: the field, the host, the browser ring', async ({
  context,
  site,
  relay,
}) => {
  const room = roomId();
  const customer = await openCustomer(context, site, relay, room, 'shadow-focus.html');
  const agent = await openAgent(context, site, relay, room);
  await expect.poll(() => inShadow(agent, ':host', 'border-top-color')).toBe('rgb(200, 200, 200)');

  await customer.locator('search-box #query').click();
  // The component's own `:focus` rule on the field and `:host(:focus-within)` on the host.
  await expect.poll(() => inShadow(agent, '#query', 'outline-color')).toBe('rgb(255, 0, 0)');
  await expect.poll(() => inShadow(agent, '#query', 'outline-style')).toBe('solid');
  await expect.poll(() => inShadow(agent, ':host', 'border-top-color')).toBe('rgb(0, 128, 0)');

  // A field without focus styling of its own: the browser's ring, as on the customer's screen.
  await customer.locator('search-box #plain').click();
  await expect.poll(() => inShadow(agent, '#plain', 'outline-style')).toBe('auto');
  await expect.poll(() => inShadow(agent, '#query', 'outline-style')).toBe('none');
  await expect.poll(() => inShadow(agent, ':host', 'border-top-color')).toBe('rgb(0, 128, 0)');

  // Focus leaves the component: the host's focus styling goes too.
  await customer.locator('h1').click();
  await expect.poll(() => inShadow(agent, '#plain', 'outline-style')).toBe('none');
  await expect.poll(() => inShadow(agent, ':host', 'border-top-color')).toBe('rgb(200, 200, 200)');
});

test('a field a framework clears by itself after "add todo" is cleared for the agent too', async ({
  context,
  site,
  relay,
}) => {
  const room = roomId();
  const customer = await openCustomer(context, site, relay, room, 'controlled-input.html');
  const agent = await openAgent(context, site, relay, room);
  const agentValue = () =>
    agent.evaluate(
      () => ((window as any).agent.iframe.contentDocument.querySelector('#new-todo') as HTMLInputElement).value,
    );
  const agentTodos = () =>
    agent.evaluate(() => (window as any).agent.iframe.contentDocument.querySelector('#todos').textContent);

  await customer.locator('#new-todo').pressSequentially('Buy milk');
  // Masked by default: the agent sees that something is typed, not what.
  await expect.poll(agentValue).toBe('********');
  await customer.locator('#new-todo').press('Enter');
  await expect.poll(agentTodos).toBe('Buy milk');
  expect(await customer.locator('#new-todo').inputValue()).toBe('');
  await expect.poll(agentValue).toBe('');

  // And typing goes on as before: the caret where the customer left it, the agent following.
  await customer.locator('#new-todo').pressSequentially('Walk');
  await expect.poll(agentValue).toBe('****');
  expect(await customer.locator('#new-todo').inputValue()).toBe('Walk');
});
