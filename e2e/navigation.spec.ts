import { expect, openAgent, openCustomer, pageUrl, replayText, roomId, test } from './support/cobrowse.js';

test('a share carries over to the next page of the site, until the customer stops it', async ({
  context,
  site,
  relay,
}) => {
  const room = roomId();
  const customer = await openCustomer(context, site, relay, room);
  const agent = await openAgent(context, site, relay, room);
  await expect.poll(() => replayText(agent, '#title')).toBe('Acme Insurance — Claim form');

  // The customer follows a link to another page of the site: it only includes the recorder script.
  await customer.goto(pageUrl(site, relay, 'next.html', room, '&auto=0'));
  await expect.poll(() => customer.evaluate(() => (window as any).CobrowseRecorder?.current()?.status)).toBe('live');
  expect(await customer.evaluate(() => (window as any).CobrowseRecorder.current().roomId)).toBe(room);
  await expect.poll(() => replayText(agent, '#title')).toBe('Second page of the site');
  expect(await agent.evaluate(() => (window as any).agent.status)).toBe('live');
  await expect(customer.getByRole('button', { name: /Stop/ })).toBeVisible();

  // Stop ends it; the page after that does not share.
  await customer.getByRole('button', { name: /Stop/ }).click();
  await expect.poll(() => agent.evaluate(() => (window as any).agent.status)).toBe('ended');
  await customer.goto(pageUrl(site, relay, 'next.html', room, '&auto=0'));
  await customer.evaluate(() => (window as any).cobrowseReady);
  expect(
    await customer.evaluate(() => (window as any).CobrowseRecorder.resumed().then((s: unknown) => s === undefined)),
  ).toBe(true);
  await expect(customer.locator('.cobrowse-indicator')).toHaveCount(0);
});

test('a share opened through a stateful dialect (session REST) carries over too', async ({ context, site, relay }) => {
  const customer = await context.newPage();
  await customer.goto(pageUrl(site, relay, 'customer.html', '-', '&auto=0'));
  await customer.evaluate(() => (window as any).cobrowseReady);
  const token = await customer.evaluate(() =>
    (window as any).cobrowseStart({ roomId: undefined, dialect: 'session', headers: {} }).then((s: any) => s.roomId),
  );
  const agent = await context.newPage();
  await agent.goto(pageUrl(site, relay, 'agent.html', '-', '&auto=0'));
  await agent.evaluate(
    (t) =>
      (window as any).cobrowseReady.then(() =>
        (window as any).cobrowseJoin({ dialect: 'session', roomId: t, headers: { Authorization: 'Bearer dev' } }),
      ),
    token,
  );
  await expect.poll(() => replayText(agent, '#title')).toBe('Acme Insurance — Claim form');
  await customer.goto(pageUrl(site, relay, 'next.html', '-', '&auto=0'));
  await expect.poll(() => customer.evaluate(() => (window as any).CobrowseRecorder?.current()?.roomId)).toBe(token);
  await expect.poll(() => replayText(agent, '#title')).toBe('Second page of the site');
});
