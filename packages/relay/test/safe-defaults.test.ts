import { expect, test } from '@playwright/test';
import { spawn } from 'node:child_process';
import { connect as tcp } from 'node:net';
import { request } from 'node:http';
import { fileURLToPath } from 'node:url';
import WebSocket from 'ws';
import { CEC_PATH, signToken } from '@cobrowse/protocol';
import { ConfigError, createRelay } from '../src/index.js';
import { TEST_SECRET, post, relayFor } from './helpers.js';

/** POSTs JSON with a Host header of our choosing (fetch would not send one). */
function postWithHost(url: string, body: unknown, headers: Record<string, string>): Promise<any> {
  return new Promise((resolve, reject) => {
    const text = JSON.stringify(body);
    const req = request(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers } }, (res) => {
      let data = '';
      res.on('data', (d) => (data += d));
      res.on('end', () => resolve(JSON.parse(data)));
    });
    req.on('error', reject);
    req.end(text);
  });
}

const CLI = fileURLToPath(new URL('../bin/cobrowse-relay', import.meta.url));
const SHOP = 'https://shop.example';

/** Runs the CLI; resolves with its exit code and stderr (or kills it once it listens). */
function cli(args: string[], env: Record<string, string> = {}): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(CLI, args, { env: { ...process.env, COBROWSE_SECRET: '', ...env } });
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    child.stdout.on('data', (d) => String(d).includes('listening') && child.kill('SIGTERM'));
    child.on('exit', (code) => resolve({ code, stderr }));
  });
}

