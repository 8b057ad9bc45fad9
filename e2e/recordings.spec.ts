import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BrowserContext, Page } from '@playwright/test';
import {
  customerDom,
  expect,
  expectSameDom,
  openAgent,
  openCustomer,
  pageUrl,
  replayText,
  roomId,
  serializeBody,
  test as base,
} from './support/cobrowse.js';
import { type RelayProcess, type StaticSite, startRelay } from './support/processes.js';
import { FaultyProxy, recorderLinks } from './support/proxy.js';
import { MAGIC, RecordKind, encodeRecord, jsonRecord } from '../packages/relay/src/recordings/format.js';
// @ts-expect-error plain ESM example script
import { startDemo } from '../examples/demo.mjs';

const OPERATOR = { authorization: 'Bearer dev' };

interface Recorded {
  relay: RelayProcess;
  proxy: FaultyProxy;
  dir: string;
  args: string[];
}

/** A relay of its own per test, recording into a fresh directory, with customers reached through a proxy the test can break. */
const test = base.extend<{ recorded: Recorded }>({
  recorded: async ({}, use) => {
    const proxy = new FaultyProxy();
    const proxyPort = await proxy.listen();
    const dir = mkdtempSync(join(tmpdir(), 'cobrowse-recordings-'));
    const args = ['--dev', '--public-url', `ws://127.0.0.1:${proxyPort}`, '--recordings', dir];
    const relay = await startRelay(args);
    proxy.target = relay.port;
    const recorded: Recorded = { relay, proxy, dir, args };
    await use(recorded);
    await recorded.relay.stop();
    await proxy.close();
    rmSync(dir, { recursive: true, force: true });
  },
});

async function listRecordings(relayUrl: string): Promise<any[]> {
  const response = await fetch(`${relayUrl}/cobrowse/recordings`, { headers: OPERATOR });
  expect(response.status).toBe(200);
  return response.json();
}

/** Opens a player page (loads the replayer script from the relay) and plays the recording to its end. */
async function playToEnd(context: BrowserContext, site: StaticSite, relayUrl: string, id: string): Promise<Page> {
  const player = await context.newPage();
  await player.goto(pageUrl(site, { url: relayUrl }, 'agent.html', 'unused', '&auto=0&w=1024&h=700'));
  await player.evaluate(() => (window as any).cobrowseReady);
  await player.evaluate(
    ({ server, recordingId }) =>
      (window as any).CobrowseReplayer.play({
        server,
        recordingId,
        container: '#screen',
        headers: { authorization: 'Bearer dev' },
      }).then((session: any) => {
        (window as any).playback = session;
        session.goto(session.durationMs);
      }),
    { server: relayUrl, recordingId: id },
  );
  return player;
}

function playedDom(player: Page): Promise<string> {
  return player.evaluate(`(${serializeBody.toString()})(window.playback.iframe.contentDocument)`) as Promise<string>;
}

async function change(customer: Page, label: string): Promise<void> {
  await customer.evaluate((l) => {
    (window as any).addRow(l);
    document.getElementById('title')!.textContent = l;
  }, label);
}

