import { deflateRawSync } from 'node:zlib';
import type { BrowserContext, Page } from '@playwright/test';
import WebSocket from 'ws';
import { PROTOCOL_VERSION, encodeBinary, encodeText, socketUrl } from '@cobrowse/protocol';
import { expect, inReplay, openAgent, openCustomer, pageUrl, replayText, roomId, test } from './support/cobrowse.js';
import type { StaticSite } from './support/processes.js';

/** A 1×1 PNG. */
const PNG = new Uint8Array(
  Buffer.from(
    'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==',
    'base64',
  ),
);

test('a hostile customer page runs nothing in the agent page and navigates nothing', async ({
  context,
  site,
  relay,
}) => {
  const room = roomId();
  const customer = await openCustomer(context, site, relay, room, 'hostile.html');
  // A <base> pointing elsewhere (added once the page's own scripts have loaded).
  await customer.evaluate(() => {
    const base = document.createElement('base');
    base.href = 'http://127.0.0.1:9/evil-base/';
    document.head.prepend(base);
  });
  // The customer's own page is left alone by the SDK: its scripts run.
  expect(await customer.evaluate(() => (window as any).customerScriptRan)).toBe(true);
  const agent = await openAgent(context, site, relay, room);
  const agentUrl = agent.url();
  const exfil: string[] = [];
  agent.on('request', (request) => {
    if (/exfil|evil-base|hijacked/.test(request.url())) exfil.push(request.url());
  });
  // More hostile markup arrives as mutations after the snapshot.
  await customer.evaluate(() => {
    const later = document.createElement('div');
    later.innerHTML =
      '<meta http-equiv="refresh" content="1;url=/e2e/pages/agent.html?hijacked">' +
      '<img src="data:," onerror="top.pwned = (top.pwned || 0) + 1">' +
      '<iframe srcdoc="<script>top.pwned = (top.pwned || 0) + 1</script>"></iframe>' +
      '<p id="later">later</p>';
    document.body.appendChild(later);
    document.getElementById('title')!.setAttribute('onclick', 'top.pwned = 1');
  });
  await expect.poll(() => replayText(agent, '#later')).toBe('later');
  // Try the links and the form from the agent side.
  await agent.evaluate(() => {
    const doc = (window as any).agent.iframe.contentDocument as Document;
    (doc.getElementById('js-link') as HTMLAnchorElement)?.click();
    (doc.getElementById('top-link') as HTMLAnchorElement)?.click();
    (doc.getElementById('title') as HTMLElement)?.click();
    (doc.getElementById('send') as HTMLButtonElement)?.click();
  });
  await agent.waitForTimeout(1500); // past the meta refresh's 1 s
  expect(await agent.evaluate(() => (window as any).pwned)).toBeUndefined();
  expect(agent.url()).toBe(agentUrl);
  expect(await replayText(agent, '#title')).toBe('Hostile page'); // the replay was not navigated away
  expect(exfil).toEqual([]);
  const sandbox = await agent.evaluate(() => (window as any).agent.iframe.getAttribute('sandbox'));
  expect(sandbox).toBe('allow-same-origin');
  const html = await agent.evaluate(
    () => (window as any).agent.iframe.contentDocument.documentElement.outerHTML as string,
  );
  for (const bad of ['onerror=', 'onload=', 'onclick=', 'javascript:', 'srcdoc=', 'http-equiv="refresh"', 'evil-base'])
    expect(html, bad).not.toContain(bad);
});

// ---------------------------------------------------------------------------------------------
// A hostile stream: a "recorder" that is not our SDK, speaking the protocol straight to a real
// relay, so every order of events and every byte an attacker can choose reaches the agent's tab.

type Node = Record<string, unknown>;
let nextId = 1000;
const element = (
  tagName: string,
  attributes: Record<string, unknown> = {},
  childNodes: Node[] = [],
  id = ++nextId,
) => ({
  type: 2,
  tagName,
  attributes,
  childNodes,
  id,
});
const text = (textContent: string) => ({ type: 3, textContent, id: ++nextId });