test.describe('a production relay is safe by default', () => {
  test('createRelay throws without a secret, or with one under 32 bytes; --dev may go without', () => {
    expect(() => createRelay({ port: 0 })).toThrow(ConfigError);
    expect(() => createRelay({ port: 0 })).toThrow(/secret is required/);
    expect(() => createRelay({ port: 0, secret: 'x'.repeat(31) })).toThrow(/31 bytes: use at least 32/);
    expect(() => createRelay({ port: 0, secret: 'x'.repeat(32) })).not.toThrow();
    expect(() => createRelay({ port: 0, dev: true })).not.toThrow();
    expect(() => createRelay({ port: 0, host: '0.0.0.0', secret: TEST_SECRET })).toThrow(/publicUrl is required/);
    expect(() =>
      createRelay({ port: 0, host: '0.0.0.0', secret: TEST_SECRET, publicUrl: 'wss://cobrowse.example' }),
    ).not.toThrow();
  });

  test('the CLI refuses to start (exit code 2, a clear message) without a good secret', async () => {
    const missing = await cli(['--port', '0']);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/refusing to start: a secret is required/);
    const short = await cli(['--port', '0', '--secret', 'short']);
    expect(short.code).toBe(2);
    expect(short.stderr).toMatch(/at least 32/);
    const good = await cli(['--port', '0'], { COBROWSE_SECRET: TEST_SECRET });
    expect(good.code).toBe(0);
  });

  test("outside --dev the URLs handed out never come from the request's Host header", async () => {
    const relay = await relayFor({ cecTokens: ['t'] });
    try {
      const body = { roomId: 'r', userId: 'u', userName: 'U', role: 'recorder' };
      const json = await postWithHost(relay.base + CEC_PATH, body, {
        cookie: 'ccmessaging-token=t',
        host: 'evil.example',
      });
      const own = relay.base.replace('http', 'ws');
      expect(json.data.wssUrl).toBe(`${own}/ws/cobrowse/r`);
      expect(json.data.wssUrlOut).toBe(`${own}/ws/cobrowse/r`);
      const forwarded = await post(relay.base + CEC_PATH, body, {
        cookie: 'ccmessaging-token=t',
        'x-forwarded-host': 'evil.example',
        'x-forwarded-proto': 'https',
      });
      expect(forwarded.json.data.wssUrlOut).toBe(`${own}/ws/cobrowse/r`);
    } finally {
      await relay.close();
    }
    // Under --dev (local trials) the Host is used: the same request proves the header was sent.
    const dev = await relayFor({ dev: true });
    try {
      const body = { roomId: 'r', userId: 'u', userName: 'U', role: 'recorder' };
      const json = await postWithHost(dev.base + CEC_PATH, body, {
        cookie: 'ccmessaging-token=dev',
        host: 'evil.example',
      });
      expect(json.data.wssUrlOut).toBe('ws://evil.example/ws/cobrowse/r');
    } finally {
      await dev.close();
    }
  });

  test('malformed input gets a 4xx with a short body, never a 500 or a stack trace', async () => {
    const relay = await relayFor({ cecTokens: ['t'], agentGuids: ['g'], corsOrigins: [SHOP] });
    try {
      const cases: [string, RequestInit][] = [
        ['/cobrowse/rest/live/sessions/%E0%A4%A', { headers: { origin: SHOP } }],
        ['/cobrowse/rest/live/users/%ZZ/session/stop', {}],
        ['/agentgateway/resource/mediacall/%C0/getconnectinfo', { method: 'POST', headers: { guid: 'g' } }],
        [CEC_PATH, { method: 'POST', headers: { 'content-type': 'application/json', cookie: 't' }, body: '{' }],
        [
          CEC_PATH,
          {
            method: 'POST',
            headers: { 'content-type': 'application/json', cookie: 'ccmessaging-token=%E0%A4%A' },
            body: '{}',
          },
        ],
        [
          '/services/CoBrowse/v1/customer/session/join',
          { method: 'POST', body: '{"passphrase":', headers: { 'content-type': 'application/json' } },
        ],
      ];
      for (const [path, init] of cases) {
        const response = await fetch(relay.base + path, init);
        const text = await response.text();
        expect(response.status, path).toBeGreaterThanOrEqual(400);
        expect(response.status, path).toBeLessThan(500);
        expect(text.length, path).toBeLessThan(300);
        expect(text, path).not.toMatch(/at .*\.ts|Error:/);
      }
      // A bad percent-encoding in a socket path: 400 before any socket opens.
      const signature = await signToken(TEST_SECRET, { room: 'r', role: 'replayer', user: 'u', name: 'n' });
      const status = await new Promise<number>((resolve) => {
        const ws = new WebSocket(`${relay.base.replace('http', 'ws')}/ws/cobrowse/%E0%A4%A?signature=${signature}`);
        ws.once('unexpected-response', (_req, res) => resolve(res.statusCode!));
        ws.once('error', () => resolve(0));
      });
      expect(status).toBe(400);
    } finally {
      await relay.close();
    }
  });

  test('every response carries nosniff; CORS never pairs * with credentials; reflected origins vary', async () => {
    const relay = await relayFor({ cecTokens: ['t'], corsOrigins: [SHOP] });
    try {
      const responses = [
        await fetch(`${relay.base}/cobrowse/health`),
        await fetch(`${relay.base}/nothing-here`),
        await fetch(`${relay.base}${CEC_PATH}`, { headers: { origin: SHOP } }),
        await fetch(`${relay.base}${CEC_PATH}`, {
          method: 'OPTIONS',
          headers: { origin: SHOP, 'access-control-request-method': 'POST' },
        }),
        await fetch(`${relay.base}${CEC_PATH}`, {
          method: 'OPTIONS',
          headers: { origin: 'https://evil.example', 'access-control-request-method': 'POST' },
        }),
        await fetch(`${relay.base}/cobrowse/status`),
        await fetch(`${relay.base}/sdk/recorder.js`, { headers: { origin: SHOP } }),
        await fetch(`${relay.base}/sdk/nothing.js`, { headers: { origin: SHOP } }),
        await fetch(`${relay.base}/sdk/..%2F..%2Fpackage.json`, { headers: { origin: SHOP } }),
      ];
      for (const response of responses) {
        expect(response.headers.get('x-content-type-options'), response.url).toBe('nosniff');
        const acao = response.headers.get('access-control-allow-origin');
        if (acao === '*') expect(response.headers.get('access-control-allow-credentials'), response.url).toBeNull();
        if (acao && acao !== '*') expect(response.headers.get('vary') ?? '', response.url).toMatch(/Origin/i);
      }
      expect(responses[2]!.headers.get('access-control-allow-origin')).toBe(SHOP);
      expect(responses[4]!.headers.get('access-control-allow-origin')).toBeNull();
      expect(responses[8]!.status).toBe(404);
      // Raw answers too: a refused upgrade, and a request the HTTP parser rejects.
      const { port } = new URL(relay.base);
      for (const request of [
        'GET /ws/cobrowse/r HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: AAAAAAAAAAAAAAAAAAAAAA==\r\nSec-WebSocket-Version: 13\r\n\r\n',
        'BROKEN\r\n\r\n',
      ]) {
        const answer = await new Promise<string>((resolve) => {
          let text = '';
          const socket = tcp(Number(port), '127.0.0.1', () => socket.write(request));
          socket.on('data', (d) => (text += d));
          socket.on('close', () => resolve(text));
          socket.on('error', () => resolve(text));
        });
        expect(answer).toMatch(/^HTTP\/1\.1 4\d\d/);
        expect(answer).toMatch(/X-Content-Type-Options: nosniff/i);
      }
    } finally {
      await relay.close();
    }
  });

  test('counts of rooms need the operator credential (seed 004 server status)', async () => {
    const relay = await relayFor({ operatorToken: 'op-0123456789abcdef0123456789abcdef' });
    try {
      const open = await (await fetch(`${relay.base}/services/CoBrowse/v1/server/status`)).json();
      expect(open).toEqual({ status: 'successful' });
      const operator = await (
        await fetch(`${relay.base}/services/CoBrowse/v1/server/status`, {
          headers: { authorization: 'Bearer op-0123456789abcdef0123456789abcdef' },
        })
      ).json();
      expect(operator).toEqual({ status: 'successful', rooms: 0 });
      expect((await fetch(`${relay.base}/cobrowse/status`)).status).toBe(401);
    } finally {
      await relay.close();
    }
  });
});
