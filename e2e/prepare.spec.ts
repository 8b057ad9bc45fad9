import type { BrowserContext, Page } from '@playwright/test';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { type AddressInfo, type Socket, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CEC_PATH, PASSPHRASE_PREFIX } from '@cobrowse/protocol';
import { expect, openCustomer, pageUrl, replayText, roomId, test } from './support/cobrowse.js';
import { type StaticSite, startRelay } from './support/processes.js';
import { FaultyProxy, replayerLinks } from './support/proxy.js';

/** The agent page with the SDK loaded and nothing joined; `prepared` holds `CobrowseReplayer.prepare(options)`. */
async function agentWithPreparedView(page: Page, url: string, options: Record<string, unknown> = {}) {
  await page.goto(url);
  await page.evaluate(async (extra) => {
    const w = window as any;
    await w.cobrowseReady;
    w.prepared = w.CobrowseReplayer.prepare({ container: '#screen', ...extra });
  }, options);
}

/** `prepared.join()` with the harness's credentials; resolves to the error message, or 'joined'. */
function joinPrepared(page: Page, extra: Record<string, unknown> = {}) {
  return page.evaluate(async (more) => {
    const w = window as any;
    const params = new URLSearchParams(location.search);
    try {
      const session = await w.prepared.join({
        server: params.get('relay'),
        roomId: params.get('room'),
        headers: { 'ccmessaging-token': 'dev' },
        userId: 'agent-p',
        userName: 'Agent',
        ...more,
      });
      w.agent = session;
      w.cobrowseSnapshots = 0;
      w.tooLarge = [];
      session.on('snapshot', () => w.cobrowseSnapshots++);
      session.on('too-large', (e: unknown) => w.tooLarge.push(e));
      return 'joined';
    } catch (error) {
      return (error as Error).message;
    }
  }, extra);
}

/** `prepared.join()` with no options: everything from prepare(); resolves to the error message, or 'joined'. */
function joinAsPrepared(page: Page) {
  return page.evaluate(async () => {
    const w = window as any;
    try {
      w.agent = await w.prepared.join();
      w.cobrowseSnapshots = 0;
      w.agent.on('snapshot', () => w.cobrowseSnapshots++);
      return 'joined';
    } catch (error) {
      return (error as Error).message;
    }
  });
}

/** The customer's `agents` events, from now on (the relay's presence messages: agents in the room). */
async function watchAgents(customer: Page) {
  await customer.evaluate(() => {
    const w = window as any;
    w.agentCounts = [];
    w.cobrowse.on('agents', (n: number) => w.agentCounts.push(n));
  });
  return () => customer.evaluate(() => (window as any).agentCounts as number[]);
}

const paths = (list: FaultyProxy['requests']) =>
  list.map((r) => `${r.preflight ? 'preflight' : r.method} ${r.path.replace(/\?.*/, '')}`);

/**
 * The stage of the tests that count requests: `relay` reached through a proxy that lists every
 * request, a customer sharing a new room on it, and an agent page (`url`) with nothing prepared yet;
 * `service` is the connection's options through the proxy.
 */
async function proxiedStage(context: BrowserContext, site: StaticSite, relay: { port: number; url: string }) {
  const proxy = new FaultyProxy();
  proxy.target = relay.port;
  const relayUrl = `http://127.0.0.1:${await proxy.listen()}`;
  const service = { server: relayUrl, headers: { 'ccmessaging-token': 'dev' }, userId: 'agent-p', userName: 'Agent' };
  const room = roomId();
  const customer = await openCustomer(context, site, relay, room);
  const agents = await watchAgents(customer);
  const agent = await context.newPage();
  const url = pageUrl(site, relay, 'agent.html', room, '&auto=0');
  return { proxy, relayUrl, service, room, customer, agents, agent, url };
}

/** Waits for the agent's first snapshot: the replay then shows the customer's claim form. */
async function expectClaimForm(agent: Page) {
  await expect.poll(() => agent.evaluate(() => (window as any).cobrowseSnapshots)).toBeGreaterThan(0);
  expect(await replayText(agent, '#title')).toBe('Acme Insurance — Claim form');
}

