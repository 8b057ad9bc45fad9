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
export async function openCustomer(
  context: BrowserContext,
  site: StaticSite,
  relay: { url: string },
  room: string,
  page = 'customer.html',
): Promise<Page> {
  const customer = await context.newPage();
  await customer.goto(pageUrl(site, relay, page, room));
  await expect
    .poll(() => customer.evaluate(() => (window as any).cobrowse?.status), { message: 'customer live' })
    .toBe('live');
  return customer;
}

/** Opens the agent page, joins the room, and waits for the first full snapshot to render. */
export async function openAgent(
  context: BrowserContext,
  site: StaticSite,
  relay: { url: string },
  room: string,
): Promise<Page> {
  const agent = await context.newPage();
  await agent.goto(pageUrl(site, relay, 'agent.html', room));
  await expect.poll(() => agent.evaluate(() => (window as any).agent?.status), { message: 'agent live' }).toBe('live');
  await expect
    .poll(() => agent.evaluate(() => (window as any).cobrowseSnapshots), { message: 'agent rendered a snapshot' })
    .toBeGreaterThan(0);
  // A page that takes the customer's browser more than 12 ms to serialise (a busy machine) comes as a
  // sliced snapshot: the rest follows the first part in batches at most ~150 ms apart. Wait until the
  // replay stops growing (at most 5 s: a page that keeps changing never does).
  let elements = -1;
  for (const end = Date.now() + 5000; Date.now() < end;) {
    const now = await agent.evaluate(
      () => (window as any).agent.iframe.contentDocument?.getElementsByTagName('*').length ?? 0,
    );
    if (now === elements) break;
    elements = now;
    await agent.waitForTimeout(300);
  }
  return agent;
}

/** Runs a function against the agent's replayed document. */
export function inReplay<T>(agent: Page, fn: (doc: Document) => T): Promise<T> {
  return agent.evaluate(`(${fn.toString()})(window.agent.iframe.contentDocument)`) as Promise<T>;
}

/** Text of the first element matching `selector` in the agent's replay (null when absent). */
export function replayText(agent: Page, selector: string): Promise<string | null> {
  return agent.evaluate(
    (sel) => (window as any).agent.iframe.contentDocument.querySelector(sel)?.textContent ?? null,
    selector,
  );
}

/**
 * A normalized serialization of a document's body, to compare the customer's page with the agent's
 * replay: element names, attributes (not rrweb's own), text — skipping scripts, the SDK's
 * indicator and blocked regions, and masking text where the recorder masks it.
 */
export function serializeBody(doc: Document): string {
  const SKIP = new Set(['SCRIPT', 'NOSCRIPT', 'STYLE', 'TEMPLATE']);
  // rrweb's own attributes, and event handlers (the replayer strips them by design).
  const IGNORED_ATTRIBUTES = /^(rr_|data-rr|autocomplete$|on)/;
  const out: string[] = [];
  const walk = (node: Node, masked: boolean) => {
    if (node.nodeType === 3) {
      const text = (node.textContent ?? '').replace(/\s+/g, ' ').trim();
      if (text) out.push(masked ? text.replace(/\S/g, '*') : text);
      return;
    }
    if (node.nodeType !== 1) return;
    const el = node as Element;
    // Blocked regions arrive as empty boxes without their attributes: test pages mark them with a class too.
    if (SKIP.has(el.tagName) || el.classList.contains('cobrowse-indicator') || el.classList.contains('blocked-region'))
      return;
    const attributes = [...el.attributes]
      .filter((a) => !IGNORED_ATTRIBUTES.test(a.name))
      .map((a) => `${a.name}=${a.value}`)
      .sort();
    out.push(`<${el.tagName.toLowerCase()}${attributes.length ? ' ' + attributes.join(' ') : ''}>`);
    const inMask = masked || el.hasAttribute('data-cobrowse-mask');
    for (const child of el.childNodes) walk(child, inMask);
    out.push(`</${el.tagName.toLowerCase()}>`);
  };
  walk(doc.body, false);
  return out.join('');
}

export function customerDom(customer: Page): Promise<string> {
  return customer.evaluate(`(${serializeBody.toString()})(document)`) as Promise<string>;
}

export function agentDom(agent: Page): Promise<string> {
  return agent.evaluate(`(${serializeBody.toString()})(window.agent.iframe.contentDocument)`) as Promise<string>;
}

/** Waits until the agent's replay equals the customer's page. */
export async function expectSameDom(customer: Page, agent: Page, timeout = 15_000): Promise<void> {
  const want = await customerDom(customer);
  await expect.poll(() => agentDom(agent), { timeout, message: "agent's DOM equals the customer's" }).toBe(want);
}

/** The statuses a page's SDK session went through, in order. */
export function statuses(page: Page): Promise<string[]> {
  return page.evaluate(() =>
    (window as any).cobrowseLog.filter((l: string) => l.startsWith('status:')).map((l: string) => l.slice(7)),
  );
}
