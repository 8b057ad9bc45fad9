import { expect, test } from '@playwright/test';
import { CEC_PATH, verifyToken } from '@cobrowse/protocol';
import { post, relayFor } from './helpers.js';

const SECRET = 'unit-secret-0123456789abcdef0123456789abcdef';
const body = { roomId: 'call-42', userId: 'c1', userName: 'Ada', role: 'recorder' };

test.describe('seed 000 getConnectionInfo', () => {
  let relay: Awaited<ReturnType<typeof relayFor>>;
  let url: string;
  test.beforeAll(async () => {
    relay = await relayFor({
      secret: SECRET,
      cecTokens: ['tok-123'],
      corsOrigins: ['https://shop.example'],
      publicUrl: 'wss://cobrowse.example.com',
    });
    url = relay.base + CEC_PATH;
  });
  test.afterAll(() => relay.close());

  test('the seed example request (cookie token) gets retCode "0" and signed connection info', async () => {
    const { status, json } = await post(url, body, {
      cookie: 'JSESSIONID=abc; ccmessaging-token=tok-123',
      'x-forwarded-for': '10.10.10.3, 10.10.10.4',
      accept: '*/*',
    });
    expect(status).toBe(200);
    expect(json.retCode).toBe('0');
    expect(typeof json.retMsg).toBe('string');
    expect(Object.keys(json.data).sort()).toEqual(['roomId', 'signature', 'wssUrl', 'wssUrlOut']);
    expect(json.data.roomId).toBe('call-42');
    expect(json.data.wssUrl).toBe(`${relay.base.replace('http', 'ws')}/ws/cobrowse/call-42`);
    expect(json.data.wssUrlOut).toBe('wss://cobrowse.example.com/ws/cobrowse/call-42');
    const verified = await verifyToken(SECRET, json.data.signature, { room: 'call-42', role: 'recorder' });
    expect(verified.ok).toBe(true);
  });

  test('the token may come as a header, and "observer" is the replayer role', async () => {
    const { status, json } = await post(url, { ...body, role: 'observer' }, { 'ccmessaging-token': 'tok-123' });
    expect(status).toBe(200);
    expect((await verifyToken(SECRET, json.data.signature, { role: 'replayer' })).ok).toBe(true);
  });

  const bad: [string, unknown, Record<string, string>, number, RegExp][] = [
    ['no token', body, {}, 401, /missing ccmessaging-token/],
    ['a wrong token', body, { cookie: 'ccmessaging-token=nope' }, 401, /invalid ccmessaging-token/],
    ['the dev token without --dev', body, { cookie: 'ccmessaging-token=dev' }, 401, /invalid/],
    ['a body that is not JSON', '{"roomId":', { cookie: 'ccmessaging-token=tok-123' }, 400, /not valid JSON/],
    ['a JSON array body', '[]', { cookie: 'ccmessaging-token=tok-123' }, 400, /JSON object/],
    [
      'a too-large body',
      { ...body, userName: 'x'.repeat(20_000) },
      { cookie: 'ccmessaging-token=tok-123' },
      413,
      /exceeds/,
    ],
    [
      'a roomId with path tricks',
      { ...body, roomId: '../admin' },
      { cookie: 'ccmessaging-token=tok-123' },
      400,
      /roomId/,
    ],
    [
      'an unknown role',
      { ...body, role: 'admin' },
      { cookie: 'ccmessaging-token=tok-123' },
      400,
      /role must be recorder or replayer/,
    ],
    [
      'a non-string userId',
      { ...body, userId: 7 },
      { cookie: 'ccmessaging-token=tok-123' },
      400,
      /userId must be a string/,
    ],
    [
      'a disallowed browser origin',
      body,
      { cookie: 'ccmessaging-token=tok-123', origin: 'https://evil.example' },
      403,
      /origin not allowed/,
    ],
  ];
  for (const field of ['roomId', 'userId', 'userName', 'role']) {
    const { [field]: _omit, ...rest } = body as Record<string, string>;
    bad.push([`no ${field}`, rest, { cookie: 'ccmessaging-token=tok-123' }, 400, new RegExp(`${field} is mandatory`)]);
    bad.push([
      `an empty ${field}`,
      { ...body, [field]: '' },
      { cookie: 'ccmessaging-token=tok-123' },
      400,
      new RegExp(`${field} is mandatory`),
    ]);
  }
  for (const [name, payload, headers, status, message] of bad) {
    test(`refuses ${name} with ${status} and a clear retMsg`, async () => {
      const reply = await post(url, payload, headers);
      expect(reply.status).toBe(status);
      expect(reply.json.retCode).not.toBe('0');
      expect(reply.json.retMsg).toMatch(message);
      expect(reply.json.data).toBeUndefined();
    });
  }

  test('refuses a wrong content type and a wrong method', async () => {
    const wrongType = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'text/plain', cookie: 'ccmessaging-token=tok-123' },
      body: JSON.stringify(body),
    });
    expect(wrongType.status).toBe(415);
    expect((await wrongType.json()).retCode).toBe('415');
    const get = await fetch(url, { headers: { cookie: 'ccmessaging-token=tok-123' } });
    expect(get.status).toBe(405);
    expect((await get.json()).retMsg).toMatch(/POST/);
  });

  test('CORS: an allowed origin gets a preflight and credentials; another does not', async () => {
    const ok = await fetch(url, {
      method: 'OPTIONS',
      headers: {
        origin: 'https://shop.example',
        'access-control-request-method': 'POST',
        'access-control-request-headers': 'content-type, ccmessaging-token',
      },
    });
    expect(ok.status).toBe(204);
    expect(ok.headers.get('access-control-allow-origin')).toBe('https://shop.example');
    expect(ok.headers.get('access-control-allow-credentials')).toBe('true');
    expect(ok.headers.get('access-control-allow-headers')).toContain('ccmessaging-token');
    const no = await fetch(url, {
      method: 'OPTIONS',
      headers: { origin: 'https://evil.example', 'access-control-request-method': 'POST' },
    });
    expect(no.status).toBe(403);
    expect(no.headers.get('access-control-allow-origin')).toBeNull();
  });

  test('health is 200 with an empty body; unknown paths are 404', async () => {
    const health = await fetch(`${relay.base}/cobrowse/health`);
    expect(health.status).toBe(200);
    expect(await health.text()).toBe('');
    expect((await fetch(`${relay.base}/nope`)).status).toBe(404);
  });
});

test('--dev accepts the credential "dev" and any origin', async () => {
  const relay = await relayFor({ dev: true });
  try {
    const reply = await post(relay.base + CEC_PATH, body, {
      cookie: 'ccmessaging-token=dev',
      origin: 'http://localhost:5173',
    });
    expect(reply.status).toBe(200);
    expect(reply.json.retCode).toBe('0');
  } finally {
    await relay.close();
  }
});

test('the library hook authenticate() replaces the token list', async () => {
  const seen: (string | undefined)[] = [];
  const relay = await relayFor({
    authenticate: ({ credential }) => {
      seen.push(credential);
      return credential === 'from-my-sso' ? { id: 'sso-user' } : undefined;
    },
  });
  try {
    expect((await post(relay.base + CEC_PATH, body, { cookie: 'ccmessaging-token=from-my-sso' })).status).toBe(200);
    expect((await post(relay.base + CEC_PATH, body, { cookie: 'ccmessaging-token=dev' })).status).toBe(401);
    expect(seen).toEqual(['from-my-sso', 'dev']);
  } finally {
    await relay.close();
  }
});