test('a view prepared ahead connects nothing and shows nothing until join(), then shows the page as join() does', async ({
  context,
  site,
  relay,
}) => {
  const room = roomId();
  const agent = await context.newPage();
  const toRelay: string[] = [];
  agent.on('request', (request) => {
    if (request.url().startsWith(relay.url) && !request.url().includes('/sdk/')) toRelay.push(request.url());
  });
  const sockets: string[] = [];
  agent.on('websocket', (socket) => sockets.push(socket.url()));
  await agentWithPreparedView(agent, pageUrl(site, relay, 'agent.html', room, '&auto=0'));

  // Built: the replay iframe is in the container, sandboxed as a joined one is. Nothing else happened.
  await expect(agent.locator('#screen iframe')).toHaveCount(1);
  expect(await agent.evaluate(() => (window as any).prepared.iframe.getAttribute('sandbox'))).toBe('allow-same-origin');
  await agent.waitForTimeout(500);
  await expect(agent.locator('.cobrowse-status')).toBeHidden();
  expect(toRelay).toEqual([]);
  expect(sockets).toEqual([]);

  // Joined: the customer's page shows in that same iframe.
  const customer = await openCustomer(context, site, relay, room);
  expect(await joinPrepared(agent)).toBe('joined');
  await expectClaimForm(agent);
  await expect(agent.locator('#screen iframe')).toHaveCount(1);
  await customer.evaluate(() => (window as any).addRow('Prepared'));
  await expect.poll(() => replayText(agent, '#claims tbody')).toContain('Prepared');

  // One join per view: a second one is refused, clearly, and the live session goes on.
  expect(await joinPrepared(agent)).toBe('CobrowseReplayer: this prepared view has joined already; prepare() another');
  await customer.evaluate(() => (window as any).addRow('Still live'));
  await expect.poll(() => replayText(agent, '#claims tbody')).toContain('Still live');

  // leave() takes the view down like a join()'s.
  await agent.evaluate(() => (window as any).agent.leave());
  await expect(agent.locator('#screen iframe')).toHaveCount(0);
});

test('a prepared view keeps the limits it was built with: a join() asking for looser ones does not get them', async ({
  context,
  site,
  relay,
}) => {
  const room = roomId();
  await openCustomer(context, site, relay, room);
  const agent = await context.newPage();
  await agentWithPreparedView(agent, pageUrl(site, relay, 'agent.html', room, '&auto=0'), { maxNodes: 50 });
  // A console (or a script injected into it) passing view options to join(): ignored, not merged.
  expect(await joinPrepared(agent, { maxNodes: 1_000_000, container: 'body' })).toBe('joined');
  await expect
    .poll(() => agent.evaluate(() => (window as any).tooLarge), { timeout: 10_000 })
    .toEqual([{ reason: 'nodes', limit: 50 }]);
  await expect(agent.locator('.cobrowse-status')).toHaveText(/too large to show/i);
  // And the container named in join() was not used: the one replay iframe is the prepared one.
  await expect(agent.locator('iframe')).toHaveCount(1);
  await expect(agent.locator('#screen iframe')).toHaveCount(1);
});

test('a view prepared with the defaults keeps the defaults: a join() naming view options changes none of them', async ({
  page,
  site,
  relay,
}) => {
  // Nobody shares in this room: the view says it waits for the customer's page (its status overlay is on).
  await agentWithPreparedView(page, pageUrl(site, relay, 'agent.html', roomId(), '&auto=0'));
  expect(
    await joinPrepared(page, { statusOverlay: false, maxBatchBytes: 1e12, maxFrameBytes: 1e12, maxNodes: 1e9 }),
  ).toBe('joined');
  await expect(page.locator('.cobrowse-status')).toHaveText("Waiting for the customer's page…");
});

