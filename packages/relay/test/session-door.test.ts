import { expect, test } from '@playwright/test';
import { SESSION_PREFIX, verifyToken } from '@cobrowse/protocol';
import { relayFor } from './helpers.js';

const SECRET = 's-secret-0123456789abcdef0123456789abcdef';
const ORIGIN = 'https://shop.example';

test.describe('seed 002 session REST', () => {
  let relay: Awaited<ReturnType<typeof relayFor>>;
  let base: string;
  test.beforeAll(async () => {
    relay = await relayFor({
      secret: SECRET,
      corsOrigins: [ORIGIN],
      sessionAgentTokens: ['agent-tok'],
      serverName: 'Co-browse_Server',
      serverUrl: 'https://cobrowse-node/cobrowse',
    });
    base = relay.base + SESSION_PREFIX;
  });
  test.afterAll(() => relay.close());

  const create = () => fetch(`${base}/sessions`, { method: 'POST', headers: { origin: ORIGIN } });

  test('POST /sessions: a short numeric token, the server name, and the sticky cookie', async () => {
    const response = await create();
    expect(response.status).toBe(200);
    const json = await response.json();
    expect(json.sessionToken).toMatch(/^\d{9}$/);
    expect(json.sessionServerName).toBe('Co-browse_Server');
    expect(response.headers.get('set-cookie')).toMatch(/^gcbSessionServer=Co-browse_Server;/);
    expect((await verifyToken(SECRET, json.signature, { room: json.sessionToken, role: 'recorder' })).ok).toBe(true);
  });

  test('GET /sessions/{id}: CORS-controlled public data with sessionServerUrl; connection info only for the owner or an agent', async () => {
    const created = await (await create()).json();
    const url = `${base}/sessions/${created.sessionToken}`;
    expect((await fetch(url)).status).toBe(403);
    expect((await fetch(url, { headers: { origin: 'https://evil.example' } })).status).toBe(403);
    const byReferer = await fetch(url, { headers: { referer: `${ORIGIN}/checkout?step=2` } });
    expect(byReferer.status).toBe(200);
    const pub = await byReferer.json();
    expect(pub).toEqual({
      sessionToken: created.sessionToken,
      sessionServerName: 'Co-browse_Server',
      sessionServerUrl: 'https://cobrowse-node/cobrowse',
    });
    const agent = await (await fetch(url, { headers: { origin: ORIGIN, authorization: 'Bearer agent-tok' } })).json();
    expect((await verifyToken(SECRET, agent.signature, { room: created.sessionToken, role: 'replayer' })).ok).toBe(
      true,
    );
    const owner = await (
      await fetch(url, { headers: { origin: ORIGIN, 'x-cobrowse-user-token': created.userToken } })
    ).json();
    expect((await verifyToken(SECRET, owner.signature, { role: 'recorder' })).ok).toBe(true);
    expect((await fetch(url, { headers: { origin: ORIGIN, authorization: 'Bearer wrong' } })).status).toBe(401);
    expect((await fetch(url, { headers: { origin: ORIGIN, 'x-cobrowse-user-token': 'wrong' } })).status).toBe(401);
    expect((await fetch(`${base}/sessions/000000000`, { headers: { origin: ORIGIN } })).status).toBe(404);
  });

  test('GET /users/{userToken}/session/stop: deactivates and returns UTC ms times', async () => {
    const created = await (await create()).json();
    const before = Date.now();
    const stopped = await fetch(`${base}/users/${created.userToken}/session/stop`);
    expect(stopped.status).toBe(200);
    const json = await stopped.json();
    expect(Object.keys(json).sort()).toEqual(['activationTime', 'deactivationTime']);
    expect(json.deactivationTime).toBeGreaterThanOrEqual(before);
    expect(json.activationTime).toBeNull(); // the customer never connected
    expect((await fetch(`${base}/sessions/${created.sessionToken}`, { headers: { origin: ORIGIN } })).status).toBe(404);
    expect((await fetch(`${base}/users/not-a-token/session/stop`)).status).toBe(404);
  });

  test('GET /cobrowse/health is 200 with an empty body', async () => {
    const health = await fetch(`${relay.base}/cobrowse/health`);
    expect(health.status).toBe(200);
    expect(await health.text()).toBe('');
  });
});