test('a session across a reconnect and a navigation is recorded, listed, and plays to the final page', async ({
  context,
  site,
  recorded,
}) => {
  test.setTimeout(90_000);
  const { relay, proxy, dir } = recorded;
  const room = roomId();
  const customer = await openCustomer(context, site, relay, room);
  const agent = await openAgent(context, site, relay, room);
  // The customer is told, in words.
  await expect(customer.getByText('This session is recorded')).toBeVisible();

  await change(customer, 'first change');
  const secret = 'POLICY-SECRET-97531';
  await customer.fill('#policy', secret);
  await customer.fill('#password', 'hunter2-password-xyz');
  await customer.evaluate(() => (document.activeElement as HTMLElement | null)?.blur());
  await expectSameDom(customer, agent);

  // The customer's socket drops mid-way; changes made meanwhile arrive after the reconnect.
  proxy.drop(recorderLinks);
  await change(customer, 'during the drop');
  await expect.poll(() => customer.evaluate(() => (window as any).cobrowse?.status), { timeout: 20_000 }).toBe('live');
  await change(customer, 'after the reconnect');
  await expectSameDom(customer, agent);

  // On to the next page of the site (a new recording epoch, same session).
  await customer.goto(pageUrl(site, relay, 'next.html', room, '&auto=0'));
  await expect.poll(() => customer.evaluate(() => (window as any).CobrowseRecorder?.current()?.status)).toBe('live');
  await expect.poll(() => replayText(agent, '#title')).toBe('Second page of the site');
  await customer.evaluate(() => {
    const p = document.createElement('p');
    p.id = 'last';
    p.textContent = 'The last thing the customer did';
    document.body.appendChild(p);
  });
  await expect.poll(() => replayText(agent, '#last')).toBe('The last thing the customer did');
  await expect(customer.getByText('This session is recorded')).toBeVisible();
  const finalDom = await customerDom(customer);

  await customer.getByRole('button', { name: /Stop/ }).click();
  await expect.poll(() => agent.evaluate(() => (window as any).agent.status)).toBe('ended');

  // Listed: one recording for the whole session, ended, with both participants.
  const recording = await expect
    .poll(async () => (await listRecordings(relay.url)).find((r) => r.roomId === room && r.endedAt))
    .toBeTruthy()
    .then(async () => (await listRecordings(relay.url)).filter((r) => r.roomId === room));
  expect(recording).toHaveLength(1);
  const meta = recording[0];
  expect(meta.participants.map((p: any) => p.role).sort()).toEqual(['recorder', 'replayer']);
  expect(meta.durationMs).toBeGreaterThan(0);

  // Played to its end in rrweb-player, the replay is the customer's last page.
  const player = await playToEnd(context, site, relay.url, meta.id);
  await expect.poll(() => playedDom(player), { timeout: 15_000 }).toBe(finalDom);
  expect(await player.evaluate(() => (window as any).playback.truncated)).toBe(false);
  // rrweb-player's UI is there, styled (its stylesheet reached the page).
  await expect(player.locator('.rr-controller')).toBeVisible();
  expect(await player.evaluate(() => !!document.getElementById('cobrowse-player-style'))).toBe(true);
  // Played back, the replay runs no script.
  expect(await player.evaluate(() => (window as any).playback.iframe.getAttribute('sandbox'))).toBe(
    'allow-same-origin',
  );

  // Masked input text is in no byte of the recording, nor in its decoded events.
  const file = readFileSync(join(dir, `${meta.id}.cbrec`));
  expect(file.includes(secret)).toBe(false);
  expect(file.includes('hunter2-password-xyz')).toBe(false);
  const events = await (
    await fetch(`${relay.url}/cobrowse/recordings/${meta.id}/events`, { headers: OPERATOR })
  ).text();
  expect(events).toContain('after the reconnect');
  expect(events).not.toContain(secret);
  expect(events).not.toContain('hunter2-password-xyz');
});

test("a big page's sliced snapshot is recorded; its events are plain rrweb's (nested adds served flat) and play to the page", async ({
  context,
  site,
  recorded,
}) => {
  test.setTimeout(90_000);
  const { relay } = recorded;
  const room = roomId();
  // ~10,000 nodes: rrweb's walk stops after 12 ms, the rest follows as slices of nested adds.
  const customer = await openCustomer(context, site, relay, room, 'table.html');
  const agent = await openAgent(context, site, relay, room);
  await expectSameDom(customer, agent);
  const finalDom = await customerDom(customer);
  await customer.getByRole('button', { name: /Stop/ }).click();
  await expect.poll(() => agent.evaluate(() => (window as any).agent.status)).toBe('ended');
  const id = await expect
    .poll(async () => (await listRecordings(relay.url)).find((r) => r.roomId === room && r.endedAt)?.id)
    .toBeTruthy()
    .then(async () => (await listRecordings(relay.url)).find((r) => r.roomId === room).id as string);

  const events = (await (
    await fetch(`${relay.url}/cobrowse/recordings/${id}/events`, { headers: OPERATOR })
  ).json()) as { type: number; data: any }[];
  const mutations = events.filter((e) => e.type === 3 && e.data.source === 0);
  // Served as plain rrweb-player takes them: no marker, every added node without children of its own.
  expect(mutations.some((e) => 'cobrowseNested' in e.data)).toBe(false);
  const added = mutations.flatMap((e) => e.data.adds as { node: { childNodes?: unknown[] } }[]);
  expect(added.length).toBeGreaterThan(1000);
  expect(added.every((a) => !a.node.childNodes?.length)).toBe(true);

  const player = await playToEnd(context, site, relay.url, id);
  await expect.poll(() => playedDom(player), { timeout: 15_000 }).toBe(finalDom);
});