/** Meta + full snapshot of a page at `href` whose body holds `body`. */
function snapshot(href: string, body: Node[], head: Node[] = []): unknown[] {
  return [
    { type: 4, timestamp: Date.now(), data: { href, width: 800, height: 600 } },
    {
      type: 2,
      timestamp: Date.now(),
      data: {
        initialOffset: { top: 0, left: 0 },
        node: {
          type: 0,
          id: 1,
          childNodes: [element('html', {}, [element('head', {}, head, 3), element('body', {}, body, 4)], 2)],
        },
      },
    },
  ];
}

/** An rrweb mutation event (rrweb builds each added node alone: children are adds of their own). */
function mutation(data: { adds?: unknown[]; removes?: unknown[]; attributes?: unknown[]; texts?: unknown[] }) {
  return {
    type: 3,
    timestamp: Date.now(),
    data: { source: 0, adds: [], removes: [], attributes: [], texts: [], ...data },
  };
}

interface HostileRecorder {
  send(events: unknown[], options?: { snap?: boolean; z?: 0 | 1 }): void;
  sendRaw(payload: Uint8Array, options: { snap?: boolean; z: 1 }): void;
  asset(url: string, mime: string, bytes: Uint8Array): void;
  close(): void;
}

async function hostileRecorder(relay: { url: string }, room: string): Promise<HostileRecorder> {
  const response = await fetch(`${relay.url}/service-cloud/rest/webadapter/v1/connectionInfo/getConnectionInfo`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'ccmessaging-token': 'dev' },
    body: JSON.stringify({ roomId: room, userId: 'mallory', userName: 'Mallory', role: 'recorder' }),
  });
  const { data } = (await response.json()) as { data: { wssUrl: string; signature: string } };
  const ws = new WebSocket(socketUrl(data.wssUrl, data.signature, 'recorder'));
  const welcome = new Promise<void>((resolve, reject) => {
    ws.on('message', (frame) => {
      if (String(frame).startsWith('{"type":"welcome"')) resolve();
    });
    ws.once('error', reject);
  });
  await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject));
  const epoch = `mallory-${Date.now()}`;
  ws.send(encodeText({ type: 'hello', v: PROTOCOL_VERSION, epoch }));
  await welcome;
  let seq = 0;
  return {
    send(events, { snap = false, z = 0 } = {}) {
      const json = JSON.stringify(events);
      const header = { type: 'events' as const, epoch, seq: ++seq, ...(snap ? { snap } : {}), ...(z ? { z } : {}) };
      if (z === 1) ws.send(encodeBinary(header, new Uint8Array(deflateRawSync(json))));
      else ws.send(encodeText(header, json));
    },
    sendRaw(payload, { snap = false, z }) {
      ws.send(encodeBinary({ type: 'events', epoch, seq: ++seq, ...(snap ? { snap } : {}), z }, payload));
    },
    asset(url, mime, bytes) {
      ws.send(encodeBinary({ type: 'asset', url, mime }, bytes));
    },
    close: () => ws.close(),
  };
}

/** An agent page that joined `room` (with extra join options) and records what the tab sees. */
async function hostileAgent(
  context: BrowserContext,
  site: StaticSite,
  relay: { url: string },
  room: string,
  join = {},
) {
  const agent = await context.newPage();
  // Requests that reached a server (a request the replay's CSP blocks is reported, then fails: not counted).
  const requests: { url: string; referer: string | undefined }[] = [];
  agent.on('response', (response) =>
    requests.push({ url: response.url(), referer: response.request().headers()['referer'] }),
  );
  await agent.goto(pageUrl(site, relay, 'agent.html', room, '&auto=0'));
  await agent.evaluate(async (join) => {
    const w = window as any;
    w.longTasks = [];
    new PerformanceObserver((list) => {
      for (const entry of list.getEntries()) w.longTasks.push(Math.round(entry.duration));
    }).observe({ type: 'longtask', buffered: true });
    await w.cobrowseReady;
    const session = await w.cobrowseJoin(join);
    w.tooLarge = [];
    w.snapshotCount = 0;
    session.on('too-large', (e: unknown) => w.tooLarge.push(e));
    session.on('snapshot', () => w.snapshotCount++);
  }, join);
  return { agent, requests };
}

