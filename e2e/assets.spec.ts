import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, BrowserContext, Page } from '@playwright/test';
import { comparePngs, settle } from '../test-support/fidelity.mjs';
import { expect, inReplay, pageUrl, roomId, test } from './support/cobrowse.js';
import { REPO, type RelayProcess, type StaticSite, startRelay } from './support/processes.js';
import { type PrivateSite, startPrivateSite } from './support/private-site.js';

/**
 * Images, fonts and stylesheets only the customer's browser can load (behind the site's login
 * cookie): the recorder captures them, the relay keeps them per session, the agent's replay uses
 * the copies. The agent is in another browser context, on another origin, without the cookie.
 */
const VIEWPORT = { width: 1024, height: 768 };

const ext = test.extend<object, { shop: PrivateSite }>({
  shop: [
    async ({}, use) => {
      const shop = await startPrivateSite();
      await use(shop);
      await shop.close();
    },
    { scope: 'worker' },
  ],
});

/** Signs the customer in and opens the page; with `recorder` options, shares it once its images and fonts are in. */
async function openShop(
  browser: Browser,
  shop: PrivateSite,
  relay: RelayProcess,
  room: string,
  recorder?: object,
): Promise<{ context: BrowserContext; customer: Page }> {
  const context = await browser.newContext({ viewport: VIEWPORT });
  const customer = await context.newPage();
  await customer.goto(`${shop.url}/login`);
  await customer.goto(`${shop.url}/assets.html?relay=${encodeURIComponent(relay.url)}&room=${room}&auto=0`);
  await customer.waitForLoadState('load');
  await customer.evaluate(() => document.fonts.ready.then(() => undefined));
  // The customer sees everything: signed in.
  expect(await customer.evaluate(() => (document.getElementById('logo') as HTMLImageElement).naturalWidth)).toBe(240);
  if (recorder) await share(customer, recorder);
  return { context, customer };
}

async function share(customer: Page, recorder: object): Promise<void> {
  await customer.evaluate(
    (extra) =>
      (window as any).cobrowseReady.then(() =>
        (window as any).cobrowseStart({ indicator: false, maskAllInputs: false, ...extra }),
      ),
    recorder,
  );
  await expect.poll(() => customer.evaluate(() => (window as any).cobrowse?.status)).toBe('live');
}

/** An agent in its own context (no cookie, another origin) joins; it logs when snapshots and assets land. */
async function openAgentView(
  browser: Browser,
  site: StaticSite,
  relay: RelayProcess,
  room: string,
  waitForSnapshot = true,
): Promise<{ context: BrowserContext; agent: Page }> {
  const context = await browser.newContext({ viewport: VIEWPORT });
  const agent = await context.newPage();
  await agent.goto(pageUrl(site, relay, 'agent.html', room, `&auto=0&w=${VIEWPORT.width}&h=${VIEWPORT.height}`));
  await agent.evaluate(() =>
    (window as any).cobrowseReady.then(() =>
      (window as any).cobrowseJoin({ showPointer: false, statusOverlay: false }).then((s: any) => {
        const w = window as any;
        w.assetLog = [];
        s.on('snapshot', () => (w.snapshotAt ??= performance.now()));
        s.on('assets', ({ urls }: { urls: string[] }) => w.assetLog.push({ at: performance.now(), urls }));
      }),
    ),
  );
  if (waitForSnapshot)
    await expect.poll(() => agent.evaluate(() => (window as any).cobrowseSnapshots)).toBeGreaterThan(0);
  return { context, agent };
}