test('a prepared view that is destroyed leaves its container empty and cannot join; a failed join uses it up', async ({
  page,
  site,
  relay,
}) => {
  const room = roomId();
  await agentWithPreparedView(page, pageUrl(site, relay, 'agent.html', room, '&auto=0'));
  await expect(page.locator('#screen iframe')).toHaveCount(1);
  await page.evaluate(() => (window as any).prepared.destroy());
  await expect(page.locator('#screen iframe')).toHaveCount(0);
  expect(await joinPrepared(page)).toBe('CobrowseReplayer: this prepared view was destroyed; prepare() another');

  // A wrong credential: join() rejects as join() does, and the view is gone with it.
  await page.evaluate(() => {
    const w = window as any;
    w.prepared = w.CobrowseReplayer.prepare({ container: '#screen' });
  });
  const refused = await joinPrepared(page, { headers: { 'ccmessaging-token': 'wrong' } });
  expect(refused).not.toBe('joined');
  expect(refused).toMatch(/401|unauthori[sz]ed|credential|token/i);
  await expect(page.locator('#screen iframe')).toHaveCount(0);
  expect(await joinPrepared(page)).toBe('CobrowseReplayer: this prepared view has joined already; prepare() another');

  // Options join() cannot use (an unknown dialect): the same, a rejection and the view gone.
  await page.evaluate(() => {
    const w = window as any;
    w.prepared = w.CobrowseReplayer.prepare({ container: '#screen' });
  });
  expect(await joinPrepared(page, { dialect: 'nope' })).toMatch(/unknown dialect "nope"/);
  await expect(page.locator('#screen iframe')).toHaveCount(0);

  // A container taken out of the page before the join: refused, clearly, before anything is asked of the relay.
  const asked: string[] = [];
  page.on('request', (request) => {
    if (request.url().startsWith(relay.url) && !request.url().includes('/sdk/')) asked.push(request.url());
  });
  await page.evaluate(() => {
    const w = window as any;
    w.prepared = w.CobrowseReplayer.prepare({ container: '#screen' });
    document.getElementById('screen')!.remove();
  });
  expect(await joinPrepared(page)).toBe("CobrowseReplayer: the prepared view's container is no longer in the page");
  expect(asked).toEqual([]);
});

test('a prepared view warms up hidden and fetches nothing; a join or destroy() stops the warm-up at once', async ({
  context,
  site,
  relay,
}) => {
  const room = roomId();
  const agent = await context.newPage();
  await agent.goto(pageUrl(site, relay, 'agent.html', room, '&auto=0'));
  await agent.evaluate(() => (window as any).cobrowseReady);
  // From here on (the browser's own favicon request aside: it comes whenever it comes).
  const favicon = (url: string | undefined) => /\/favicon\.ico$/.test(url ?? '');
  const errors: string[] = [];
  agent.on('pageerror', (error) => errors.push(error.message));
  agent.on('console', (message) => {
    if ((message.type() === 'error' || message.type() === 'warning') && !favicon(message.location().url))
      errors.push(message.text());
  });
  const requests: string[] = [];
  agent.on('request', (request) => favicon(request.url()) || requests.push(request.url()));

  // What the warm-up puts in the page while it runs: each element added to the container, as laid out then.
  const ran = await agent.evaluate(async () => {
    const w = window as any;
    const screen = document.getElementById('screen')!;
    w.added = [] as { visible: boolean; width: number; height: number }[];
    new MutationObserver((records) => {
      for (const record of records)
        for (const node of record.addedNodes) {
          if (!(node instanceof HTMLElement) || node.classList.length) continue; // the view's own stage has classes
          const rect = node.getBoundingClientRect();
          w.added.push({
            visible: getComputedStyle(node).visibility !== 'hidden',
            width: rect.width,
            height: rect.height,
          });
        }
    }).observe(screen, { childList: true });
    w.prepared = w.CobrowseReplayer.prepare({ container: screen });
    return w.prepared.warming;
  });
  // It ran through (a warm-up broken by an rrweb upgrade would say false), in a box never seen and at most 1 px.
  expect(ran).toBe(true);
  expect(await agent.evaluate(() => (window as any).added)).toEqual([{ visible: false, width: 1, height: 1 }]);
  // Gone when done: the prepared view is all the container holds, and none of the made-up page is in it.
  await expect(agent.locator('iframe')).toHaveCount(1);
  expect(await agent.evaluate(() => document.getElementById('screen')!.children.length)).toBe(1);
  expect(await agent.evaluate(() => (window as any).prepared.iframe.contentDocument?.title ?? '')).toBe('');
  expect(requests).toEqual([]);
  expect(errors).toEqual([]);

  // A join right after prepare(): the warm-up stops at once and the customer's page shows as usual.
  await agent.evaluate(() => (window as any).prepared.destroy());
  await openCustomer(context, site, relay, room);
  // (All in one evaluate(): a warm-up on a fast machine could end between two calls.)
  const joinedAtOnce = await agent.evaluate(async () => {
    const w = window as any;
    const params = new URLSearchParams(location.search);
    const screen = document.getElementById('screen')!;
    w.prepared = w.CobrowseReplayer.prepare({ container: screen });
    await new Promise((resolve) => setTimeout(resolve, 0)); // the warm-up's first step: its box is in
    const before = screen.children.length;
    const joining = w.prepared.join({
      server: params.get('relay'),
      roomId: params.get('room'),
      headers: { 'ccmessaging-token': 'dev' },
    });
    const after = screen.children.length; // at once, before the join resolves
    w.agent = await joining;
    w.cobrowseSnapshots = 0;
    w.agent.on('snapshot', () => w.cobrowseSnapshots++);
    return { before, after, ran: await w.prepared.warming };
  });
  expect(joinedAtOnce).toEqual({ before: 2, after: 1, ran: false });
  await expect.poll(() => agent.evaluate(() => (window as any).cobrowseSnapshots)).toBeGreaterThan(0);
  await expect.poll(() => replayText(agent, '#title')).toBe('Acme Insurance — Claim form');
  await expect(agent.locator('iframe')).toHaveCount(1);
  await agent.evaluate(() => (window as any).agent.leave());

  // destroy() while it warms up: nothing of it stays in the page, not even until its next step.
  const left = await agent.evaluate(async () => {
    const w = window as any;
    w.prepared = w.CobrowseReplayer.prepare({ container: '#screen' });
    await new Promise((resolve) => setTimeout(resolve, 0)); // the warm-up's first step: its box is in
    const before = document.getElementById('screen')!.children.length;
    w.prepared.destroy();
    return { before, after: document.getElementById('screen')!.children.length, ran: await w.prepared.warming };
  });
  expect(left).toEqual({ before: 2, after: 0, ran: false });
});

