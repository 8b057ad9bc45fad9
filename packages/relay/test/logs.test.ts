import { expect, test } from '@playwright/test';
import WebSocket from 'ws';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { APIACCESS_PATH, CEC_PATH, PASSPHRASE_PREFIX, SESSION_PREFIX, encodeText } from '@cobrowse/protocol';
import { ConfigError, createRelay } from '../src/index.js';
import { TEST_SECRET, post, relayFor } from './helpers.js';

const CLI = fileURLToPath(new URL('../bin/cobrowse-relay', import.meta.url));

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

/** The relay's lines, parsed (each must be one JSON object). */
const parsed = (lines: string[]) => lines.map((line) => JSON.parse(line) as Record<string, unknown>);

test('each line is one JSON object with a request id; lines about a room name it; secrets never appear, even at debug', async () => {
  const lines: string[] = [];
  const relay = await relayFor({
    log: (line) => lines.push(line),
    logLevel: 'debug',
    cecTokens: ['cec-SECRET-1'],
    passphraseAgentTokens: ['agent-SECRET-6'],
  });
  const secrets: string[] = ['cec-SECRET-1', 'agent-SECRET-6'];
  try {
    // Seed 000: connection info, then the customer's socket (hello, a batch, gone).
    const info = await post(
      relay.base + CEC_PATH,
      { roomId: 'log-room-1', userId: 'u1', userName: 'Ada', role: 'recorder' },
      { cookie: 'ccmessaging-token=cec-SECRET-1' },
    );
    expect(info.status).toBe(200);
    secrets.push(info.json.data.signature);
    const ws = new WebSocket(`${info.json.data.wssUrlOut}?signature=${encodeURIComponent(info.json.data.signature)}`);
    await new Promise((resolve) => ws.once('open', resolve));
    ws.send(encodeText({ type: 'hello', v: 1, epoch: 'ep1' } as never));
    await new Promise((resolve) => ws.once('message', resolve));
    ws.close();
    // Seed 002: its room id is the session token; the user token sits in a path.
    const session = await (await fetch(`${relay.base}${SESSION_PREFIX}/sessions`, { method: 'POST' })).json();
    secrets.push(session.sessionToken, session.userToken, session.signature);
    expect((await fetch(`${relay.base}${SESSION_PREFIX}/users/${session.userToken}/session/stop`)).status).toBe(200);
    // Seed 004: a passphrase, its token, a wrong guess and the agent's join.
    const customer = await post(`${relay.base}${PASSPHRASE_PREFIX}/customer/session/request`, {});
    secrets.push(customer.json.passphrase, customer.json.token, customer.json.signature);
    const AGENT = { authorization: 'Bearer agent-SECRET-6' };
    await post(`${relay.base}${PASSPHRASE_PREFIX}/agent/session/live/join`, { passphrase: 'WRONG9' }, AGENT);
    const agent = await post(
      `${relay.base}${PASSPHRASE_PREFIX}/agent/session/live/join`,
      { passphrase: customer.json.passphrase },
      AGENT,
    );
    expect(agent.status).toBe(200);
    secrets.push(agent.json.signature);
    await expect.poll(() => lines.some((line) => line.includes('"socket closed"'))).toBe(true);

    const entries = parsed(lines);
    for (const entry of entries) {
      expect(typeof entry.level).toBe('string');
      expect(typeof entry.time).toBe('string');
      expect(typeof entry.msg).toBe('string');
      expect(typeof entry.reqId).toBe('string');
    }
    // The request line of the connection info names its room, with the id sent back in X-Request-Id.
    const request = entries.find((e) => e.msg === 'request' && e.path === CEC_PATH)!;
    expect(request).toMatchObject({ level: 'debug', roomId: 'cec/log-room-1', method: 'POST', status: 200 });
    // The socket's lines carry its upgrade's request id, its room and role.
    const socketLines = entries.filter((e) => String(e.msg).startsWith('socket '));
    expect(socketLines.map((e) => e.msg)).toEqual(['socket opened', 'socket closed']);
    for (const e of socketLines) expect(e).toMatchObject({ roomId: 'cec/log-room-1', role: 'recorder' });
    expect(socketLines[0]!.reqId).toBe(socketLines[1]!.reqId);
    // Seed 002's room is named by a hash of its token, never the token.
    const sessionLines = entries.filter((e) => String(e.roomId ?? '').startsWith('session/'));
    expect(sessionLines.length).toBeGreaterThan(0);
    for (const e of sessionLines) expect(e.roomId).toMatch(/^session\/#[0-9a-f]{12}$/);
    // The user token in the stop path is redacted.
    expect(entries.some((e) => e.path === `${SESSION_PREFIX}/users/…/session/stop`)).toBe(true);

    for (const line of lines) {
      for (const secret of secrets) expect(line).not.toContain(secret);
      expect(line).not.toMatch(/SECRET|WRONG9/);
    }
  } finally {
    await relay.close();
  }
});

test('X-Request-Id names the request in the logs; a caller-sent one is kept only behind a trusted proxy', async () => {
  const lines: string[] = [];
  const direct = await relayFor({ log: (line) => lines.push(line), logLevel: 'debug' });
  const proxied = await relayFor({ log: (line) => lines.push(line), logLevel: 'debug', trustProxy: true });
  try {
    const mine = await fetch(`${direct.base}/healthz`, { headers: { 'x-request-id': 'lb-1234' } });
    const id = mine.headers.get('x-request-id')!;
    expect(id).not.toBe('lb-1234');
    const kept = await fetch(`${proxied.base}/healthz`, { headers: { 'x-request-id': 'lb-1234' } });
    expect(kept.headers.get('x-request-id')).toBe('lb-1234');
    const odd = await fetch(`${proxied.base}/healthz`, { headers: { 'x-request-id': 'a b"c' } });
    expect(odd.headers.get('x-request-id')).not.toContain('"');
    await expect
      .poll(() =>
        parsed(lines)
          .filter((e) => e.msg === 'request')
          .map((e) => e.reqId),
      )
      .toContain(id);
    expect(parsed(lines).some((e) => e.reqId === 'lb-1234')).toBe(true);
  } finally {
    await Promise.all([direct.close(), proxied.close()]);
  }
});

test('logLevel: info leaves successful requests out, warn leaves out refusals, and a bad level is a ConfigError', async () => {
  const lines: string[] = [];
  const info = await relayFor({ log: (line) => lines.push(line) });
  try {
    await fetch(`${info.base}/healthz`);
    await fetch(`${info.base}/no/such/path`);
    await expect.poll(() => lines.length).toBe(1);
    expect(JSON.parse(lines[0]!)).toMatchObject({ level: 'info', msg: 'request', status: 404 });
  } finally {
    await info.close();
  }
  lines.length = 0;
  const warn = await relayFor({ log: (line) => lines.push(line), logLevel: 'warn' });
  try {
    await fetch(`${warn.base}/no/such/path`);
    await fetch(`${warn.base}/metrics`);
  } finally {
    await warn.close();
  }
  expect(lines).toEqual([]);
  expect(() => createRelay({ secret: TEST_SECRET, logLevel: 'loud' as never })).toThrow(ConfigError);
  expect(() => createRelay({ secret: TEST_SECRET, logLevel: 'loud' as never })).toThrow(/logLevel must be one of/);
});

test('the CLI takes --log-level (and COBROWSE_LOG_LEVEL) and writes JSON lines to stderr', async () => {
  const run = (args: string[], env: Record<string, string> = {}) =>
    new Promise<{ code: number | null; stderr: string }>((resolve) => {
      const child = spawn(CLI, ['--port', '0', ...args], {
        env: { ...process.env, COBROWSE_SECRET: TEST_SECRET, ...env },
      });
      let stderr = '';
      child.stderr.on('data', (chunk) => (stderr += chunk));
      child.stdout.on('data', async (chunk) => {
        const match = /listening on (http:\/\/\S+)/.exec(String(chunk));
        if (!match) return;
        await fetch(`${match[1]}/healthz`);
        // The request's line is written when its response finishes: wait for it, then stop.
        const deadline = Date.now() + 3000;
        while (!stderr.includes('"msg":"request"') && Date.now() < deadline)
          await new Promise((r) => setTimeout(r, 20));
        child.kill('SIGTERM');
      });
      child.on('exit', (code) => resolve({ code, stderr }));
    });
  const debug = await run(['--log-level', 'debug']);
  expect(debug.code).toBe(0);
  const line = debug.stderr.split('\n').find((l) => l.includes('"msg":"request"'))!;
  expect(JSON.parse(line)).toMatchObject({ level: 'debug', method: 'GET', path: '/healthz', status: 200 });
  const bad = await run([], { COBROWSE_LOG_LEVEL: 'loud' });
  expect(bad.code).toBe(2);
  expect(bad.stderr).toMatch(/logLevel must be one of/);
});
