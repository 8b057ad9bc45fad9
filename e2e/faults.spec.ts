import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Page } from '@playwright/test';
import { HELLO_PARAM, PROTOCOL_VERSION } from '@cobrowse/protocol';
import {
  expect,
  expectSameDom,
  openAgent,
  openCustomer,
  pageUrl,
  roomId,
  statuses,
  test as base,
} from './support/cobrowse.js';
import { type RelayProcess, startRelay } from './support/processes.js';
import { FaultyProxy, recorderLinks, replayerLinks } from './support/proxy.js';

interface Faulty {
  relay: RelayProcess;
  proxy: FaultyProxy;
  args: string[];
  restart(downMs?: number): Promise<void>;
}

/** A relay of its own per test, with customers (wssUrlOut) reached through a proxy the test can break. */
const test = base.extend<{ faulty: Faulty; relayConfig: object }>({
  relayConfig: [{}, { option: true }],
  faulty: async ({ relayConfig }, use) => {
    const proxy = new FaultyProxy();
    const proxyPort = await proxy.listen();
    const config = join(tmpdir(), `relay-${process.pid}-${Date.now()}.json`);
    writeFileSync(config, JSON.stringify(relayConfig));
    const args = [
      '--dev',
      '--secret',
      'fault-test-secret',
      '--public-url',
      `ws://127.0.0.1:${proxyPort}`,
      '--config',
      config,
    ];
    const faulty: Faulty = {
      relay: await startRelay(args),
      proxy,
      args,
      async restart(downMs = 500) {
        const port = faulty.relay.port;
        await faulty.relay.stop();
        await new Promise((r) => setTimeout(r, downMs));
        faulty.relay = await startRelay(args, port);
      },
    };
    proxy.target = faulty.relay.port;
    await use(faulty);
    await faulty.relay.stop();
    await proxy.close();
  },
});

async function change(customer: Page, label: string): Promise<void> {
  await customer.evaluate((l) => {
    (window as any).addRow(l);
    document.getElementById('title')!.textContent = l;
  }, label);
}

async function waitFor(page: Page, status: string): Promise<void> {
  await expect
    .poll(() => page.evaluate(() => (window as any).cobrowse?.status ?? (window as any).agent?.status), {
      timeout: 20_000,
    })
    .toBe(status);
}

test.describe('nothing lost', () => {
  test("the customer's socket drops; changes made during the outage arrive", async ({ context, site, faulty }) => {
    const room = roomId();
    const customer = await openCustomer(context, site, faulty.relay, room);
    const agent = await openAgent(context, site, faulty.relay, room);
    await change(customer, 'before the drop');
    await expectSameDom(customer, agent);
    faulty.proxy.stall(recorderLinks);
    await change(customer, 'during the outage 1');
    faulty.proxy.drop(recorderLinks);
    await change(customer, 'during the outage 2');
    await waitFor(customer, 'live');
    await change(customer, 'after the reconnect');
    await expectSameDom(customer, agent);
    // The recorder resent what the relay missed: the agent needed no second full snapshot.
    expect(await agent.evaluate(() => (window as any).cobrowseSnapshots)).toBe(1);
    expect(await statuses(customer)).toEqual(expect.arrayContaining(['reconnecting', 'live']));
    const log = await statuses(customer);
    expect(log.lastIndexOf('live')).toBeGreaterThan(log.indexOf('reconnecting'));
  });

  test("the agent's socket drops; the agent resumes without a gap or a duplicate", async ({
    context,
    site,
    faulty,
  }) => {
    const room = roomId();
    const customer = await openCustomer(context, site, faulty.relay, room);
    const agent = await context.newPage();
    const sockets: string[] = [];
    agent.on('websocket', (socket) => sockets.push(new URL(socket.url()).searchParams.get(HELLO_PARAM) ?? 'none'));
    await agent.goto(pageUrl(site, faulty.relay, 'agent.html', room, '&auto=0'));
    await agent.evaluate(() =>
      (window as any).cobrowseReady.then(() => (window as any).cobrowseJoin({ external: true })),
    );
    await expect.poll(() => agent.evaluate(() => (window as any).cobrowseSnapshots)).toBe(1);
    await change(customer, 'before');
    await expectSameDom(customer, agent);
    faulty.proxy.drop(replayerLinks);
    for (let i = 0; i < 5; i++) await change(customer, `while the agent was away ${i}`);
    await waitFor(agent, 'live');
    await change(customer, 'after');
    await expectSameDom(customer, agent);
    // It resumed from where it was: no second full snapshot was needed.
    expect(await agent.evaluate(() => (window as any).cobrowseSnapshots)).toBe(1);
    expect(await statuses(agent)).toEqual(expect.arrayContaining(['reconnecting', 'live']));
    // The first socket said its hello in its URL (the relay answered at the upgrade); the reconnect,
    // which resumes, sent it on open instead (a hello in the URL never carries a resume).
    expect(sockets[0]).toBe(String(PROTOCOL_VERSION));
    expect(sockets.length).toBeGreaterThan(1);
    expect(sockets.slice(1)).toEqual(sockets.slice(1).map(() => 'none'));
  });

  test('the relay is killed and started again mid-session', async ({ context, site, faulty }) => {
    const room = roomId();
    const customer = await openCustomer(context, site, faulty.relay, room);
    const agent = await openAgent(context, site, faulty.relay, room);
    await change(customer, 'before the restart');
    await expectSameDom(customer, agent);
    const restarting = faulty.restart(800);
    await change(customer, 'while the relay is down');
    await restarting;
    await waitFor(customer, 'live');
    await waitFor(agent, 'live');
    await change(customer, 'after the restart');
    await expectSameDom(customer, agent);
    expect(await statuses(customer)).toEqual(expect.arrayContaining(['reconnecting', 'live']));
    expect(await statuses(agent)).toEqual(expect.arrayContaining(['reconnecting', 'live']));
  });

  test("the customer's connection stalls for 30 s while the page keeps changing", async ({ context, site, faulty }) => {
    test.setTimeout(120_000);
    const room = roomId();
    const customer = await openCustomer(context, site, faulty.relay, room);
    const agent = await openAgent(context, site, faulty.relay, room);
    await change(customer, 'before the stall');
    await expectSameDom(customer, agent);
    faulty.proxy.stall(recorderLinks);
    for (let i = 0; i < 6; i++) {
      await change(customer, `during the stall ${i}`);
      await customer.waitForTimeout(5000);
    }
    faulty.proxy.resume();
    await change(customer, 'after the stall');
    await expectSameDom(customer, agent, 60_000);
  });
});