test('a view prepared with connection options warms the service up and opens the socket ahead: its join only asks for connection info', async ({
  context,
  site,
  relay,
}) => {
  // The agent reaches the relay through a proxy that lists every HTTP request and its connection.
  const { proxy, service, customer, agents, agent, url } = await proxiedStage(context, site, relay);
  try {
    await agentWithPreparedView(agent, url, service);
    expect(await agent.evaluate(() => (window as any).prepared.warming)).toBe(true);

    // The warm-up: the connection-info URL's preflight, a plain OPTIONS, which creates nothing, and
    // the socket its answer names, with no room and no signature.
    expect(paths(proxy.requests)).toEqual([`preflight ${CEC_PATH}`, `OPTIONS ${CEC_PATH}`, 'GET /ws/cobrowse/']);
    expect(proxy.requests[2]!.path).toBe('/ws/cobrowse/?role=replayer&ahead=1');
    await agent.waitForTimeout(500);
    expect(await agents()).toEqual([]);
    await expect(agent.locator('.cobrowse-status')).toBeHidden();
    const warmUp = proxy.requests.length;

    // The join takes the server and headers from prepare(); its POST goes out with no preflight first,
    // on the connection the warm-up opened, and the signature goes on the socket opened ahead.
    const before = proxy.requests[1]!.connection;
    expect(await joinPrepared(agent, { server: undefined, headers: undefined })).toBe('joined');
    await expectClaimForm(agent);
    await customer.evaluate(() => (window as any).addRow('Ahead'));
    await expect.poll(() => replayText(agent, '#claims tbody')).toContain('Ahead');
    await expect.poll(agents).toEqual([1]);
    const joined = proxy.requests.slice(warmUp);
    expect(paths(joined)).toEqual([`POST ${CEC_PATH}`]);
    expect(joined[0]!.connection).toBe(before);
    // One hello went: a second, or the plain one after it, would have the relay close the socket.
    await agent.waitForTimeout(2000);
    expect(proxy.requests.length).toBe(warmUp + 1);
    expect(proxy.count(replayerLinks)).toBe(1);
    expect(await agents()).toEqual([1]);
    await customer.close();
  } finally {
    await proxy.close();
  }
});