/** What the agent's replay shows of the private assets. */
function replayState(agent: Page) {
  return inReplay(agent, (doc) => {
    const img = (id: string) => (doc.getElementById(id) as HTMLImageElement | null)?.naturalWidth ?? -1;
    const bg = (id: string) => {
      const el = doc.getElementById(id);
      return el ? doc.defaultView!.getComputedStyle(el).backgroundImage : '';
    };
    const font = [...((doc as any).fonts ?? [])].find((f: FontFace) => f.family.replace(/"/g, '') === 'PrivateFont');
    const svgImage = doc.getElementById('svg-image');
    return {
      logo: img('logo'),
      icon: img('icon'),
      responsive: img('responsive'),
      svgImage: svgImage?.getAttribute('href') ?? '',
      header: doc.querySelector('header')
        ? doc.defaultView!.getComputedStyle(doc.querySelector('header')!).backgroundImage
        : '',
      panel: bg('panel'),
      styled: bg('styled'),
      imported: bg('imported'),
      font: font?.status ?? 'none',
      fontCheck: (doc as any).fonts?.check('30px PrivateFont') ?? false,
    };
  });
}

async function compare(customer: Page, agent: Page, name: string): Promise<number> {
  await settle(customer);
  await settle(agent);
  const customerPng = await customer.screenshot();
  const agentPng = await agent.locator('#screen iframe').screenshot();
  const { matched, size, agentSize, diffPng } = comparePngs(customerPng, agentPng);
  expect(agentSize).toEqual(size);
  const out = join(REPO, 'test-results', 'assets');
  mkdirSync(out, { recursive: true });
  writeFileSync(join(out, `${name}-customer.png`), customerPng);
  writeFileSync(join(out, `${name}-agent.png`), agentPng);
  writeFileSync(join(out, `${name}-diff.png`), diffPng);
  return matched;
}

function report(name: string, value: unknown): void {
  test.info().annotations.push({ type: name, description: String(value) });
  console.log(`assets ${name}: ${typeof value === 'string' ? value : JSON.stringify(value)}`);
}

ext.describe('private assets', () => {
  ext(
    'the agent sees the images, backgrounds, fonts and stylesheets only the customer can load',
    async ({ browser, site, relay, shop }) => {
      const room = roomId();
      // The agent is watching when the customer starts sharing: the assets follow the snapshot.
      const { context: customerContext, customer } = await openShop(browser, shop, relay, room);
      const { context: agentContext, agent } = await openAgentView(browser, site, relay, room, false);
      await share(customer, {});
      await expect.poll(() => agent.evaluate(() => (window as any).cobrowseSnapshots)).toBeGreaterThan(0);
      // The agent's own browser cannot load them.
      const direct = (url: string) =>
        new Promise((resolve) => {
          const img = new Image();
          img.onload = () => resolve('loaded');
          img.onerror = () => resolve('refused');
          img.src = url;
        });
      expect(await agent.evaluate(direct, `${shop.url}/private/logo.png`)).toBe('refused');

      await expect
        .poll(() => replayState(agent), { timeout: 10_000 })
        .toMatchObject({ logo: 240, icon: 80, responsive: 120, font: 'loaded', fontCheck: true });
      const state = await replayState(agent);
      for (const key of ['header', 'panel', 'styled', 'imported', 'svgImage'] as const)
        expect(state[key], key).toContain('blob:');

      const matched = await compare(customer, agent, 'on');
      report('pixels matched (capture on)', `${(matched * 100).toFixed(3)} %`);
      expect(matched).toBeGreaterThanOrEqual(0.999);

      // Figures: bytes on the wire for assets, and how long after the snapshot the replay had them all.
      const sent = await customer.evaluate(() => (window as any).cobrowse.assetsSent);
      const expected = [
        'logo.png',
        'icon.svg',
        'bg.png',
        'tile.png',
        'panel.png',
        'imported.png',
        'r1.png',
        'font.ttf',
      ];
      const raw = expected.reduce((sum, name) => sum + shop.sizes[`/private/${name}`]!, 0);
      report('assets sent', `${sent.count} assets, ${sent.bytes} bytes in frames (${raw} bytes of files)`);
      expect(sent.count).toBe(expected.length);
      const timing = await agent.evaluate(() => {
        const w = window as any;
        const last = w.assetLog[w.assetLog.length - 1];
        return {
          first: Math.round(w.assetLog[0].at - w.snapshotAt),
          last: Math.round(last.at - w.snapshotAt),
          batches: w.assetLog.length,
        };
      });
      report('snapshot → assets applied in the replay (ms)', timing);

      // Later changes that refer to private assets: a new image, an inserted rule, a style change.
      await customer.evaluate(() => {
        const img = document.createElement('img');
        img.id = 'later-img';
        img.src = '/private/later.png';
        document.getElementById('later')!.appendChild(img);
        const sheet = document.styleSheets[1] as CSSStyleSheet;
        sheet.insertRule(
          '#later { min-height: 60px; background-image: url(/private/rule.png); }',
          sheet.cssRules.length,
        );
        document.getElementById('styled')!.style.backgroundImage = 'url(/private/bg.png)';
      });
      await expect
        .poll(() =>
          inReplay(agent, (doc) => ({
            later: (doc.getElementById('later-img') as HTMLImageElement | null)?.naturalWidth ?? -1,
            rule: doc
              .defaultView!.getComputedStyle(doc.getElementById('later')!)
              .backgroundImage.startsWith('url("blob:'),
            styled: doc
              .defaultView!.getComputedStyle(doc.getElementById('styled')!)
              .backgroundImage.startsWith('url("blob:'),
          })),
        )
        .toEqual({ later: 50, rule: true, styled: true });
      expect(await compare(customer, agent, 'on-later')).toBeGreaterThanOrEqual(0.999);
      await agentContext.close();
      await customerContext.close();
    },
  );

  ext('without capture the agent sees broken images and fallback fonts', async ({ browser, site, relay, shop }) => {
    const room = roomId();
    const { context: customerContext, customer } = await openShop(browser, shop, relay, room, { assets: false });
    const { context: agentContext, agent } = await openAgentView(browser, site, relay, room);
    await agent.waitForTimeout(1000);
    const state = await replayState(agent);
    expect(state.logo).toBe(0);
    expect(state.fontCheck && state.font === 'loaded').toBe(false);
    expect(await customer.evaluate(() => (window as any).cobrowse.assetsSent.count)).toBe(0);
    const matched = await compare(customer, agent, 'off');
    report('pixels matched (capture off)', `${(matched * 100).toFixed(3)} %`);
    expect(matched).toBeLessThan(0.99);
    await agentContext.close();
    await customerContext.close();
  });

  ext(
    'an agent who joins later gets the assets from the relay; blocked and masked regions are never fetched or sent',
    async ({ browser, site, relay, shop }) => {
      const room = roomId();
      const { context: customerContext, customer } = await openShop(browser, shop, relay, room, {});
      const recorderFetches: string[] = [];
      customer.on('request', (request) => {
        if (request.resourceType() === 'fetch') recorderFetches.push(new URL(request.url()).pathname);
      });
      // Shared for a while with nobody watching: the assets went to the relay.
      await expect.poll(() => customer.evaluate(() => (window as any).cobrowse.assetsSent.count)).toBe(8);
      const sentBefore = await customer.evaluate(() => (window as any).cobrowse.assetsSent);
      await customer.waitForTimeout(500);

      const before = shop.requests.length;
      const { context: agentContext, agent } = await openAgentView(browser, site, relay, room);
      await expect
        .poll(() => replayState(agent), { timeout: 10_000 })
        .toMatchObject({ logo: 240, icon: 80, font: 'loaded', fontCheck: true });
      // The assets arrived before the snapshot: the agent's browser never even asked the site for them
      // (only for the image of the masked region, which is not captured: it stays broken).
      expect(
        shop.requests
          .slice(before)
          .filter((r) => !r.cookie)
          .map((r) => r.path),
      ).toEqual(['/private/masked.png']);
      // It came from the relay's cache: the customer's page sent nothing more.
      expect(await customer.evaluate(() => (window as any).cobrowse.assetsSent)).toEqual(sentBefore);
      const received = await agent.evaluate(
        () => (window as any).assetLog.flatMap((entry: { urls: string[] }) => entry.urls) as string[],
      );
      expect(received.map((u) => new URL(u).pathname).sort()).toEqual(
        [
          '/private/bg.png',
          '/private/font.ttf',
          '/private/icon.svg',
          '/private/imported.png',
          '/private/logo.png',
          '/private/panel.png',
          '/private/r1.png',
          '/private/tile.png',
        ].sort(),
      );
      expect(await compare(customer, agent, 'late')).toBeGreaterThanOrEqual(0.999);

      // Privacy: the blocked image and the image in the masked region were never fetched by the
      // recorder nor sent; the masked text stays masked.
      const fetchedByRecorder = shop.requests.filter((r) => r.dest === 'empty').map((r) => r.path);
      expect(fetchedByRecorder).toContain('/private/logo.png');
      for (const secret of ['/private/secret.png', '/private/masked.png']) {
        expect(fetchedByRecorder).not.toContain(secret);
        expect(recorderFetches).not.toContain(secret);
        expect(received.some((u) => u.endsWith(secret))).toBe(false);
      }
      const replay = await inReplay(agent, (doc) => ({
        blocked: doc.querySelector('.blocked-region')?.innerHTML ?? null,
        maskedText: doc.getElementById('masked-text')?.textContent ?? null,
        html: doc.documentElement.outerHTML,
      }));
      expect(replay.blocked).toBe('');
      expect(replay.maskedText).not.toContain('12345678');
      expect(replay.html).not.toContain('secret.png');
      await agentContext.close();
      await customerContext.close();
    },
  );

  ext(
    'the relay restarts: the recorder sends its assets again, and an agent who joins after gets them',
    async ({ browser, site, shop }) => {
      const args = ['--dev', '--secret', 'asset-restart-secret'];
      let relay = await startRelay(args);
      try {
        const room = roomId();
        const { context: customerContext, customer } = await openShop(browser, shop, relay, room, {});
        await expect.poll(() => customer.evaluate(() => (window as any).cobrowse.assetsSent.count)).toBe(8);
        const port = relay.port;
        await relay.stop();
        relay = await startRelay(args, port);
        await expect
          .poll(
            () =>
              customer.evaluate(() => (window as any).cobrowseLog.filter((l: string) => l === 'status:live').length),
            { timeout: 20_000 },
          )
          .toBe(2);
        // The new relay had nothing: every asset went again (each URL still counted once).
        await expect
          .poll(() => customer.evaluate(() => (window as any).cobrowse.assetsSent.bytes))
          .toBeGreaterThan(2 * 336_000);
        expect(await customer.evaluate(() => (window as any).cobrowse.assetsSent.count)).toBe(8);
        const { context: agentContext, agent } = await openAgentView(browser, site, relay, room);
        await expect
          .poll(() => replayState(agent), { timeout: 10_000 })
          .toMatchObject({ logo: 240, icon: 80, font: 'loaded', fontCheck: true });
        expect(await compare(customer, agent, 'restart')).toBeGreaterThanOrEqual(0.999);
        await agentContext.close();
        await customerContext.close();
      } finally {
        await relay.stop();
      }
    },
  );
});
