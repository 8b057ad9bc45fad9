import { expect, test } from '@playwright/test';
import { APIACCESS_PATH, verifyToken } from '@cobrowse/protocol';
import { post, relayFor } from './helpers.js';

const SECRET = 'aa-secret-0123456789abcdef0123456789abcdef';
const app = { appKey: 'app-1', token: 'tok-A', tenants: ['tenant-a'] };
const auth = (over: Record<string, string> = {}) => ({
  'x-app-key': 'app-1',
  Authorization: 'Bearer tok-A',
  'X-TenantSpaceID': 'tenant-a',
  ...over,
});

test.describe('seed 001 apiaccess getConnectionInfo', () => {
  let relay: Awaited<ReturnType<typeof relayFor>>;
  test.beforeAll(async () => {
    relay = await relayFor({
      secret: SECRET,
      apiaccessApps: [app, { appKey: 'app-2', token: 'tok-B', tenants: ['tenant-b'] }],
    });
  });
  test.afterAll(() => relay.close());

  test('the seed example: headers and body as printed; response fields and types', async () => {
    const { status, json } = await post(
      relay.base + APIACCESS_PATH,
      { roomId: '10***04'.replace(/\*/g, '0'), workNo: '667', role: 'replayer' },
      auth(),
    );
    expect(status).toBe(200);
    expect(json.success).toBe(true);
    expect(json.errorCode).toBeNull();
    expect(json.errorReason).toBeNull();
    expect(Object.keys(json.data).sort()).toEqual(['connectParam', 'roomId', 'wssUrl', 'wssUrlOut']);
    for (const field of ['roomId', 'wssUrl', 'wssUrlOut', 'connectParam'])
      expect(typeof json.data[field]).toBe('string');
    expect(json.data.roomId).toBe('1000004');
    expect(json.data.wssUrl).toMatch(/^ws:\/\/127\.0\.0\.1:\d+\/ws\/cobrowse\/1000004$/);
    const verified = await verifyToken(SECRET, json.data.connectParam, {
      room: '1000004',
      role: 'replayer',
      tenant: 'tenant-a',
    });
    expect(verified.ok).toBe(true);
  });

  test('without roomId a UUID is generated, and the other side can meet in it', async () => {
    const first = await post(relay.base + APIACCESS_PATH, { role: 'recorder', userId: 'c1' }, auth());
    expect(first.json.data.roomId).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    const second = await post(
      relay.base + APIACCESS_PATH,
      { role: 'replayer', roomId: first.json.data.roomId, workNo: '667' },
      auth(),
    );
    expect(second.json.data.roomId).toBe(first.json.data.roomId);
    expect(second.json.data.wssUrl).toBe(first.json.data.wssUrl);
  });

  const unauthorized: [string, Record<string, string>][] = [
    ['no x-app-key', auth({ 'x-app-key': '' })],
    ['an unknown app key', auth({ 'x-app-key': 'nope' })],
    ['a wrong token', auth({ Authorization: 'Bearer nope' })],
    ['Bearer without the space', auth({ Authorization: 'Bearertok-A' })],
    ['no Authorization', auth({ Authorization: '' })],
    ['no tenant space', auth({ 'X-TenantSpaceID': '' })],
    ["another app's tenant space", auth({ 'X-TenantSpaceID': 'tenant-b' })],
    ['the dev credential without --dev', { 'x-app-key': 'dev', Authorization: 'Bearer dev', 'X-TenantSpaceID': 'dev' }],
  ];
  for (const [name, headers] of unauthorized) {
    test(`401 for ${name}, with a readable body`, async () => {
      const clean = Object.fromEntries(Object.entries(headers).filter(([, v]) => v !== ''));
      const { status, json } = await post(relay.base + APIACCESS_PATH, { role: 'recorder' }, clean);
      expect(status).toBe(401);
      expect(json).toMatchObject({ success: false, data: null });
      expect(typeof json.errorCode).toBe('number');
      expect(json.errorReason).toMatch(/\w/);
    });
  }

  test('400 for a missing or unknown role; 404 for an unknown resource', async () => {
    expect((await post(relay.base + APIACCESS_PATH, { roomId: 'r' }, auth())).json.errorReason).toMatch(
      /role is mandatory/,
    );
    expect((await post(relay.base + APIACCESS_PATH, { role: 'boss' }, auth())).status).toBe(400);
    const missing = await post(`${relay.base}/apiaccess/api/cobrowse/nothingHere`, {}, auth());
    expect(missing.status).toBe(404);
    expect(missing.json).toMatchObject({ success: false, data: null, errorReason: 'no such resource' });
    expect(typeof missing.json.errorCode).toBe('number');
  });

  test('500 for an internal error carries the dialect body', async () => {
    const broken = await relayFor({
      authenticate: () => {
        throw new Error('identity provider down');
      },
    });
    try {
      const { status, json } = await post(broken.base + APIACCESS_PATH, { role: 'recorder' }, auth());
      expect(status).toBe(500);
      expect(json).toMatchObject({ success: false, data: null, errorReason: 'internal error' });
      expect(typeof json.errorCode).toBe('number');
    } finally {
      await broken.close();
    }
  });

  test('tenants are isolated: the same room id in two tenant spaces is two rooms', async () => {
    const a = await post(relay.base + APIACCESS_PATH, { roomId: 'shared-id', role: 'recorder' }, auth());
    const b = await post(
      relay.base + APIACCESS_PATH,
      { roomId: 'shared-id', role: 'replayer' },
      { 'x-app-key': 'app-2', Authorization: 'Bearer tok-B', 'X-TenantSpaceID': 'tenant-b' },
    );
    expect(
      (await verifyToken(SECRET, a.json.data.connectParam)).ok &&
        (await verifyToken(SECRET, b.json.data.connectParam)).ok,
    ).toBe(true);
    const claimsA = await verifyToken(SECRET, a.json.data.connectParam);
    const claimsB = await verifyToken(SECRET, b.json.data.connectParam);
    expect(claimsA.ok && claimsA.claims.tenant).toBe('tenant-a');
    expect(claimsB.ok && claimsB.claims.tenant).toBe('tenant-b');
  });
});