test('a socket opened ahead is not used when the connection info names another node: the join opens its own', async ({
  context,
  site,
  relay,
}) => {
  // The agent asks the relay through a proxy, whose socket-ahead URL it opens; the join asks the
  // relay itself (another origin, as another node of a cluster would be).
  const { proxy, service, room, customer, agents, agent, url } = await proxiedStage(context, site, relay);
  try {
    await agentWithPreparedView(agent, url, service);
    expect(await agent.evaluate(() => (window as any).prepared.warming)).toBe(true);
    expect(proxy.count(replayerLinks)).toBe(1);
    expect(await joinPrepared(agent, { server: relay.url })).toBe('joined');
    await expectClaimForm(agent);
    // The socket opened ahead was closed, unsigned: the customer sees one agent, ever.
    await expect.poll(() => proxy.count(replayerLinks)).toBe(0);
    await expect.poll(agents).toEqual([1]);
    await agent.waitForTimeout(1000);
    expect(await agents()).toEqual([1]);
    expect(paths(proxy.requests).slice(3)).toEqual([]);
    expect(await agent.evaluate(() => (window as any).agent.roomId)).toBe(room);
    await customer.close();
  } finally {
    await proxy.close();
  }
});

test('prepare() given a service that does not answer: warming says so, and the join reports the service as join() does', async ({
  context,
  site,
  relay,
}) => {
  const agent = await context.newPage();
  // Nothing listens on port 9 of loopback; an unknown dialect is refused at once.
  await agentWithPreparedView(agent, pageUrl(site, relay, 'agent.html', roomId(), '&auto=0'), {
    server: 'http://127.0.0.1:9',
  });
  expect(await agent.evaluate(() => (window as any).prepared.warming)).toBe(false);
  expect(await joinPrepared(agent, { server: undefined })).toMatch(/cannot reach http:\/\/127\.0\.0\.1:9/);
  expect(
    await agent.evaluate(() => {
      try {
        (window as any).CobrowseReplayer.prepare({ container: '#screen', dialect: 'carrier-pigeon' });
        return 'prepared';
      } catch (error) {
        return (error as Error).message;
      }
    }),
  ).toMatch(/unknown dialect "carrier-pigeon"/);
  // The failed join used its view up, and the refused prepare() built none.
  await expect(agent.locator('#screen iframe')).toHaveCount(0);
});

test("a join settles warming at once even while the service has not answered; the join's headers add to prepare()'s", async ({
  context,
  site,
  relay,
}) => {
  // A service that takes connections and never answers.
  const held = new Set<Socket>();
  const silent = createServer((socket) => held.add(socket));
  await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
  try {
    const room = roomId();
    const customer = await openCustomer(context, site, relay, room);
    const agent = await context.newPage();
    await agentWithPreparedView(agent, pageUrl(site, relay, 'agent.html', room, '&auto=0'), {
      server: `http://127.0.0.1:${(silent.address() as AddressInfo).port}`,
      headers: { 'ccmessaging-token': 'dev' },
    });
    await agent.evaluate(() => {
      const w = window as any;
      w.prepared.warming.then((ran: boolean) => (w.warmed = { ran, at: performance.now() }));
    });
    // The code's warm-up is done (its box gone); the service's is not, and never will be.
    await expect.poll(() => agent.evaluate(() => document.getElementById('screen')!.children.length)).toBe(1);
    await agent.waitForTimeout(300);
    expect(await agent.evaluate(() => (window as any).warmed)).toBeUndefined();
    // The join names the real relay and one more header; the credential comes from prepare().
    const joinedAt = await agent.evaluate(() => performance.now());
    expect(await joinPrepared(agent, { headers: { guid: 'call-7' } })).toBe('joined');
    await expect.poll(() => agent.evaluate(() => (window as any).warmed)).toBeTruthy();
    const warmed = await agent.evaluate(() => (window as any).warmed);
    expect(warmed.ran).toBe(false);
    expect(warmed.at - joinedAt).toBeLessThan(2000); // not the 10 s the silent service would take
    expect(await replayText(agent, '#title')).toBe('Acme Insurance — Claim form');
    await customer.close();
  } finally {
    for (const socket of held) socket.destroy();
    silent.close();
  }
});

