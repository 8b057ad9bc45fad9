import { expect, test } from '@playwright/test';
import { PASSPHRASE_PREFIX } from '@cobrowse/protocol';
import { post, relayFor } from './helpers.js';
import type { RelayOptions } from '../src/index.js';

const SESSIONS = '/cobrowse/rest/live';
const SHOP = 'https://shop.example';

async function withRelay(options: RelayOptions, body: (base: string) => Promise<void>): Promise<void> {
  const relay = await relayFor({ corsOrigins: [SHOP], passphraseAgentTokens: ['agent-004'], ...options });
  try {
    await body(relay.base);
  } finally {
    await relay.close();
  }
}

const lookup = (base: string, id: string, headers: Record<string, string> = {}) =>
  fetch(`${base}${SESSIONS}/sessions/${id}`, { headers: { origin: SHOP, ...headers } });

test.describe('per-client rate limits: 429 with Retry-After', () => {
  test('session lookups cannot be used as an oracle for the numeric token', () =>
    withRelay({ lookupsPerMinute: 5 }, async (base) => {
      const statuses: number[] = [];
      for (let i = 0; i < 7; i++) statuses.push((await lookup(base, String(100000000 + i))).status);
      expect(statuses).toEqual([404, 404, 404, 404, 404, 429, 429]);
      const limited = await lookup(base, '123456789');
      expect(limited.headers.get('retry-after')).toMatch(/^\d+$/);
      expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0);
      expect((await limited.json()).error).toMatch(/too many/);
      // X-Forwarded-For is the caller's own words unless a trusted proxy is configured: no way around the limit.
      expect((await lookup(base, '123456789', { 'x-forwarded-for': '203.0.113.9' })).status).toBe(429);
    }));

  test("agents behind one address are counted per agent credential, not against the address's budget", () =>
    withRelay({ lookupsPerMinute: 2, sessionAgentTokens: ['agent-a', 'agent-b'] }, async (base) => {
      const as = (token: string) => ({ authorization: `Bearer ${token}` });
      expect((await lookup(base, '1', as('agent-a'))).status).toBe(404);
      expect((await lookup(base, '1', as('agent-a'))).status).toBe(404);
      expect((await lookup(base, '1', as('agent-a'))).status).toBe(429);
      expect((await lookup(base, '1', as('agent-b'))).status).toBe(404);
      // Anonymous callers from the same address have their own budget, and a wrong credential counts as anonymous.
      expect((await lookup(base, '1')).status).toBe(404);
      expect((await lookup(base, '1', as('nope'))).status).toBe(404);
      expect((await lookup(base, '1')).status).toBe(429);
    }));

  test('behind a trusted proxy, each forwarded client has its own budget (the entry the proxy appended)', () =>
    withRelay({ lookupsPerMinute: 2, trustProxy: true }, async (base) => {
      const as = (client: string) => ({ 'x-forwarded-for': `198.51.100.1, ${client}` });
      expect((await lookup(base, '1', as('203.0.113.1'))).status).toBe(404);
      expect((await lookup(base, '1', as('203.0.113.1'))).status).toBe(404);
      expect((await lookup(base, '1', as('203.0.113.1'))).status).toBe(429);
      // The left-hand entries are the client's to write: changing them changes nothing.
      expect((await lookup(base, '1', { 'x-forwarded-for': `1.2.3.4, 203.0.113.1` })).status).toBe(429);
      expect((await lookup(base, '1', as('203.0.113.2'))).status).toBe(404);
    }));

  test('anonymous session creation: seed 002 POST /sessions and seed 004 session requests', () =>
    withRelay({ sessionsPerMinute: 3 }, async (base) => {
      const created: number[] = [];
      for (let i = 0; i < 2; i++) created.push((await post(`${base}${SESSIONS}/sessions`, '')).status);
      created.push((await post(`${base}${PASSPHRASE_PREFIX}/customer/session/request`, {})).status);
      const refused = await fetch(`${base}${SESSIONS}/sessions`, { method: 'POST' });
      expect(created).toEqual([200, 200, 200]);
      expect(refused.status).toBe(429);
      expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(0);
      const pp = await post(`${base}${PASSPHRASE_PREFIX}/customer/session/request`, {});
      expect(pp.status).toBe(429);
      expect(pp.json.error).toBe('RATE_LIMITED');
    }));
});

test.describe('seed 004 passphrase guessing', () => {
  const join = (base: string, passphrase: string, client: string) =>
    post(
      `${base}${PASSPHRASE_PREFIX}/agent/session/live/join`,
      { passphrase },
      { authorization: 'Bearer agent-004', 'x-forwarded-for': client },
    );

  test('limited per client, with Retry-After; the real holder on its own address still joins', () =>
    withRelay({ trustProxy: true }, async (base) => {
      const customer = await post(`${base}${PASSPHRASE_PREFIX}/customer/session/request`, {});
      const statuses: number[] = [];
      for (let i = 0; i < 11; i++) statuses.push((await join(base, 'WRONG1', '203.0.113.66')).status);
      expect(statuses.slice(0, 10)).toEqual(Array(10).fill(404));
      const limited = await join(base, customer.json.passphrase, '203.0.113.66');
      expect(limited.status).toBe(429);
      expect(limited.json.error).toBe('TOO_MANY_ATTEMPTS');
      const holder = await join(base, customer.json.passphrase, '198.51.100.7');
      expect(holder.status).toBe(200);
    }));

  test('limited per session: guesses spread over many addresses stop those addresses, never the holder', () =>
    withRelay({ trustProxy: true, passphraseFailuresPerMinuteTotal: 5 }, async (base) => {
      const customer = await post(`${base}${PASSPHRASE_PREFIX}/customer/session/request`, {});
      // A botnet: one wrong guess from each of many addresses.
      const statuses: number[] = [];
      for (let i = 0; i < 8; i++) statuses.push((await join(base, 'WRONG1', `203.0.113.${i}`)).status);
      expect(statuses.slice(0, 5)).toEqual(Array(5).fill(404));
      // The budget of wrong guesses that protects every waiting session is spent: the guessers are stopped…
      expect((await join(base, 'WRONG2', '203.0.113.1')).status).toBe(429);
      expect((await join(base, customer.json.passphrase, '203.0.113.2')).status).toBe(429);
      // …and the real holder, who has not guessed wrong, joins.
      expect((await join(base, customer.json.passphrase, '198.51.100.7')).status).toBe(200);
    }));
});
