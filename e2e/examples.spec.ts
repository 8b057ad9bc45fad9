import { expect, test } from '@playwright/test';
// @ts-expect-error plain ESM example script
import { startDemo } from '../examples/demo.mjs';

test('the demo: customer site shares with its button, the agent console joins by code', async ({ context }) => {
  const demo = await startDemo({ relayPort: 0, sitePort: 0 });
  try {
    const customer = await context.newPage();
    await customer.goto(demo.customerUrl);
    await customer.getByRole('button', { name: 'Share my screen with an agent' }).click();
    await expect(customer.locator('#code')).toHaveText(/Your code: \d{6}/);
    const code = (await customer.locator('#code').textContent())!.replace(/\D/g, '');
    await expect(customer.getByRole('button', { name: /Stop/ })).toBeVisible();

    const agent = await context.newPage();
    const violations: string[] = [];
    agent.on('console', (message) => {
      if (/Content Security Policy|Refused to/i.test(message.text())) violations.push(message.text());
    });
    await agent.goto(demo.agentUrl);
    await agent.getByLabel('Customer code').fill(code);
    await agent.getByRole('button', { name: 'Join' }).click();
    await expect(agent.locator('#status')).toHaveText('Live');
    const replayed = () =>
      agent.evaluate(() => (window as any).agent.iframe.contentDocument.querySelector('#claims')?.textContent ?? '');
    await expect.poll(replayed).toContain('Laptop');

    await customer.getByLabel('Full name').fill('Ada Lovelace');
    await customer.getByLabel('Item').fill('Scooter');
    await customer.getByRole('button', { name: 'Add to claim' }).click();
    await expect.poll(replayed).toContain('Scooter');

    await customer.getByRole('button', { name: /Stop/ }).click();
    await expect(agent.locator('#status')).toHaveText('Session ended');
    // The console's Content-Security-Policy lets the replay work and refused nothing it needs.
    expect(
      await agent.evaluate(() =>
        document.querySelector('meta[http-equiv="Content-Security-Policy"]')?.getAttribute('content'),
      ),
    ).toContain("script-src 'self'");
    expect(violations).toEqual([]);
  } finally {
    await demo.stop();
  }
});
