#!/usr/bin/env node
// `npm run screenshots`: pictures of both sides of the real demo for the README
// (docs/images/customer.png, docs/images/agent.png). Runs the demo on free ports, a customer who
// fills in the claim form and shares, and an agent who joins with the code.
import { mkdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from '@playwright/test';
import { CHROMIUM_ARGS, chromiumPath } from '../test-support/browser.mjs';
import { startDemo } from './demo.mjs';

const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const OUT = join(REPO, 'docs', 'images');
const VIEWPORT = { width: 1000, height: 700 };

const demo = await startDemo({ relayPort: 0, sitePort: 0 });
const browser = await chromium.launch({ executablePath: chromiumPath(), args: CHROMIUM_ARGS });
try {
  mkdirSync(OUT, { recursive: true });
  const customer = await (await browser.newContext({ viewport: VIEWPORT })).newPage();
  await customer.goto(demo.customerUrl);
  await customer.getByRole('button', { name: 'Share my screen with an agent' }).click();
  await customer.locator('#code', { hasText: /Your code: \d{6}/ }).waitFor({ timeout: 15_000 });
  const code = (await customer.locator('#code').textContent())?.replace(/\D/g, '');
  if (!code) throw new Error('the customer site showed no code');

  const agent = await (await browser.newContext({ viewport: VIEWPORT })).newPage();
  await agent.goto(demo.agentUrl);
  await agent.getByLabel('Customer code').fill(code);
  await agent.getByRole('button', { name: 'Join' }).click();
  await agent.locator('#status[data-status="live"]').waitFor({ timeout: 15_000 });

  // The customer fills in the form while the agent watches: values arrive masked.
  await customer.getByLabel('Full name').pressSequentially('Ada Lovelace');
  await customer.getByLabel('Email').pressSequentially('ada@example.com');
  await customer.getByLabel('Policy number').pressSequentially('PN-4471-22');
  await customer.getByLabel('Card for the excess').pressSequentially('4242 4242 4242 4242');
  await customer.getByLabel('Item').fill('Scooter');
  await customer.getByLabel('What happened?').selectOption('Accident');
  await customer.mouse.move(520, 380, { steps: 8 });
  await customer.getByLabel('Description').hover();
  // Let the replay catch up with the last keystrokes and the resting pointer.
  await agent.waitForFunction(
    () => window.agent?.iframe.contentDocument.querySelector('input[name="item"]')?.value.length === 'Scooter'.length,
    undefined,
    { timeout: 10_000 },
  );
  await agent.waitForTimeout(600);
  await customer.screenshot({ path: join(OUT, 'customer.png') });
  await agent.screenshot({ path: join(OUT, 'agent.png') });
  console.log(`screenshots: ${join(OUT, 'customer.png')}, ${join(OUT, 'agent.png')}`);
} finally {
  await browser.close();
  await demo.stop();
}
