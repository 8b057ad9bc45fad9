import { test as base, expect, type BrowserContext, type Page } from '@playwright/test';
import { type RelayProcess, type StaticSite, startRelay, startSite } from './processes.js';

export { expect };

/** Fixtures: one real relay process and one loopback static site per worker. */
export const test = base.extend<object, { relay: RelayProcess; site: StaticSite }>({
  relay: [
    async ({}, use) => {
      const relay = await startRelay();
      await use(relay);
      await relay.stop();
    },
    { scope: 'worker' },
  ],
  site: [
    async ({}, use) => {
      const site = await startSite();
      await use(site);
      await site.close();
    },
    { scope: 'worker' },
  ],
});

let rooms = 0;
/** A room id no other test uses. */
export function roomId(): string {
  return `t${process.pid}-${Date.now().toString(36)}-${++rooms}`;
}

export function pageUrl(site: StaticSite, relay: { url: string }, page: string, room: string, extra = ''): string {
  const path = page.startsWith('/') ? page : `/e2e/pages/${page}`;
  return `${site.url}${path}?relay=${encodeURIComponent(relay.url)}&room=${encodeURIComponent(room)}${extra}`;
}

/** Opens a customer page that shares itself, and waits until it is live. */
export async function openCustomer(context: BrowserContext, site: StaticSite, relay: { url: string }, room: string, page = 'customer.html'): Promise<Page> {
  const customer = await context.newPage();
  await customer.goto(pageUrl(site, relay, page, room));
  await expect.poll(() => customer.evaluate(() => (window as any).cobrowse?.status), { message: 'customer live' }).toBe('live');
  return customer;
}

/** Opens the agent page, joins the room, and waits for the first full snapshot to render. */
export async function openAgent(context: BrowserContext, site: StaticSite, relay: { url: string }, room: string): Promise<Page> {
  const agent = await context.newPage();
  await agent.goto(pageUrl(site, relay, 'agent.html', room));
  await expect.poll(() => agent.evaluate(() => (window as any).agent?.status), { message: 'agent live' }).toBe('live');
  await expect.poll(() => agent.evaluate(() => (window as any).cobrowseSnapshots), { message: 'agent rendered a snapshot' }).toBeGreaterThan(0);
  return agent;
}

/** Runs a function against the agent's replayed document. */
export function inReplay<T>(agent: Page, fn: (doc: Document) => T): Promise<T> {
  return agent.evaluate(`(${fn.toString()})(window.agent.iframe.contentDocument)`) as Promise<T>;
}

/** Text of the first element matching `selector` in the agent's replay (null when absent). */
export function replayText(agent: Page, selector: string): Promise<string | null> {
  return agent.evaluate((sel) => (window as any).agent.iframe.contentDocument.querySelector(sel)?.textContent ?? null, selector);
}