test('a relay killed with SIGKILL mid-session leaves a recording that plays up to within 1 s of the kill', async ({
  context,
  site,
  recorded,
}) => {
  test.setTimeout(90_000);
  const { relay, dir } = recorded;
  const room = roomId();
  const customer = await openCustomer(context, site, relay, room);
  await openAgent(context, site, relay, room);
  // The page changes all the time, stamping each change with the time it made it.
  await customer.evaluate(() => {
    setInterval(() => (document.getElementById('title')!.textContent = `tick ${Date.now()}`), 50);
  });
  await new Promise((resolve) => setTimeout(resolve, 2500));
  relay.process.kill('SIGKILL');
  const killedAt = Date.now();
  await new Promise((resolve) => relay.process.once('exit', resolve));

  // Another relay over the same directory serves what the dead one wrote.
  const after = await startRelay(['--dev', '--recordings', dir]);
  recorded.relay = after;
  const [meta] = (await listRecordings(after.url)).filter((r) => r.roomId === room);
  expect(meta).toBeTruthy();
  expect(meta.endedAt).toBeGreaterThan(killedAt - 1500);

  const player = await playToEnd(context, site, after.url, meta.id);
  const title = await expect
    .poll(() =>
      player.evaluate(() => (window as any).playback.iframe.contentDocument?.getElementById('title')?.textContent),
    )
    .toMatch(/^tick \d+$/)
    .then(() =>
      player.evaluate(() => (window as any).playback.iframe.contentDocument.getElementById('title').textContent),
    );
  const lastTick = Number(title.slice(5));
  expect(killedAt - lastTick).toBeLessThanOrEqual(1000);
  expect(killedAt - lastTick).toBeGreaterThanOrEqual(0);
});