test('a view prepared for a known room opens its socket ahead, unseen by the customer; its join says hello on it and nothing else', async ({
  context,
  site,
  relay,
}) => {
  const { proxy, service, room, customer, agents, agent, url } = await proxiedStage(context, site, relay);
  try {
    await agentWithPreparedView(agent, url, { ...service, roomId: room });
    expect(await agent.evaluate(() => (window as any).prepared.warming)).toBe(true);

    // Ahead of the join: the connection info and the socket, with no hello in its URL.
    const socketPath = 'GET /ws/cobrowse/' + encodeURIComponent(room);
    expect(paths(proxy.requests)).toEqual([`preflight ${CEC_PATH}`, `POST ${CEC_PATH}`, socketPath]);
    expect(proxy.requests[2]!.path).not.toMatch(/[?&]hello=/);
    // The relay holds it without joining it to the room: the customer sees no agent, the agent nothing.
    await agent.waitForTimeout(500);
    expect(await agents()).toEqual([]);
    await expect(agent.locator('.cobrowse-status')).toBeHidden();
    const ahead = proxy.requests.length;

    // The join: no request at all; the page shows, and the customer now sees one agent.
    expect(await joinAsPrepared(agent)).toBe('joined');
    await expectClaimForm(agent);
    await customer.evaluate(() => (window as any).addRow('Parked'));
    await expect.poll(() => replayText(agent, '#claims tbody')).toContain('Parked');
    await expect.poll(agents).toEqual([1]);
    // One hello went: a second would have the relay close the socket, and the SDK reconnect.
    await agent.waitForTimeout(2000);
    expect(proxy.requests.length).toBe(ahead);
    expect(proxy.count(replayerLinks)).toBe(1);
    expect(await agents()).toEqual([1]);

    // A drop after the join reconnects as any session does (fresh connection info, hello in the URL).
    proxy.drop(replayerLinks);
    await customer.evaluate(() => (window as any).addRow('After the drop'));
    await expect.poll(() => replayText(agent, '#claims tbody'), { timeout: 15_000 }).toContain('After the drop');
    const again = proxy.requests.slice(ahead);
    expect(paths(again)).toEqual([`POST ${CEC_PATH}`, socketPath]);
    await customer.close();
  } finally {
    await proxy.close();
  }
});

