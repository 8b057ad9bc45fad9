// Debian's Chromium on a machine with no network but loopback: the flags and path for the e2e suite and the benchmarks.
import { existsSync } from 'node:fs';
import { chromium } from '@playwright/test';

export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

export function chromiumPath() {
  for (const path of [process.env.CHROMIUM_PATH, '/usr/lib/chromium/chromium'])
    if (path && existsSync(path)) return path;
  throw new Error(
    'Chromium not found at /usr/lib/chromium/chromium (install it with `apt-get install -y chromium`, or set CHROMIUM_PATH)',
  );
}

export function launchBrowser() {
  return chromium.launch({ executablePath: chromiumPath(), args: CHROMIUM_ARGS, headless: true });
}
