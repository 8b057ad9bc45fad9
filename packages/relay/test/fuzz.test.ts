import { expect, test } from '@playwright/test';
import fc from 'fast-check';
import WebSocket from 'ws';
import {
  APIACCESS_PATH,
  CEC_PATH,
  PASSPHRASE_PREFIX,
  SESSION_PREFIX,
  agentgatewayPath,
  signToken,
} from '@cobrowse/protocol';
import { relayFor } from './helpers.js';

const PATHS = [
  CEC_PATH,
  APIACCESS_PATH,
  '/apiaccess/api/other',
  `${SESSION_PREFIX}/sessions`,
  `${SESSION_PREFIX}/sessions/123456789`,
  `${SESSION_PREFIX}/users/x/session/stop`,
  agentgatewayPath(667),
  agentgatewayPath('abc'),
  `${PASSPHRASE_PREFIX}/customer/session/join`,
  `${PASSPHRASE_PREFIX}/customer/session/request`,
  `${PASSPHRASE_PREFIX}/agent/session/live/join`,
  `${PASSPHRASE_PREFIX}/agent/session/request`,
  `${PASSPHRASE_PREFIX}/customer/status`,
  '/cobrowse/health',
  '/sdk/../../etc/passwd',
  '/%2e%2e/%2e%2e',
];

const HEADER_NAMES = [
  'cookie',
  'ccmessaging-token',
  'authorization',
  'x-app-key',
  'x-tenantspaceid',
  'guid',
  'origin',
  'referer',
  'x-cobrowse-user-token',
  'x-forwarded-proto',
  'host',
];
const headerValue = fc.oneof(
  fc.constant('dev'),
  fc.constant('Bearer dev'),
  fc.constant('ccmessaging-token=dev'),
  fc.string({ maxLength: 40 }).map((s) => s.replace(/[^\x20-\x7e]/g, '')),
);

test.describe('REST and socket fuzz (fast-check)', () => {
  test('random requests to every door: a clear status and a body, never a 5xx, and the relay stays up', async () => {
    test.setTimeout(120_000);
    const relay = await relayFor({ dev: true });
    try {
      await fc.assert(
        fc.asyncProperty(
          fc.constantFrom(...PATHS),
          fc.constantFrom('GET', 'POST', 'PUT', 'DELETE', 'OPTIONS'),
          fc.dictionary(fc.constantFrom(...HEADER_NAMES), headerValue, { maxKeys: 5 }),
          fc.oneof(
            fc.jsonValue().map((v) => JSON.stringify(v)),
            fc.string({ maxLength: 200 }),
            fc.constant('{"roomId":"r","userId":"u","userName":"n","role":"recorder"}'),
          ),
          fc.boolean(),
          async (path, method, headers, body, json) => {
            const init: RequestInit = {
              method,
              headers: { ...(json ? { 'content-type': 'application/json' } : {}), ...headers },
            };
            if (method === 'POST' || method === 'PUT') init.body = body;
            const response = await fetch(relay.base + path, init);
            expect(response.status, `${method} ${path}`).toBeLessThan(500);
            await response.arrayBuffer();
          },
        ),
        { numRuns: 400 },
      );
      expect((await fetch(`${relay.base}/cobrowse/health`)).status).toBe(200);
    } finally {
      await relay.close();
    }
  });

  test('random frames on a socket: refused with a close code, the relay stays up for others', async () => {
    test.setTimeout(120_000);
    const relay = await relayFor({ secret: 'fz-0123456789abcdef0123456789abcdef' });
    try {
      const url = async (role: 'recorder' | 'replayer') =>
        `${relay.base.replace('http', 'ws')}/ws/cobrowse/fz?signature=${encodeURIComponent(await signToken('fz-0123456789abcdef0123456789abcdef', { room: 'fz', role, user: 'u', name: 'n' }))}`;
      await fc.assert(
        fc.asyncProperty(
          fc.constantFrom('recorder' as const, 'replayer' as const),
          fc.array(
            fc.oneof(
              fc.string({ maxLength: 300 }),
              fc.uint8Array({ maxLength: 300 }),
              fc.jsonValue().map((v) => JSON.stringify(v)),
              fc.constant('{"type":"hello","v":1,"epoch":"e"}'),
            ),
            { minLength: 1, maxLength: 6 },
          ),
          async (role, frames) => {
            const ws = new WebSocket(await url(role));
            await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject));
            const closed = new Promise<number>((resolve) => ws.once('close', (code) => resolve(code)));
            for (const frame of frames) if (ws.readyState === ws.OPEN) ws.send(frame);
            const code = await Promise.race([closed, new Promise<number>((r) => setTimeout(() => r(0), 100))]);
            // Either still open (the frames were valid) or closed with an application code and never "internal error".
            if (code !== 0) expect([4000, 4001, 4003, 4008, 4009, 4010, 1009]).toContain(code);
            ws.terminate();
          },
        ),
        { numRuns: 150 },
      );
      expect((await fetch(`${relay.base}/cobrowse/health`)).status).toBe(200);
    } finally {
      await relay.close();
    }
  });
});
