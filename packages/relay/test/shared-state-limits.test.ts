import { expect, test } from '@playwright/test';
import { PASSPHRASE_PREFIX, SESSION_PREFIX } from '@cobrowse/protocol';
import { keysAllExpire, twoNodes } from './shared-state-support.js';
import { post } from './helpers.js';

const SHOP = 'https://shop.example';

// An attacker who spreads requests over the nodes of a cluster gets no more than against one node.
test.describe('shared state: rate limits hold across nodes', () => {
  test('session lookups alternating between A and B hit 429 at the same count as one node', async () => {
    const cluster = await twoNodes({ corsOrigins: [SHOP], lookupsPerMinute: 5 });
    try {
      const statuses: number[] = [];
      for (let i = 0; i < 7; i++) {
        const node = i % 2 ? cluster.b : cluster.a;
        statuses.push(
          (await fetch(`${node.base}${SESSION_PREFIX}/sessions/${100000000 + i}`, { headers: { origin: SHOP } }))
            .status,
        );
      }
      expect(statuses).toEqual([404, 404, 404, 404, 404, 429, 429]);
      const limited = await fetch(`${cluster.a.base}${SESSION_PREFIX}/sessions/123456789`, {
        headers: { origin: SHOP },
      });
      expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0);
      expect((await keysAllExpire(cluster.inspect)).withoutTtl).toEqual([]);
    } finally {
      await cluster.close();
    }
  });

  test('anonymous session creation is counted once for the cluster', async () => {
    const cluster = await twoNodes({ sessionsPerMinute: 4 });
    try {
      const statuses: number[] = [];
      for (let i = 0; i < 6; i++) {
        const node = i % 2 ? cluster.b : cluster.a;
        const path = i % 3 ? `${SESSION_PREFIX}/sessions` : `${PASSPHRASE_PREFIX}/customer/session/request`;
        statuses.push((await post(`${node.base}${path}`, i % 3 ? '' : {})).status);
      }
      expect(statuses).toEqual([200, 200, 200, 200, 429, 429]);
    } finally {
      await cluster.close();
    }
  });

  test('wrong passphrases spread over A and B: 10 a minute in all, even when sent at once; the holder still joins', async () => {
    const cluster = await twoNodes({ trustProxy: true, passphraseAgentTokens: ['agent-004'] });
    const { a, b } = cluster;
    const join = (base: string, passphrase: string, address: string) =>
      post(`${base}${PASSPHRASE_PREFIX}/customer/session/join`, { passphrase }, { 'x-forwarded-for': address });
    try {
      const request = await post(
        `${a.base}${PASSPHRASE_PREFIX}/agent/session/request`,
        { autojoin: true },
        {
          authorization: 'Bearer agent-004',
        },
      );
      const sequential: number[] = [];
      for (let i = 0; i < 12; i++) sequential.push((await join((i % 2 ? b : a).base, 'WRONG1', '203.0.113.1')).status);
      expect(sequential).toEqual([...Array(10).fill(404), 429, 429]);
      // Thirty guesses at once from another address, over both nodes: ten are tried, the rest refused.
      const burst = await Promise.all(
        Array.from({ length: 30 }, (_, i) => join((i % 2 ? b : a).base, `WRONG${i % 9}`, '203.0.113.2')),
      );
      const counts = burst.reduce<Record<number, number>>((n, r) => ({ ...n, [r.status]: (n[r.status] ?? 0) + 1 }), {});
      expect(counts).toEqual({ 404: 10, 429: 20 });
      expect(burst.find((r) => r.status === 429)!.json.error).toBe('TOO_MANY_ATTEMPTS');
      // The real holder, on its own address, joins on either node.
      expect((await join(b.base, request.json.passphrase, '198.51.100.7')).status).toBe(200);
    } finally {
      await cluster.close();
    }
  });

  test('the budget of all addresses together is the cluster’s: guessers stop, the holder joins', async () => {
    const cluster = await twoNodes({
      trustProxy: true,
      passphraseFailuresPerMinuteTotal: 5,
      passphraseAgentTokens: ['agent-004'],
    });
    const { a, b } = cluster;
    const join = (base: string, passphrase: string, address: string) =>
      post(`${base}${PASSPHRASE_PREFIX}/customer/session/join`, { passphrase }, { 'x-forwarded-for': address });
    try {
      const customer = await post(`${a.base}${PASSPHRASE_PREFIX}/customer/session/request`, {});
      const statuses: number[] = [];
      for (let i = 0; i < 8; i++) statuses.push((await join((i % 2 ? b : a).base, 'WRONG1', `203.0.113.${i}`)).status);
      expect(statuses.slice(0, 5)).toEqual(Array(5).fill(404));
      expect((await join(b.base, 'WRONG2', '203.0.113.1')).status).toBe(429);
      expect((await join(a.base, customer.json.passphrase, '203.0.113.2')).status).toBe(429);
      // The real holder (the agent the customer reads it to), who has not guessed wrong, joins on either node.
      const agentJoin = await post(
        `${b.base}${PASSPHRASE_PREFIX}/agent/session/live/join`,
        { passphrase: customer.json.passphrase },
        { 'x-forwarded-for': '198.51.100.8', authorization: 'Bearer agent-004' },
      );
      expect(agentJoin.status).toBe(200);
    } finally {
      await cluster.close();
    }
  });
});
