import { expect, test } from '@playwright/test';
// @ts-expect-error plain ESM example script
import { startDemo } from '../examples/demo.mjs';

test('the demo console: Pointer, Highlight and Request control show their state; the customer site shows the prompt', async ({
  browser,
  context,
}) => {
  const demo = await startDemo({ relayPort: 0, sitePort: 0 });
  try {
    const customer = await context.newPage();
    await customer.goto(demo.customerUrl);
    await customer.getByRole('button', { name: 'Share my screen with an agent' }).click();
    await expect(customer.locator('#code')).toHaveText(/Your code: \d{6}/);
    const code = (await customer.locator('#code').textContent())!.replace(/\D/g, '');

    const agent = await (await browser.newContext()).newPage();
    await agent.goto(demo.agentUrl);
    await agent.getByLabel('Customer code').fill(code);
    await agent.getByRole('button', { name: 'Join' }).click();
    await expect(agent.locator('#status')).toHaveText('Live');
    const tools = agent.getByRole('toolbar', { name: 'Agent tools' });

    // Pointer toggles (and says so).
    await tools.getByRole('button', { name: 'Pointer: on' }).click();
    await expect(tools.getByRole('button', { name: 'Pointer: off' })).toHaveAttribute('aria-pressed', 'false');

    // Highlight: arm, then click on the replay.
    await expect.poll(() => agent.evaluate(() => (window as any).agent.iframe.offsetWidth)).toBeGreaterThan(0);
    await tools.getByRole('button', { name: 'Highlight' }).click();
    await expect(tools.getByRole('button', { name: 'Click an element…' })).toBeVisible();
    const screen = (await agent.locator('#screen iframe').boundingBox())!;
    await agent.mouse.click(screen.x + screen.width / 2, screen.y + 40);
    await expect(customer.locator('[data-cobrowse-highlight]')).toHaveCount(1);
    await expect(tools.getByRole('button', { name: 'Highlight' })).toHaveAttribute('aria-pressed', 'false');

    // Request control: the customer site shows the prompt; Deny, then Allow, then Take back control.
    const request = tools.getByRole('button', { name: 'Request control' });
    await request.click();
    await expect(tools.getByRole('button', { name: /Waiting for the customer/ })).toBeDisabled();
    await customer.getByRole('dialog').getByRole('button', { name: /Deny/ }).click();
    await expect(tools.locator('.control-state')).toHaveText('Denied');
    await request.click();
    await customer.getByRole('dialog').getByRole('button', { name: /Allow/ }).click();
    await expect(tools.locator('.control-state')).toHaveText('You are in control');
    await expect(tools.getByRole('button', { name: 'Release control' })).toBeVisible();
    await customer.getByRole('button', { name: /Take back control/ }).click();
    await expect(tools.locator('.control-state')).toHaveText('Taken back by the customer');
    await expect(request).toBeVisible();
  } finally {
    await demo.stop();
  }
});
