import { expect, test } from '@playwright/test';
import { connect as tcp } from 'node:net';
import { APIACCESS_PATH, CEC_PATH, PASSPHRASE_PREFIX, SESSION_PREFIX, agentgatewayPath } from '@cobrowse/protocol';
import { post, relayFor } from './helpers.js';

// A plain OPTIONS (no Access-Control-Request-Method) is how a prepared agent view warms the
// connection-info service up: the browser makes and caches the preflight, and keeps the connection.

const SHOP = 'https://shop.example';
const options = (url: string, headers: Record<string, string> = {}) =>
  fetch(url, { method: 'OPTIONS', headers: { origin: SHOP, ...headers } });

test('a plain OPTIONS on each door is 204 with the methods it answers, and runs no door: no budget is used', async () => {
  const relay = await relayFor({
    corsOrigins: [SHOP],
    cecTokens: ['tok'],
    sessionAgentTokens: ['agent-a'],
    passphraseAgentTokens: ['agent-004'],
    lookupsPerMinute: 2,
    sessionsPerMinute: 1,
  });
  try {
    const doors: [string, string][] = [
      [CEC_PATH, 'POST'],
      [APIACCESS_PATH, 'POST'],
      [`${SESSION_PREFIX}/sessions`, 'POST'],
      [`${SESSION_PREFIX}/sessions/123456789`, 'GET'],
      [agentgatewayPath(1001), 'POST'],
      [`${PASSPHRASE_PREFIX}/agent/session/request`, 'POST'],
    ];
    for (const [path, method] of doors) {
      const response = await options(`${relay.base}${path}`, { 'content-type': 'application/json' });
      expect(response.status, path).toBe(204);
      expect(response.headers.get('allow')?.split(', '), path).toEqual(expect.arrayContaining([method, 'OPTIONS']));
      expect(response.headers.get('access-control-allow-origin'), path).toBe(SHOP);
      expect(response.headers.get('access-control-allow-credentials'), path).toBe('true');
      expect(await response.text(), path).toBe('');
    }
    // Many of them use none of the budgets (2 lookups and 1 new session a minute here): no door ran.
    for (let i = 0; i < 10; i++) {
      await options(`${relay.base}${SESSION_PREFIX}/sessions/${100000000 + i}`);
      await options(`${relay.base}${SESSION_PREFIX}/sessions`, { 'content-type': 'application/json' });
    }
    expect((await fetch(`${relay.base}${SESSION_PREFIX}/sessions/1`, { headers: { origin: SHOP } })).status).toBe(404);
    expect((await post(`${relay.base}${SESSION_PREFIX}/sessions`, {}, { origin: SHOP })).status).toBe(200);
  } finally {
    await relay.close();
  }
});

test('a plain OPTIONS says nothing a caller could not know: same answer with any credential, for a session that exists or not', async () => {
  const relay = await relayFor({ corsOrigins: [SHOP], sessionAgentTokens: ['agent-a'] });
  try {
    const created = await post(`${relay.base}${SESSION_PREFIX}/sessions`, {}, { origin: SHOP });
    expect(created.status).toBe(200);
    const answer = async (id: string, headers: Record<string, string>) => {
      const response = await options(`${relay.base}${SESSION_PREFIX}/sessions/${id}`, headers);
      const seen = [...response.headers].filter(([name]) => !['date', 'x-request-id'].includes(name));
      return { status: response.status, headers: seen, body: await response.text() };
    };
    const real = await answer(created.json.sessionToken, { authorization: 'Bearer agent-a' });
    expect(real.status).toBe(204);
    expect(await answer('999999999', { authorization: 'Bearer agent-a' })).toEqual(real);
    expect(await answer(created.json.sessionToken, { authorization: 'Bearer forged' })).toEqual(real);
    expect(await answer(created.json.sessionToken, {})).toEqual(real);
    // Another origin gets the answer without CORS headers: its page cannot read it, nor warm anything up.
    const other = await options(`${relay.base}${CEC_PATH}`, { origin: 'https://evil.example' });
    expect(other.status).toBe(204);
    expect(other.headers.get('access-control-allow-origin')).toBeNull();
    // A route that checks its own method (a recording: GET or DELETE) answers for itself, as before.
    const recording = await options(`${relay.base}/cobrowse/recordings/abc`);
    expect(recording.status).toBe(405);
    expect(recording.headers.get('allow')).toBe('GET, DELETE');
    // A path no door answers is still 404.
    expect((await options(`${relay.base}/nothing-here`)).status).toBe(404);
  } finally {
    await relay.close();
  }
});

test('a plain OPTIONS with a body is answered without reading it, and its connection closes', async () => {
  const relay = await relayFor({ corsOrigins: [SHOP] });
  try {
    const { port } = new URL(relay.base);
    const reply = await new Promise<string>((resolve, reject) => {
      const socket = tcp(Number(port), '127.0.0.1');
      let text = '';
      socket.on('data', (chunk) => (text += chunk.toString('latin1')));
      socket.on('close', () => resolve(text));
      socket.on('error', reject);
      // 64 MiB announced, 1 KiB sent: the relay must neither wait for nor buffer the rest.
      socket.write(
        `OPTIONS ${CEC_PATH} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: ${64 * 1024 * 1024}\r\n\r\n${'x'.repeat(1024)}`,
      );
      setTimeout(() => socket.destroy(new Error('the relay kept the connection open')), 5000);
    });
    expect(reply).toMatch(/^HTTP\/1\.1 204 /);
    expect(reply).toMatch(/\r\nconnection: close\r\n/i);
    expect((await fetch(`${relay.base}/cobrowse/health`)).status).toBe(200);
  } finally {
    await relay.close();
  }
});
