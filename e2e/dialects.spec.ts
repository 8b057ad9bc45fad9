import type { BrowserContext, Page } from '@playwright/test';
import { expect, pageUrl, replayText, roomId, test } from './support/cobrowse.js';
import type { RelayProcess, StaticSite } from './support/processes.js';

/** Opens a page with auto-start off; the test starts or joins with the options it wants. */
async function blank(context: BrowserContext, site: StaticSite, relay: RelayProcess, page: string): Promise<Page> {
  const p = await context.newPage();
  await p.goto(pageUrl(site, relay, page, '-', '&auto=0'));
  await p.evaluate(() => (window as any).cobrowseReady);
  return p;
}

async function share(customer: Page, options: object): Promise<{ roomId: string; passphrase?: string }> {
  const result = await customer.evaluate(
    (o) => (window as any).cobrowseStart(o).then((s: any) => ({ roomId: s.roomId, passphrase: s.passphrase })),
    { roomId: undefined, ...options },
  );
  await expect.poll(() => customer.evaluate(() => (window as any).cobrowse.status)).toBe('live');
  return result;
}

async function watch(agent: Page, options: object): Promise<{ roomId: string; passphrase?: string }> {
  const result = await agent.evaluate(
    (o) => (window as any).cobrowseJoin(o).then((s: any) => ({ roomId: s.roomId, passphrase: s.passphrase })),
    { roomId: undefined, ...options },
  );
  await expect.poll(() => agent.evaluate(() => (window as any).agent.status)).toBe('live');
  return result;
}

async function seesLive(customer: Page, agent: Page, marker: string): Promise<void> {
  await expect.poll(() => replayText(agent, '#title')).toBe('Acme Insurance — Claim form');
  await customer.evaluate((m) => (window as any).addRow(m), marker);
  await expect.poll(() => replayText(agent, '#claims tbody')).toContain(marker);
}

const DEV_APIACCESS = { 'x-app-key': 'dev', Authorization: 'Bearer dev', 'X-TenantSpaceID': 'dev' };

test.describe('customer and agent meet through each dialect', () => {
  test('apiaccess (001): the customer gets a generated room id, the agent joins it', async ({
    context,
    site,
    relay,
  }) => {
    const customer = await blank(context, site, relay, 'customer.html');
    const { roomId: room } = await share(customer, { dialect: 'apiaccess', headers: DEV_APIACCESS });
    expect(room).toMatch(/^[0-9a-f-]{36}$/);
    const agent = await blank(context, site, relay, 'agent.html');
    await watch(agent, { dialect: 'apiaccess', roomId: room, workNo: '667', headers: DEV_APIACCESS });
    await seesLive(customer, agent, 'via apiaccess');
  });

  test('apiaccess (001): another tenant space with the same room id sees nothing', async ({ context, site, relay }) => {
    const customer = await blank(context, site, relay, 'customer.html');
    const { roomId: room } = await share(customer, { dialect: 'apiaccess', headers: DEV_APIACCESS });
    const intruder = await blank(context, site, relay, 'agent.html');
    await watch(intruder, {
      dialect: 'apiaccess',
      roomId: room,
      headers: { ...DEV_APIACCESS, 'X-TenantSpaceID': 'other-tenant' },
    });
    await customer.evaluate(() => (window as any).addRow('tenant secret'));
    await intruder.waitForTimeout(500);
    expect(await intruder.evaluate(() => (window as any).cobrowseSnapshots)).toBe(0);
  });

  test('session (002): the customer reads its numeric token, the agent types it', async ({ context, site, relay }) => {
    const customer = await blank(context, site, relay, 'customer.html');
    const { roomId: token } = await share(customer, { dialect: 'session', headers: {} });
    expect(token).toMatch(/^\d{9}$/);
    const agent = await blank(context, site, relay, 'agent.html');
    await watch(agent, { dialect: 'session', roomId: token, headers: { Authorization: 'Bearer dev' } });
    await seesLive(customer, agent, 'via session');
  });

  test('agentgateway (003): an agent whose console crashed gets back into the same room', async ({
    context,
    site,
    relay,
  }) => {
    const call = roomId();
    const customer = await blank(context, site, relay, 'customer.html');
    await share(customer, { roomId: call });
    const agent = await blank(context, site, relay, 'agent.html');
    await watch(agent, { dialect: 'agentgateway', roomId: call, userId: '667', headers: { Guid: 'dev' } });
    await seesLive(customer, agent, 'before the crash');
    await agent.close(); // the console crashed
    await customer.evaluate(() => (window as any).addRow('while the agent was away'));
    const again = await blank(context, site, relay, 'agent.html');
    await watch(again, { dialect: 'agentgateway', roomId: call, userId: '667', headers: { Guid: 'dev' } });
    await expect.poll(() => replayText(again, '#claims tbody')).toContain('while the agent was away');
    await seesLive(customer, again, 'after the crash');
  });

  test('passphrase (004), customer first: the agent enters the passphrase', async ({ context, site, relay }) => {
    const customer = await blank(context, site, relay, 'customer.html');
    const { passphrase } = await share(customer, { dialect: 'passphrase', headers: {} });
    expect(passphrase).toMatch(/^[A-Z0-9]{6}$/);
    const agent = await blank(context, site, relay, 'agent.html');
    await watch(agent, { dialect: 'passphrase', passphrase, headers: { authorization: 'Bearer dev' } });
    await seesLive(customer, agent, 'via passphrase');
  });

  test('passphrase (004), agent first: the customer enters the passphrase', async ({ context, site, relay }) => {
    const agent = await blank(context, site, relay, 'agent.html');
    const { passphrase } = await watch(agent, { dialect: 'passphrase', headers: { authorization: 'Bearer dev' } });
    expect(passphrase).toMatch(/^[A-Z0-9]{6}$/);
    const customer = await blank(context, site, relay, 'customer.html');
    await share(customer, { dialect: 'passphrase', passphrase, headers: {} });
    await expect.poll(() => agent.evaluate(() => (window as any).cobrowseSnapshots)).toBeGreaterThan(0);
    await seesLive(customer, agent, 'agent first');
  });

  test('a function dialect for a backend of your own', async ({ context, site, relay }) => {
    const room = roomId();
    const customer = await blank(context, site, relay, 'customer.html');
    // The integrator's backend is simulated by calling the relay's seed-000 door by hand.
    await customer.evaluate(
      ({ server, room }) =>
        (window as any).cobrowseStart({
          roomId: room,
          dialect: async (request: any) => {
            const response = await fetch(
              `${server}/service-cloud/rest/webadapter/v1/connectionInfo/getConnectionInfo`,
              {
                method: 'POST',
                headers: { 'content-type': 'application/json', 'ccmessaging-token': 'dev' },
                body: JSON.stringify({ roomId: request.roomId, userId: 'mine', userName: 'Mine', role: request.role }),
              },
            );
            return (await response.json()).data;
          },
        }),
      { server: relay.url, room },
    );
    await expect.poll(() => customer.evaluate(() => (window as any).cobrowse.status)).toBe('live');
    const agent = await blank(context, site, relay, 'agent.html');
    await watch(agent, { roomId: room });
    await seesLive(customer, agent, 'via my backend');
  });
});