test.describe('backpressure', () => {
  test.use({ relayConfig: { maxBufferedBytes: 256 * 1024 } });

  test('a stalled agent slows neither the customer nor another agent, and is resynced after', async ({
    context,
    site,
    faulty,
  }) => {
    test.setTimeout(90_000);
    const room = roomId();
    const customer = await openCustomer(context, site, faulty.relay, room);
    const healthy = await openAgent(context, site, faulty.relay, room);
    const stalled = await context.newPage();
    await stalled.goto(pageUrl(site, faulty.relay, 'agent.html', room, '&auto=0'));
    await stalled.evaluate(() =>
      (window as any).cobrowseReady.then(() => (window as any).cobrowseJoin({ external: true })),
    );
    await expect.poll(() => stalled.evaluate(() => (window as any).cobrowseSnapshots)).toBe(1);
    expect(faulty.proxy.stall(replayerLinks)).toBe(1);
    // About 4 MB of changes: far more than the stalled agent's socket may hold.
    const started = Date.now();
    for (let i = 0; i < 40; i++) {
      await customer.evaluate((n) => {
        const p = document.createElement('p');
        p.className = 'bulk';
        p.textContent = `bulk ${n} ` + 'x'.repeat(100_000);
        document.querySelector('main')!.appendChild(p);
      }, i);
    }
    await expect
      .poll(
        () => healthy.evaluate(() => (window as any).agent.iframe.contentDocument.querySelectorAll('.bulk').length),
        { timeout: 10_000 },
      )
      .toBe(40);
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(await customer.evaluate(() => (window as any).cobrowse.status)).toBe('live');
    faulty.proxy.resume();
    await change(customer, 'after the stall');
    await expectSameDom(customer, stalled, 30_000);
    await expectSameDom(customer, healthy);
  });
});

test.describe('expired signatures', () => {
  test.use({ relayConfig: { tokenTtlMs: 1000 } });

  test('a signature that expired mid-session: the SDK fetches fresh connection info and carries on', async ({
    context,
    site,
    faulty,
  }) => {
    const room = roomId();
    const customer = await openCustomer(context, site, faulty.relay, room);
    const agent = await openAgent(context, site, faulty.relay, room);
    await customer.waitForTimeout(1500); // every signature handed out so far has expired
    faulty.proxy.drop(recorderLinks);
    await change(customer, 'after the signature expired');
    await waitFor(customer, 'live');
    await expectSameDom(customer, agent);
    expect(
      await customer.evaluate(() => (window as any).cobrowseLog.filter((l: string) => l.startsWith('error:'))),
    ).toEqual([]);
  });
});