const snapshots = (agent: Page) => agent.evaluate(() => (window as any).snapshotCount as number);

/** The reasons of the `too-large` events a {@link hostileAgent} saw, in order. */
const tooLargeReasons = (agent: Page) =>
  agent.evaluate(() => (window as any).tooLarge.map((e: { reason: string }) => e.reason) as string[]);

/**
 * The {@link hostileAgent}'s tab kept answering, and no task held its main thread for long. Each step
 * of a hostile stream is cut into tasks (the inflater yields; parse and count are one task per
 * batch): 79–270 ms measured alone, 477 ms once in CI with another worker's browsers on the same 2
 * cores. A step done in one go (a deflate bomb inflated at once, deep nesting walked recursively)
 * takes seconds.
 */
async function expectResponsive(agent: Page, label: string): Promise<void> {
  expect(await agent.evaluate(() => 1 + 1)).toBe(2);
  const longest = Math.max(0, ...(await agent.evaluate(() => (window as any).longTasks as number[])));
  console.log(`${label}longest main-thread task in the agent tab: ${longest} ms`);
  expect(longest).toBeLessThan(1000);
}

test('the sanitizer judges the final state: same-mutation attributes, reused ids and every URL trick run, navigate and submit nothing', async ({
  context,
  site,
  relay,
}) => {
  const room = roomId();
  const { agent, requests } = await hostileAgent(context, site, relay, room);
  const agentUrl = agent.url();
  const mallory = await hostileRecorder(relay, room);
  const page = `${site.url}/e2e/pages/customer-claimed.html`;
  const js = 'top.pwned=(top.pwned||0)+1';
  const tricks = [
    `java\tscript:${js}`,
    `java\nscript:${js}`,
    ` \u0001JaVaScRiPt:${js}`,
    `&#106;avascript:${js}`,
    `javascript&colon;${js}`,
    `vbscript:msgbox(1)`,
    `data:text/html,<script>${js}</script>`,
    `data:text/xml,<x:script xmlns:x="http://www.w3.org/1999/xhtml">${js}</x:script>`,
    `data:image/svg+xml,<svg xmlns="http://www.w3.org/2000/svg" onload="${js}"/>`,
  ];
  const links = tricks.map((href, i) => element('a', { href, id: `trick-${i}` }, [text(`trick ${i}`)]));
  mallory.send(
    snapshot(page, [
      element('h1', { id: 'title' }, [text('Claimed page')]),
      ...links,
      element('iframe', { srcdoc: `<script>${js}</script>`, src: `${site.url}/exfil?iframe` }),
      element('object', { data: `data:text/html,<script>${js}</script>` }),
      element('embed', { src: `${site.url}/exfil?embed`, type: 'text/html' }),
      element('form', { action: `${site.url}/exfil?form`, method: 'post', id: 'steal' }, [
        element('input', { name: 'secret', value: 'x' }),
        element('button', { id: 'send', formaction: `${site.url}/exfil?formaction` }, [text('Send')]),
      ]),
      element('svg', { width: '20', height: '20' }, [
        element('a', { 'xlink:href': `javascript:${js}`, id: 'svg-link' }, [
          element('set', { attributeName: 'href', to: `javascript:${js}`, begin: '0s' }),
          element('animate', { attributeName: 'xlink:href', values: `javascript:${js};https://x.example/` }),
          element('circle', { r: '5', cx: '10', cy: '10' }),
        ]),
      ]),
    ]),
    { snap: true },
  );
  await expect.poll(() => snapshots(agent)).toBe(1);
  // The same mutation adds an element and sets what it must not have; an id is reused for a <base>,
  // a <meta> and a <form>; attribute values carry the URL tricks.
  mallory.send([
    mutation({
      adds: [
        { parentId: 4, nextId: null, node: element('a', { id: 'late-link' }, [], 500) },
        { parentId: 500, nextId: null, node: text('late') },
        { parentId: 3, nextId: null, node: element('base', {}, [], 501) },
        { parentId: 3, nextId: null, node: element('meta', { name: 'x' }, [], 502) },
        { parentId: 4, nextId: null, node: element('p', { id: 'later' }, [], 503) },
      ],
      attributes: [
        { id: 500, attributes: { href: `java\tscript:${js}`, onclick: js } },
        { id: 501, attributes: { href: `${site.url}/evil-base/` } },
        {
          id: 502,
          attributes: { 'http-equiv': 'refresh', content: `0;url=${site.url}/e2e/pages/agent.html?hijacked` },
        },
      ],
    }),
  ]);
  mallory.send([
    mutation({
      removes: [{ parentId: 4, id: 503 }],
      adds: [
        { parentId: 4, nextId: null, node: element('form', { id: 'reused' }, [element('button', {}, [], 505)], 503) },
      ],
      attributes: [{ id: 503, attributes: { action: `${site.url}/exfil?reused`, target: '_top' } }],
    }),
  ]);
  mallory.send([
    mutation({
      adds: [
        { parentId: 4, nextId: null, node: element('p', { id: 'done' }, [], 506) },
        { parentId: 506, nextId: null, node: text('done') },
      ],
      attributes: [{ id: 1001 + 1, attributes: { srcdoc: `<script>${js}</script>` } }],
    }),
  ]);
  await expect
    .poll(async () => (await replayText(agent, '#done')) ?? (await agent.evaluate(() => (window as any).cobrowseLog)))
    .toBe('done');
  await agent.evaluate(() => {
    const doc = (window as any).agent.iframe.contentDocument as Document;
    for (const a of doc.querySelectorAll('a')) (a as HTMLElement).click();
    doc.querySelector<SVGElement>('#svg-link')?.dispatchEvent(new MouseEvent('click', { bubbles: true }));
    doc.getElementById('send')?.click();
    (doc.querySelector('#reused button') as HTMLElement | null)?.click();
    for (const form of doc.querySelectorAll('form')) form.requestSubmit?.();
  });
  // The meta refresh asked for 0 s; a replay that navigated would have lost its document by now.
  await expect.poll(() => replayText(agent, '#done'), { timeout: 1500 }).toBe('done');
  await agent.waitForTimeout(500);
  expect(await agent.evaluate(() => (window as any).pwned)).toBeUndefined();
  expect(agent.url()).toBe(agentUrl);
  expect(await replayText(agent, '#title')).toBe('Claimed page');
  expect(requests.filter((r) => /exfil|evil-base|hijacked/.test(r.url))).toEqual([]);
  const html = await inReplay(agent, (doc) => doc.documentElement.outerHTML);
  for (const bad of ['script:', 'srcdoc', 'http-equiv="refresh"', 'evil-base', 'exfil', 'onclick', 'data:text'])
    expect(html, bad).not.toContain(bad);
  for (const tag of ['object', 'embed']) expect(html, tag).not.toContain(`<${tag}`);
  mallory.close();
});