test('a socket parked ahead is parked again when the relay lets it go, at most 10 times; a join then connects as usual', async ({
  context,
  site,
}) => {
  test.setTimeout(90_000);
  const dir = mkdtempSync(join(tmpdir(), 'cobrowse-park-'));
  const config = join(dir, 'relay.json');
  writeFileSync(config, JSON.stringify({ agentHelloTimeoutMs: 1000 }));
  const relay = await startRelay(['--dev', '--config', config]);
  const { proxy, service, room, customer, agents, agent, url } = await proxiedStage(context, site, relay);
  const sockets = (from = 0) => proxy.requests.slice(from).filter((r) => r.path.startsWith('/ws/'));
  try {
    // The relay closes a socket with no hello after 1 s here (agentHelloTimeoutMs): the view parks
    // another a second later, each with fresh connection info, and stops at 10.
    await agentWithPreparedView(agent, url, { ...service, roomId: room });
    await expect.poll(() => sockets().length, { timeout: 40_000 }).toBe(10);
    await expect.poll(() => proxy.count(replayerLinks), { timeout: 5000 }).toBe(0);
    await agent.waitForTimeout(2500);
    expect(sockets()).toHaveLength(10);
    expect(proxy.requests.filter((r) => r.method === 'POST')).toHaveLength(10);
    expect(await agents()).toEqual([]);
    // Nothing parked now: the join connects as an unprepared one does (hello in the socket's URL).
    const before = proxy.requests.length;
    expect(await joinAsPrepared(agent)).toBe('joined');
    await expect.poll(() => agent.evaluate(() => (window as any).cobrowseSnapshots)).toBeGreaterThan(0);
    expect(paths(proxy.requests.slice(before))).toEqual([
      `POST ${CEC_PATH}`,
      'GET /ws/cobrowse/' + encodeURIComponent(room),
    ]);
    expect(sockets(before)[0]!.path).toMatch(/[?&]hello=/);
    await agent.evaluate(() => (window as any).agent.leave());
    await expect.poll(agents).toEqual([1, 0]);

    // A socket parked again is taken by the join like the first: no request at join time.
    await agentWithPreparedView(agent, url, { ...service, roomId: room });
    const start = proxy.requests.length;
    await expect.poll(() => sockets(start).length, { timeout: 10_000 }).toBe(2);
    await expect.poll(() => proxy.count(replayerLinks)).toBe(1);
    const parked = proxy.requests.length;
    expect(await joinAsPrepared(agent)).toBe('joined');
    await expectClaimForm(agent);
    // Said hello: the relay keeps it past the 1 s, and it is the only socket, in the room once.
    await agent.waitForTimeout(2500);
    expect(proxy.requests.length).toBe(parked);
    expect(proxy.count(replayerLinks)).toBe(1);
    expect(await agents()).toEqual([1, 0, 1]);
    await customer.close();
  } finally {
    await proxy.close();
    await relay.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a socket parked ahead is closed by destroy(), by a join for another room and by a join that fails; a join made at once still takes it', async ({
  context,
  site,
  relay,
}) => {
  const { proxy, relayUrl, service, room, customer, agents, agent, url } = await proxiedStage(context, site, relay);
  const sockets = () => proxy.requests.filter((r) => r.path.startsWith('/ws/')).length;
  try {
    // destroy() closes the parked socket, and no other is parked.
    await agentWithPreparedView(agent, url, { ...service, roomId: room });
    expect(await agent.evaluate(() => (window as any).prepared.warming)).toBe(true);
    expect(proxy.count(replayerLinks)).toBe(1);
    await agent.evaluate(() => (window as any).prepared.destroy());
    await expect.poll(() => proxy.count(replayerLinks)).toBe(0);

    // A join that fails (its container left the page) closes it too.
    await agentWithPreparedView(agent, url, { ...service, roomId: room });
    expect(await agent.evaluate(() => (window as any).prepared.warming)).toBe(true);
    expect(proxy.count(replayerLinks)).toBe(1);
    const failed = await agent.evaluate(() => {
      const w = window as any;
      w.prepared.iframe.closest('#screen').remove();
      return w.prepared.join().then(
        () => 'joined',
        (e: Error) => e.message,
      );
    });
    expect(failed).toMatch(/no longer in the page/);
    await expect.poll(() => proxy.count(replayerLinks)).toBe(0);
    await agent.evaluate(() => document.body.insertAdjacentHTML('beforeend', '<div id="screen"></div>'));

    // A join for another room closes the parked socket and makes its own connection.
    const other = roomId();
    const otherCustomer = await openCustomer(context, site, relay, other);
    await agentWithPreparedView(agent, url, { ...service, roomId: room });
    expect(await agent.evaluate(() => (window as any).prepared.warming)).toBe(true);
    const parked = proxy.requests.length;
    expect(await joinPrepared(agent, { server: relayUrl, roomId: other })).toBe('joined');
    await expect.poll(() => agent.evaluate(() => (window as any).cobrowseSnapshots)).toBeGreaterThan(0);
    const own = proxy.requests.slice(parked);
    expect(paths(own)).toEqual([`POST ${CEC_PATH}`, 'GET /ws/cobrowse/' + encodeURIComponent(other)]);
    expect(own[1]!.path).toMatch(/[?&]hello=/);
    await expect.poll(() => proxy.count(replayerLinks)).toBe(1);
    await agent.evaluate(() => (window as any).agent.leave());
    await expect.poll(() => proxy.count(replayerLinks)).toBe(0);
    expect(await agents()).toEqual([]);

    // prepare() and join() in one task: the connection info is still on its way. The join takes the
    // socket as it opens (no hello in its URL; the hello goes on open), and makes nothing else.
    const before = sockets();
    const start = proxy.requests.length;
    await agent.evaluate(
      ([options]) => {
        const w = window as any;
        w.prepared = w.CobrowseReplayer.prepare({ container: '#screen', ...options });
        return w.prepared.join().then((session: any) => {
          w.agent = session;
          w.cobrowseSnapshots = 0;
          session.on('snapshot', () => w.cobrowseSnapshots++);
        });
      },
      [{ ...service, roomId: room }],
    );
    await expectClaimForm(agent);
    await agent.waitForTimeout(1500);
    expect(sockets()).toBe(before + 1);
    expect(paths(proxy.requests.slice(start)).filter((p) => !p.startsWith('preflight'))).toEqual([
      `POST ${CEC_PATH}`,
      'GET /ws/cobrowse/' + encodeURIComponent(room),
    ]);
    expect(await agents()).toEqual([1]);
    await customer.close();
    await otherCustomer.close();
  } finally {
    await proxy.close();
  }
});

