import { expect, test } from '@playwright/test';
import { relayFor } from './helpers.js';

const status = (base: string, authorization?: string) =>
  fetch(`${base}/cobrowse/status`, { headers: authorization ? { authorization } : {} });

test('status needs the operator credential: 401 without one, 403 with a wrong one, 200 with the configured token', async () => {
  const relay = await relayFor({ operatorToken: 'op-secret-token-0123456789abcdef' });
  try {
    const none = await status(relay.base);
    expect(none.status).toBe(401);
    expect(none.headers.get('www-authenticate')).toContain('Bearer');
    expect(await none.text()).not.toContain('rooms');
    expect((await status(relay.base, 'Bearer wrong')).status).toBe(403);
    // Outside --dev, the dev credential is just a wrong one.
    expect((await status(relay.base, 'Bearer dev')).status).toBe(403);
    expect((await status(relay.base, 'Basic op-secret-token-0123456789abcdef')).status).toBe(403);
    const ok = await status(relay.base, 'Bearer op-secret-token-0123456789abcdef');
    expect(ok.status).toBe(200);
    expect(await ok.json()).toHaveProperty('rooms', 0);
  } finally {
    await relay.close();
  }
});

test('without an operator token, only --dev opens status (with the token "dev")', async () => {
  const plain = await relayFor({});
  const dev = await relayFor({ dev: true });
  try {
    expect((await status(plain.base, 'Bearer dev')).status).toBe(403);
    expect((await status(plain.base, 'Bearer ')).status).toBe(403);
    expect((await status(dev.base, 'Bearer dev')).status).toBe(200);
    expect((await status(dev.base)).status).toBe(401);
  } finally {
    await plain.close();
    await dev.close();
  }
});