test('the replay never speaks for the agent: no Referer, relative URLs resolve on the customer page, the console origin is out of reach', async ({
  context,
  site,
  relay,
}) => {
  const room = roomId();
  const { agent, requests } = await hostileAgent(context, site, relay, room);
  await context.addCookies([{ name: 'agent-session', value: 'secret', url: site.url }]);
  const mallory = await hostileRecorder(relay, room);
  // The customer's page claims another origin (localhost) than the agent console's (127.0.0.1).
  const customerOrigin = site.url.replace('127.0.0.1', 'localhost');
  mallory.send(
    snapshot(
      `${customerOrigin}/shop/page.html`,
      [
        element('img', { src: 'relative.png', id: 'rel' }),
        element('img', { src: `${site.url}/console-api/delete?all` }),
        element('div', { style: `background: url(${site.url}/console-api/css)` }, [text('x')]),
        element('div', { class: 'x' }, [text('relative in a stylesheet')]),
        element('p', { id: 'done' }, [text('done')]),
      ],
      [element('style', {}, [{ ...text(`.x { background: url(/console-api/style-relative) }`), isStyle: true }])],
    ),
    { snap: true },
  );
  await expect.poll(() => replayText(agent, '#done')).toBe('done');
  await expect.poll(() => requests.some((r) => r.url.endsWith('/shop/relative.png'))).toBe(true);
  const relative = requests.find((r) => r.url.endsWith('/shop/relative.png'))!;
  expect(relative.url).toBe(`${customerOrigin}/shop/relative.png`);
  expect(relative.referer ?? '').toBe('');
  // Nothing reached the console's own origin (the agent's cookies live there).
  await agent.waitForTimeout(300);
  expect(requests.filter((r) => r.url.startsWith(site.url) && r.url.includes('console-api'))).toEqual([]);
  // A relative reference in a stylesheet resolves against the customer's page too.
  await expect.poll(() => requests.some((r) => r.url === `${customerOrigin}/console-api/style-relative`)).toBe(true);
  mallory.close();
});

