import { expect, test } from '@playwright/test';
import WebSocket from 'ws';
import { APIACCESS_PATH, CEC_PATH, SESSION_PREFIX } from '@cobrowse/protocol';
import { post, relayFor } from './helpers.js';

test('credentials and tokens never appear in the relay logs, even on internal errors', async () => {
  const lines: string[] = [];
  const relay = await relayFor({
    log: (line) => lines.push(line),
    cecTokens: ['cec-SECRET-1'],
    authenticate: () => {
      throw new Error('identity provider down');
    },
  });
  try {
    await post(
      relay.base + CEC_PATH,
      { roomId: 'r', userId: 'u', userName: 'n', role: 'recorder' },
      { cookie: 'ccmessaging-token=cec-SECRET-1' },
    );
    await post(
      relay.base + APIACCESS_PATH,
      { role: 'recorder' },
      { 'x-app-key': 'app-SECRET-2', Authorization: 'Bearer bearer-SECRET-3', 'X-TenantSpaceID': 't' },
    );
    await fetch(`${relay.base}${SESSION_PREFIX}/users/user-SECRET-4/session/stop`);
    const ws = new WebSocket(`${relay.base.replace('http', 'ws')}/ws/cobrowse/r?signature=sig-SECRET-5`);
    await new Promise((resolve) => ws.once('error', resolve).once('unexpected-response', resolve));
    expect(lines.length).toBeGreaterThan(0); // the internal errors were logged…
    for (const line of lines) expect(line).not.toMatch(/SECRET/); // …without a secret in them
  } finally {
    await relay.close();
  }
});