test("the passphrase dialect parks no room's socket: a view prepared with a code redeems nothing, and opens only the socket ahead", async ({
  context,
  site,
  relay,
}) => {
  const proxy = new FaultyProxy();
  proxy.target = relay.port;
  const relayUrl = `http://127.0.0.1:${await proxy.listen()}`;
  try {
    const agent = await context.newPage();
    await agentWithPreparedView(agent, pageUrl(site, relay, 'agent.html', roomId(), '&auto=0'), {
      server: relayUrl,
      dialect: 'passphrase',
      headers: { authorization: 'Bearer dev' },
      roomId: 'a-room',
      passphrase: 'ABC234',
    });
    expect(await agent.evaluate(() => (window as any).prepared.warming)).toBe(true);
    // The code is not redeemed (no POST): the socket opened ahead names no room until a join signs it.
    expect(paths(proxy.requests).filter((p) => !p.startsWith('preflight'))).toEqual([
      `OPTIONS ${PASSPHRASE_PREFIX}/agent/session/live/join`,
      'GET /ws/cobrowse/',
    ]);
    expect(proxy.count(replayerLinks)).toBe(1);
    await agent.evaluate(() => (window as any).prepared.destroy());
    await expect.poll(() => proxy.count(replayerLinks)).toBe(0);
  } finally {
    await proxy.close();
  }
});

test('a socket parked ahead: a leave right after the join takes it away, and a session ended meanwhile ends the join', async ({
  context,
  site,
  relay,
}) => {
  const { proxy, service, room, customer, agents, agent, url } = await proxiedStage(context, site, relay);
  try {
    // join() then leave() in the same task: the hello went, the channel had not taken the socket yet.
    await agentWithPreparedView(agent, url, { ...service, roomId: room });
    expect(await agent.evaluate(() => (window as any).prepared.warming)).toBe(true);
    await agent.evaluate(() => {
      const w = window as any;
      const joining = w.prepared.join();
      return joining.then((session: any) => session.leave());
    });
    await expect.poll(() => proxy.count(replayerLinks)).toBe(0);
    // The customer saw the agent come and go, and no agent is left in the room.
    await expect.poll(agents).toEqual([1, 0]);

    // The customer stops sharing while a view waits with its socket parked: the join is told the
    // session ended (the relay's answer to its hello), and nothing is retried.
    await agentWithPreparedView(agent, url, { ...service, roomId: room });
    expect(await agent.evaluate(() => (window as any).prepared.warming)).toBe(true);
    await customer.evaluate(() => (window as any).cobrowse.stop());
    await agent.waitForTimeout(300);
    const before = proxy.requests.length;
    const ended = await agent.evaluate(async () => {
      const w = window as any;
      const session = await w.prepared.join();
      return new Promise((resolve) => session.on('ended', (e: { reason: string }) => resolve(e.reason)));
    });
    expect(ended).toMatch(/ended/);
    await agent.waitForTimeout(1000);
    expect(proxy.requests.length).toBe(before);
    expect(proxy.count(replayerLinks)).toBe(0);
    await customer.close();
  } finally {
    await proxy.close();
  }
});