test("assets: 'relay' — the agent's browser fetches nothing for the replay but what the relay sent", async ({
  context,
  site,
  relay,
}) => {
  const room = roomId();
  const { agent, requests } = await hostileAgent(context, site, relay, room, { assets: 'relay' });
  const before = requests.length;
  const mallory = await hostileRecorder(relay, room);
  const page = `${site.url}/shop/page.html`;
  mallory.asset(`${site.url}/shop/logo.png`, 'image/png', PNG);
  mallory.send(
    snapshot(page, [
      element('img', { src: `${site.url}/shop/logo.png`, id: 'logo' }),
      element('img', { src: `${site.url}/shop/not-captured.png` }),
      element('img', { src: 'https://cdn.example/x.png' }),
      element('p', { id: 'done' }, [text('done')]),
    ]),
    { snap: true },
  );
  await expect.poll(() => replayText(agent, '#done')).toBe('done');
  await expect
    .poll(() => inReplay(agent, (doc) => (doc.getElementById('logo') as HTMLImageElement).naturalWidth))
    .toBeGreaterThan(0);
  await agent.waitForTimeout(300);
  const fetched = requests.slice(before).filter((r) => !r.url.startsWith('blob:') && !r.url.startsWith('data:'));
  expect(fetched).toEqual([]);
  mallory.close();
});

test('captured assets reach the replay only as inert types: an SVG with script runs nothing opened on its own; mislabelled bytes are refused', async ({
  context,
  site,
  relay,
}) => {
  const room = roomId();
  const { agent } = await hostileAgent(context, site, relay, room);
  const mallory = await hostileRecorder(relay, room);
  const page = `${site.url}/shop/page.html`;
  const svg =
    '<?xml version="1.0"?><?xml-stylesheet type="text/xsl" href="data:text/xml,x"?>' +
    '<!DOCTYPE svg [<!ENTITY e "x">]>' +
    '<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" width="10" height="10" onload="localStorage.pwned=1">' +
    '<script>localStorage.pwned = 2</script>' +
    '<foreignObject><iframe xmlns="http://www.w3.org/1999/xhtml" src="javascript:localStorage.pwned=3"/></foreignObject>' +
    '<a xlink:href="javascript:localStorage.pwned=4"><set attributeName="href" to="javascript:localStorage.pwned=5"/>' +
    '<rect id="r" width="10" height="10" fill="red"/></a><use href="#r"/></svg>';
  mallory.asset(`${site.url}/shop/icon.svg`, 'image/svg+xml', new TextEncoder().encode(svg));
  // HTML labelled as an image, and a PNG labelled as an SVG.
  mallory.asset(
    `${site.url}/shop/fake.png`,
    'image/png',
    new TextEncoder().encode('<html><script>localStorage.pwned=6</script>'),
  );
  mallory.asset(`${site.url}/shop/fake.svg`, 'image/svg+xml', PNG);
  mallory.send(
    snapshot(page, [
      element('img', { src: `${site.url}/shop/icon.svg`, id: 'svg' }),
      element('img', { src: `${site.url}/shop/fake.png`, id: 'fake-png' }),
      element('img', { src: `${site.url}/shop/fake.svg`, id: 'fake-svg' }),
      element('p', { id: 'done' }, [text('done')]),
    ]),
    { snap: true },
  );
  await expect.poll(() => replayText(agent, '#done')).toBe('done');
  const src = (id: string) =>
    inReplay(
      agent,
      new Function('doc', `return doc.getElementById(${JSON.stringify(id)}).getAttribute('src')`) as (
        doc: Document,
      ) => string,
    );
  await expect.poll(() => src('svg')).toMatch(/^blob:/);
  expect(await src('fake-png')).toBe(`${site.url}/shop/fake.png`);
  expect(await src('fake-svg')).toBe(`${site.url}/shop/fake.svg`);
  const blobUrl = await src('svg');
  const kept = await agent.evaluate(async (url) => (await fetch(url)).text(), blobUrl);
  for (const bad of [
    'script',
    'onload',
    'javascript',
    'foreignObject',
    'iframe',
    'xml-stylesheet',
    'ENTITY',
    'attributeName="href"',
  ])
    expect(kept, bad).not.toContain(bad);
  expect(kept).toContain('<rect');
  // Opened on its own (a new tab), in the agent console's origin.
  const opened = await context.newPage();
  await opened.goto(blobUrl);
  await opened
    .locator('a')
    .first()
    .click({ force: true })
    .catch(() => undefined);
  await opened.waitForTimeout(300);
  expect(await agent.evaluate(() => localStorage.getItem('pwned'))).toBeNull();
  await opened.close();
  mallory.close();
});

