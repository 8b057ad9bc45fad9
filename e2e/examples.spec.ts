import { type Browser, type Page, expect, test } from '@playwright/test';
// @ts-expect-error plain ESM example script
import { startDemo } from '../examples/demo.mjs';

type Demo = { relayUrl: string; customerUrl: string; agentUrl: string; stop(): Promise<void> };

/** The customer and the agent each in a browser context of their own, as two people on two machines. */
async function twoPeople(browser: Browser, demo: Demo) {
  const customerContext = await browser.newContext();
  const agentContext = await browser.newContext();
  const customer = await customerContext.newPage();
  await customer.goto(demo.customerUrl);
  const agent = await agentContext.newPage();
  const violations: string[] = [];
  agent.on('console', (message) => {
    if (/Content Security Policy|Refused to/i.test(message.text())) violations.push(message.text());
  });
  await agent.goto(demo.agentUrl);
  return {
    customer,
    agent,
    violations,
    close: async () => {
      await customerContext.close();
      await agentContext.close();
    },
  };
}

async function share(customer: Page): Promise<string> {
  await customer.getByRole('button', { name: 'Share my screen with an agent' }).click();
  await expect(customer.locator('#code')).toHaveText(/Your code: \d{6}/);
  return (await customer.locator('#code').textContent())!.replace(/\D/g, '');
}

async function joinWith(agent: Page, code: string): Promise<void> {
  await agent.getByLabel('Customer code').fill(code);
  await agent.getByRole('button', { name: 'Join' }).click();
}

const replayed = (agent: Page, selector: string) =>
  agent.evaluate(
    (selector) => (window as any).agent?.iframe.contentDocument.querySelector(selector)?.textContent ?? '',
    selector,
  );

let demo: Demo;
test.beforeAll(async () => {
  demo = await startDemo({ relayPort: 0, sitePort: 0 });
});
test.afterAll(async () => {
  await demo?.stop();
});

test('the demo: customer site shares with its button, the agent console joins by code', async ({ browser }) => {
  const { customer, agent, violations, close } = await twoPeople(browser, demo);
  try {
    // Masked fields are explained on both sides.
    await expect(customer.locator('#privacy')).toContainText('hidden from agents by default');
    await expect(agent.locator('.note')).toContainText('hidden from agents by default');
    await expect(agent.getByRole('button', { name: 'Leave' })).toBeHidden();

    const code = await share(customer);
    await expect(customer.getByRole('button', { name: /Stop/ })).toBeVisible();
    await joinWith(agent, code);
    await expect(agent.locator('#status')).toHaveText('Live');
    await expect(agent.locator('#status')).toHaveAttribute('data-status', 'live');
    // Join/Leave follow the state.
    await expect(agent.getByRole('button', { name: 'Leave' })).toBeVisible();
    await expect(agent.getByRole('button', { name: 'Join' })).toBeHidden();
    await expect(agent.getByLabel('Customer code')).toBeDisabled();
    await expect.poll(() => replayed(agent, '#claims')).toContain('Laptop');
    // No pointer drawn at the top-left before the customer moves theirs.
    await expect(agent.locator('.replayer-mouse')).toBeHidden();

    await customer.getByLabel('Full name').fill('Ada Lovelace');
    await customer.getByLabel('Item').fill('Scooter');
    await customer.getByRole('button', { name: 'Add to claim' }).click();
    await expect.poll(() => replayed(agent, '#claims')).toContain('Scooter');
    // The customer's pointer shows once it moves.
    await customer.mouse.move(200, 200);
    await customer.mouse.move(220, 240, { steps: 5 });
    await expect(agent.locator('.replayer-mouse')).toBeVisible();

    await customer.getByRole('button', { name: /Stop/ }).click();
    // The ended state: a clear panel, and the console ready to join another session.
    await expect(agent.locator('#status')).toHaveText('Session ended');
    await expect(agent.getByRole('alert')).toContainText('The session has ended');
    await expect(agent.getByRole('button', { name: 'Join' })).toBeVisible();
    await expect(agent.getByRole('button', { name: 'Leave' })).toBeHidden();
    await expect(agent.getByLabel('Customer code')).toBeEnabled();
    await expect(customer.getByRole('button', { name: 'Share my screen with an agent' })).toBeVisible();
    // The console's Content-Security-Policy lets the replay work and refused nothing it needs.
    expect(
      await agent.evaluate(() =>
        document.querySelector('meta[http-equiv="Content-Security-Policy"]')?.getAttribute('content'),
      ),
    ).toContain("script-src 'self'");
    expect(violations).toEqual([]);
  } finally {
    await close();
  }
});

test('the demo: a reload of the customer page keeps sharing in the same room, the agent stays', async ({ browser }) => {
  const { customer, agent, close } = await twoPeople(browser, demo);
  try {
    const code = await share(customer);
    await joinWith(agent, code);
    await expect(agent.locator('#status')).toHaveText('Live');
    await customer.reload();
    // The page shows the share going on (same code, Stop, no Share button) ...
    await expect(customer.locator('#code')).toHaveText(`Your code: ${code}`);
    await expect(customer.getByRole('button', { name: /Stop/ })).toBeVisible();
    await expect(customer.getByRole('button', { name: 'Share my screen with an agent' })).toBeHidden();
    // ... and the agent, still in the session, sees the reloaded page live.
    await customer.getByLabel('Full name').fill('Grace Hopper');
    await customer.getByLabel('Item').fill('Canoe');
    await customer.getByRole('button', { name: 'Add to claim' }).click();
    await expect.poll(() => replayed(agent, '#claims')).toContain('Canoe');
    await expect(agent.locator('#status')).toHaveText('Live');
    await expect(agent.getByRole('button', { name: 'Leave' })).toBeVisible();

    // Leave: back to a console ready to join.
    await agent.getByRole('button', { name: 'Leave' }).click();
    await expect(agent.locator('#status')).toHaveText('Not connected');
    await expect(agent.getByRole('button', { name: 'Join' })).toBeVisible();
    // The replay is taken down: the console's view is a fresh, empty one (prepared for the next join).
    expect(await agent.evaluate(() => (window as any).agent)).toBeUndefined();
    await expect(agent.locator('#screen iframe')).toHaveCount(1);
    expect(
      await agent.evaluate(
        () =>
          (document.querySelector('#screen iframe') as HTMLIFrameElement).contentDocument?.body?.childElementCount ?? 0,
      ),
    ).toBe(0);
    await customer.getByRole('button', { name: /Stop/ }).click();
  } finally {
    await close();
  }
});

test('the demo: a code nobody shares under says "no such session", never a green live state', async ({ browser }) => {
  const { agent, close } = await twoPeople(browser, demo);
  try {
    await joinWith(agent, '000000');
    await expect(agent.getByRole('alert')).toContainText('No session with code 000000');
    await expect(agent.locator('#status')).toHaveText('No such session: 000000');
    await expect(agent.locator('#status')).toHaveAttribute('data-status', 'error');
    await expect(agent.getByRole('button', { name: 'Join' })).toBeEnabled();
    await expect(agent.getByRole('button', { name: 'Leave' })).toBeHidden();
    await expect(agent.locator('#status')).not.toHaveCSS('color', 'rgb(74, 222, 128)');
  } finally {
    await close();
  }
});