test("the agent console's Recordings tab lists the demo's sessions and plays one, within its CSP", async ({
  context,
}) => {
  test.setTimeout(90_000);
  const dir = mkdtempSync(join(tmpdir(), 'cobrowse-demo-recordings-'));
  process.env.COBROWSE_RECORDINGS_DIR = dir;
  const demo = await startDemo({ relayPort: 0, sitePort: 0 });
  delete process.env.COBROWSE_RECORDINGS_DIR;
  try {
    const customer = await context.newPage();
    await customer.goto(demo.customerUrl);
    await customer.getByRole('button', { name: 'Share my screen with an agent' }).click();
    await expect(customer.locator('#code')).toHaveText(/Your code: \d{6}/);
    const code = (await customer.locator('#code').textContent())!.replace(/\D/g, '');
    await expect(customer.getByText('This session is recorded')).toBeVisible();

    const agent = await context.newPage();
    const violations: string[] = [];
    agent.on('console', (message) => {
      if (/Content Security Policy|Refused to/i.test(message.text())) violations.push(message.text());
    });
    await agent.goto(demo.agentUrl);
    await agent.getByLabel('Customer code').fill(code);
    await agent.getByRole('button', { name: 'Join' }).click();
    await expect(agent.locator('#status')).toHaveText('Live');
    await customer.getByLabel('Full name').fill('Ada Lovelace');
    await customer.getByLabel('Item').fill('Scooter');
    await customer.getByRole('button', { name: 'Add to claim' }).click();
    const replayed = () =>
      agent.evaluate(() => (window as any).agent.iframe.contentDocument.querySelector('#claims')?.textContent ?? '');
    await expect.poll(replayed).toContain('Scooter');
    await customer.getByRole('button', { name: /Stop/ }).click();
    await expect(agent.locator('#status')).toHaveText('Session ended');

    await agent.getByRole('tab', { name: 'Recordings' }).click();
    const row = agent.locator('tr[data-recording]').first();
    await expect(row).toContainText(code);
    await row.getByRole('button', { name: 'Play' }).click();
    await expect(agent.locator('#recordings-player .rr-controller')).toBeVisible();
    await agent.evaluate(() => (window as any).playback.goto((window as any).playback.durationMs));
    await expect
      .poll(() =>
        agent.evaluate(
          () => (window as any).playback.iframe.contentDocument?.querySelector('#claims')?.textContent ?? '',
        ),
      )
      .toContain('Scooter');
    expect(violations).toEqual([]);
  } finally {
    await demo.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('policy "requested": the agent starts recording with record(true) and the customer is told in words', async ({
  context,
  site,
}) => {
  const dir = mkdtempSync(join(tmpdir(), 'cobrowse-recordings-'));
  const config = join(dir, 'relay.json');
  writeFileSync(config, JSON.stringify({ recordings: { dir: join(dir, 'recs'), policy: 'requested' } }));
  const relay = await startRelay(['--dev', '--config', config]);
  try {
    const room = roomId();
    const customer = await openCustomer(context, site, relay, room);
    const agent = await openAgent(context, site, relay, room);
    await expect(customer.getByText('You are sharing this page with an agent')).toBeVisible();
    await expect(customer.getByText('This session is recorded')).toBeHidden();
    expect(await listRecordings(relay.url)).toEqual([]);

    expect(await agent.evaluate(() => (window as any).agent.record(true))).toBe(true);
    await expect(customer.getByText('This session is recorded')).toBeVisible();
    await change(customer, 'while recorded');
    await expect.poll(async () => (await listRecordings(relay.url)).length).toBe(1);

    expect(await agent.evaluate(() => (window as any).agent.record(false))).toBe(false);
    await expect(customer.getByText('This session is recorded')).toBeHidden();
    // "Off" pauses the room's recording: the next record(true) resumes the same one, so it has not ended.
    const recordings = await listRecordings(relay.url);
    expect(recordings).toHaveLength(1);
    expect(recordings[0].endedAt).toBeUndefined();
  } finally {
    await relay.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a hostile recording plays inert: handlers, javascript: URLs and srcdoc are stripped, nothing runs', async ({
  context,
  site,
  recorded,
}) => {
  const { relay, dir } = recorded;
  // A file as a relay would have written it, holding what a hostile customer page could send.
  const id = 'hostile-recording-0001';
  const t = Date.now();
  const snapshot = [
    { type: 4, timestamp: t, data: { href: 'https://shop.test/', width: 800, height: 600 } },
    {
      type: 2,
      timestamp: t,
      data: {
        initialOffset: { top: 0, left: 0 },
        node: {
          type: 0,
          id: 1,
          childNodes: [
            {
              type: 2,
              id: 2,
              tagName: 'html',
              attributes: {},
              childNodes: [
                {
                  type: 2,
                  id: 3,
                  tagName: 'body',
                  attributes: { onload: 'parent.pwned = 1' },
                  childNodes: [
                    {
                      type: 2,
                      id: 4,
                      tagName: 'a',
                      attributes: { id: 'link', href: 'javascript:parent.pwned=2' },
                      childNodes: [{ type: 3, id: 5, textContent: 'click' }],
                    },
                    {
                      type: 2,
                      id: 6,
                      tagName: 'img',
                      attributes: { id: 'img', src: 'x', onerror: 'parent.pwned=3' },
                      childNodes: [],
                    },
                    {
                      type: 2,
                      id: 7,
                      tagName: 'iframe',
                      attributes: { id: 'frame', srcdoc: '<script>parent.parent.pwned=4</script>' },
                      childNodes: [],
                    },
                    {
                      type: 2,
                      id: 8,
                      tagName: 'p',
                      attributes: { id: 'text' },
                      childNodes: [{ type: 3, id: 9, textContent: 'Hostile page' }],
                    },
                  ],
                },
              ],
            },
          ],
        },
      },
    },
  ];
  const later = [
    {
      type: 3,
      timestamp: t + 100,
      data: {
        source: 0,
        texts: [],
        removes: [],
        adds: [],
        attributes: [{ id: 8, attributes: { onclick: 'parent.pwned=5' } }],
      },
    },
  ];
  const frame = (seq: number, snap: boolean, events: object[]) =>
    Buffer.from(
      `${JSON.stringify({ type: 'events', epoch: 'e1', seq, ...(snap ? { snap: true } : {}) })}\n${JSON.stringify(events)}`,
    );
  const file = Buffer.concat([
    MAGIC,
    jsonRecord(RecordKind.Start, t, { v: 1, id, roomId: 'hostile', dialect: null, policy: 'all', startedAt: t }),
    encodeRecord(RecordKind.Recorder, t + 5, [Buffer.from([0]), frame(1, true, snapshot)]),
    encodeRecord(RecordKind.Recorder, t + 105, [Buffer.from([0]), frame(2, false, later)]),
    jsonRecord(RecordKind.End, t + 200, { reason: 'done' }),
  ]);
  writeFileSync(join(dir, `${id}.cbrec`), file);

  const player = await playToEnd(context, site, relay.url, id);
  await expect
    .poll(() =>
      player.evaluate(() => (window as any).playback.iframe.contentDocument?.getElementById('text')?.textContent),
    )
    .toBe('Hostile page');
  const attrs = await player.evaluate(() => {
    const doc = (window as any).playback.iframe.contentDocument as Document;
    return {
      body: doc.body.getAttribute('onload'),
      href: doc.getElementById('link')?.getAttribute('href') ?? null,
      onerror: doc.getElementById('img')?.getAttribute('onerror') ?? null,
      srcdoc: doc.getElementById('frame')?.getAttribute('srcdoc') ?? null,
      onclick: doc.getElementById('text')?.getAttribute('onclick') ?? null,
    };
  });
  expect(attrs).toEqual({ body: null, href: null, onerror: null, srcdoc: null, onclick: null });
  await player.evaluate(() => (window as any).playback.iframe.contentDocument.getElementById('link')?.click());
  await new Promise((resolve) => setTimeout(resolve, 300));
  expect(await player.evaluate(() => (window as any).pwned ?? null)).toBeNull();
});