test('a hostile size (300,000 nodes, 20,000-deep nesting, a deflate bomb) leaves the agent tab responsive and says "too large to show"', async ({
  context,
  site,
  relay,
}) => {
  test.setTimeout(120_000);
  const room = roomId();
  const { agent } = await hostileAgent(context, site, relay, room);
  const mallory = await hostileRecorder(relay, room);
  const page = `${site.url}/shop/page.html`;
  const tooLarge = () => tooLargeReasons(agent);
  const overlay = () => agent.locator('.cobrowse-status');

  mallory.send(snapshot(page, [element('p', { id: 'small' }, [text('small page')])]), { snap: true });
  await expect.poll(() => replayText(agent, '#small')).toBe('small page');

  // 300,000 nodes in one snapshot.
  const many = Array.from({ length: 300_000 }, () => element('i'));
  mallory.send(snapshot(page, [element('div', {}, many)]), { snap: true, z: 1 });
  await expect.poll(tooLarge, { timeout: 30_000 }).toEqual(['nodes']);
  await expect(overlay()).toHaveText(/too large to show/i);

  // 20,000-deep nesting.
  // (Written as text: JSON.stringify itself would overflow the stack on it.)
  const open = Array.from(
    { length: 20_000 },
    (_, i) => `{"type":2,"tagName":"div","attributes":{},"id":${200_000 + i},"childNodes":[`,
  );
  const deep = `${open.join('')}${']}'.repeat(20_000)}`;
  const events = JSON.stringify(snapshot(page, [{ deep: true }])).replace('{"deep":true}', deep);
  mallory.sendRaw(new Uint8Array(deflateRawSync(events)), { snap: true, z: 1 });
  await expect.poll(tooLarge, { timeout: 30_000 }).toEqual(['nodes', 'depth']);

  // Nesting built up one mutation at a time.
  mallory.send(snapshot(page, [element('p', { id: 'small' }, [text('small again')])]), { snap: true });
  await expect.poll(() => replayText(agent, '#small')).toBe('small again');
  await expect(overlay()).toBeHidden();
  let parent = 4;
  const adds = [];
  for (let i = 0; i < 1_500; i++) {
    const id = 100_000 + i;
    adds.push({ parentId: parent, nextId: null, node: element('div', {}, [], id) });
    parent = id;
  }
  mallory.send([mutation({ adds })]);
  await expect.poll(tooLarge, { timeout: 30_000 }).toEqual(['nodes', 'depth', 'depth']);

  // A deflate bomb: 256 MiB of JSON whitespace from a quarter of a megabyte on the wire.
  mallory.send(snapshot(page, [element('p', { id: 'small' }, [text('small once more')])]), { snap: true });
  await expect.poll(() => replayText(agent, '#small')).toBe('small once more');
  const spaces = Buffer.alloc(256 * 1024 * 1024, 0x20);
  spaces[0] = 0x5b; // '['
  const bomb = deflateRawSync(spaces);
  expect(bomb.length).toBeLessThan(1024 * 1024);
  mallory.sendRaw(new Uint8Array(bomb), { snap: true, z: 1 });
  await expect.poll(tooLarge, { timeout: 30_000 }).toEqual(['nodes', 'depth', 'depth', 'batch-bytes']);

  await expectResponsive(agent, '');
  mallory.close();
});

test("nested adds (a sliced snapshot's subtrees): applied whole and cleaned; a depth bomb, a node flood and a malformed one are refused, the tab stays responsive", async ({
  context,
  site,
  relay,
}) => {
  test.setTimeout(120_000);
  const room = roomId();
  // A page may have 20,000 nodes here (the size limits' option): the flood below stays small.
  const { agent } = await hostileAgent(context, site, relay, room, { maxNodes: 20_000 });
  const mallory = await hostileRecorder(relay, room);
  const page = `${site.url}/shop/page.html`;
  const tooLarge = () => tooLargeReasons(agent);
  const nested = (adds: unknown[]) => ({
    ...mutation({ adds }),
    data: { ...mutation({ adds }).data, cobrowseNested: 1 },
  });
  const small = (label: string) => snapshot(page, [element('p', { id: 'small' }, [text(label)])]);

  mallory.send(small('small page'), { snap: true });
  await expect.poll(() => replayText(agent, '#small')).toBe('small page');

  // A subtree in one add, an event handler three levels down: all of it arrives, the handler does not.
  const list = element('ul', { id: 'nested' }, [
    element('li', {}, [element('b', { onclick: 'top.pwned = 1', id: 'deep-b' }, [text('one')])]),
    element('li', {}, [text('two')]),
  ]);
  mallory.send([nested([{ parentId: 4, nextId: null, node: list }])]);
  await expect.poll(() => replayText(agent, '#nested')).toBe('onetwo');
  expect(await inReplay(agent, (doc) => doc.getElementById('deep-b')?.getAttribute('onclick') ?? null)).toBeNull();

  // 20,000 deep in one add (as text: JSON.stringify would overflow the stack on it).
  const open = Array.from(
    { length: 20_000 },
    (_, i) => `{"type":2,"tagName":"div","attributes":{},"id":${300_000 + i},"childNodes":[`,
  );
  const bomb = JSON.stringify([nested([{ parentId: 4, nextId: null, node: { deep: true } }])]).replace(
    '{"deep":true}',
    `${open.join('')}${']}'.repeat(20_000)}`,
  );
  mallory.sendRaw(new Uint8Array(deflateRawSync(bomb)), { z: 1 });
  await expect.poll(tooLarge, { timeout: 30_000 }).toEqual(['depth']);

  // 21,000 nodes in one add (under what the decoder refuses before parsing: the size limits count them).
  mallory.send(small('small again'), { snap: true });
  await expect.poll(() => replayText(agent, '#small')).toBe('small again');
  const flood = element(
    'div',
    {},
    Array.from({ length: 21_000 }, () => element('i')),
  );
  mallory.send([nested([{ parentId: 4, nextId: null, node: flood }])], { z: 1 });
  await expect.poll(tooLarge, { timeout: 30_000 }).toEqual(['depth', 'nodes']);

  // Malformed (one node twice: a loop once flattened): refused with a clear error, nothing of it shown;
  // the next snapshot is shown as usual.
  mallory.send(small('small once more'), { snap: true });
  await expect.poll(() => replayText(agent, '#small')).toBe('small once more');
  const twice = element('span', {}, [text('twice')]);
  mallory.send([nested([{ parentId: 4, nextId: null, node: element('div', { id: 'malformed' }, [twice, twice]) }])]);
  mallory.send(snapshot(page, [element('p', { id: 'after' }, [text('after')])]), { snap: true });
  await expect.poll(() => replayText(agent, '#after')).toBe('after');
  expect(await replayText(agent, '#malformed')).toBeNull();
  const log = await agent.evaluate(() => (window as any).cobrowseLog as string[]);
  expect(log).toContain(`error:nested adds refused: node ${twice.id} appears twice`);

  // 95–191 ms measured alone or in CI.
  await expectResponsive(agent, 'nested adds: ');
  mallory.close();
});
