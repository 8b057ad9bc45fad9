import { expect, test } from '@playwright/test';
import { CloseCode, PASSPHRASE_PREFIX } from '@cobrowse/protocol';
import { type Peer, enter } from './attack-support.js';
import { keysAllExpire, on, placed, twoNodes, until } from './shared-state-support.js';
import { post } from './helpers.js';

const AGENT = { authorization: 'Bearer agent-004' };
const OPTIONS = { passphraseAgentTokens: ['agent-004'], roomGraceMs: 10_000 };

// Seed 004 over two relay nodes sharing one Redis.
test.describe('shared state, seed 004: a passphrase works on every node, once', () => {
  test('redeemed, status and logout on the node without the room: the room held by its owner ends', async () => {
    const cluster = await twoNodes(OPTIONS);
    const { a, b } = cluster;
    try {
      const request = await post(`${a.base}${PASSPHRASE_PREFIX}/customer/session/request`, {});
      expect(request.status).toBe(200);
      // The cluster placed the room on one node (its connection info names it); the rest goes to the other.
      const { owner, other } = placed([a, b], request.json.wssUrlOut);
      const customer = (await enter(request.json.wssUrlOut, request.json.signature, 'recorder')) as Peer;
      const joined = await post(
        `${other.base}${PASSPHRASE_PREFIX}/agent/session/live/join`,
        { passphrase: request.json.passphrase.toLowerCase() },
        AGENT,
      );
      expect(joined.status).toBe(200);
      expect(joined.json.sessionId).toBe(request.json.sessionId);
      expect(placed([a, b], joined.json.wssUrl).owner).toBe(owner);
      const agent = (await enter(joined.json.wssUrl, joined.json.signature, 'replayer')) as Peer;
      // Used: neither node takes it again.
      for (const node of [a, b]) {
        const again = await post(
          `${node.base}${PASSPHRASE_PREFIX}/agent/session/live/join`,
          { passphrase: request.json.passphrase },
          AGENT,
        );
        expect(again.status).toBe(404);
        expect(again.json.error).toBe('PASSPHRASE_INVALID');
      }
      // The other node knows what the owner holds: the customer is connected.
      const customerAuth = { authorization: `Bearer ${request.json.token}` };
      const status = await (
        await fetch(`${other.base}${PASSPHRASE_PREFIX}/customer/status`, { headers: customerAuth })
      ).json();
      expect(status.state).toBe('active');
      const agentStatus = await (
        await fetch(`${other.base}${PASSPHRASE_PREFIX}/agent/status?sessionId=${request.json.sessionId}`, {
          headers: AGENT,
        })
      ).json();
      expect(agentStatus).toMatchObject({ state: 'active', customer: true });
      // Another customer's token, or a made-up one, is nobody on B.
      const stranger = await post(`${a.base}${PASSPHRASE_PREFIX}/customer/session/request`, {});
      const strangerStatus = await (
        await fetch(`${b.base}${PASSPHRASE_PREFIX}/customer/status`, {
          headers: { authorization: `Bearer ${stranger.json.token}` },
        })
      ).json();
      expect(strangerStatus.sessionId).toBe(stranger.json.sessionId);
      expect(
        (
          await fetch(`${b.base}${PASSPHRASE_PREFIX}/customer/status`, {
            headers: { authorization: 'Bearer not-a-token' },
          })
        ).status,
      ).toBe(401);

      const logout = await fetch(`${other.base}${PASSPHRASE_PREFIX}/customer/session/logout`, {
        method: 'POST',
        headers: customerAuth,
      });
      expect(logout.status).toBe(200);
      expect((await customer.closed).code).toBe(CloseCode.SessionEnded);
      expect((await agent.closed).code).toBe(CloseCode.SessionEnded);
      for (const node of [a, b]) {
        expect(await enter(on(node, request.json.wssUrlOut), request.json.signature, 'recorder')).toBe(410);
        expect(await enter(on(node, joined.json.wssUrl), joined.json.signature, 'replayer')).toBe(410);
        const ended = await (
          await fetch(`${node.base}${PASSPHRASE_PREFIX}/customer/status`, { headers: customerAuth })
        ).json();
        expect(ended.state).toBe('ended');
      }
      // The stranger's session is untouched; an agent logout of it on A is heard too, and replaying it is harmless.
      for (const node of [a, b, a]) {
        const out = await post(
          `${node.base}${PASSPHRASE_PREFIX}/agent/session/logout`,
          { sessionId: stranger.json.sessionId },
          AGENT,
        );
        expect(out.status).toBe(200);
      }
      expect(
        (await post(`${b.base}${PASSPHRASE_PREFIX}/agent/session/logout`, { sessionId: 'pp-nothing' }, AGENT)).status,
      ).toBe(404);
      // What Redis holds: namespaced keys with TTLs, no customer token in clear.
      const { keys, withoutTtl } = await keysAllExpire(cluster.inspect);
      expect(withoutTtl).toEqual([]);
      for (const key of keys) {
        expect(key).not.toContain(request.json.token);
        const value = (await cluster.inspect.type(key)) === 'string' ? await cluster.inspect.get(key) : '';
        expect(value ?? '').not.toContain(request.json.token);
      }
    } finally {
      await cluster.close();
    }
  });

  test('single use holds across nodes: many redeem at once on A and B, one wins', async () => {
    // The losers' tries count as wrong guesses once the passphrase is used up: room for them here.
    const cluster = await twoNodes({ ...OPTIONS, passphraseFailuresPerMinute: 100 });
    const { a, b } = cluster;
    try {
      for (let round = 0; round < 3; round++) {
        const request = await post(`${a.base}${PASSPHRASE_PREFIX}/agent/session/request`, { autojoin: true }, AGENT);
        const attempts = await Promise.all(
          Array.from({ length: 8 }, (_, i) =>
            post(`${(i % 2 ? b : a).base}${PASSPHRASE_PREFIX}/customer/session/join`, {
              passphrase: request.json.passphrase,
            }),
          ),
        );
        const statuses = attempts.map((r) => r.status).sort();
        expect(statuses).toEqual([200, 404, 404, 404, 404, 404, 404, 404]);
        const winner = attempts.find((r) => r.status === 200)!;
        expect(winner.json.sessionId).toBe(request.json.sessionId);
        expect(typeof winner.json.token).toBe('string');
      }
      // Two-step: the agent side and the customer side are each used once, whichever node they ask.
      const twoStep = await post(`${b.base}${PASSPHRASE_PREFIX}/agent/session/request`, { autojoin: false }, AGENT);
      const agents = await Promise.all(
        [a, b, a, b].map((node) =>
          post(`${node.base}${PASSPHRASE_PREFIX}/agent/session/join`, { passphrase: twoStep.json.passphrase }, AGENT),
        ),
      );
      expect(agents.map((r) => r.status).sort()).toEqual([200, 404, 404, 404]);
      expect(
        (await post(`${a.base}${PASSPHRASE_PREFIX}/customer/session/join`, { passphrase: twoStep.json.passphrase }))
          .status,
      ).toBe(200);
      expect(
        (await post(`${b.base}${PASSPHRASE_PREFIX}/customer/session/join`, { passphrase: twoStep.json.passphrase }))
          .status,
      ).toBe(404);
    } finally {
      await cluster.close();
    }
  });

  test('oversized and malformed input never reaches Redis as a key or a crash', async () => {
    const cluster = await twoNodes({ ...OPTIONS, passphraseFailuresPerMinute: 100 });
    const { a, b } = cluster;
    try {
      const tooBig = await post(`${a.base}${PASSPHRASE_PREFIX}/customer/session/join`, {
        passphrase: 'X'.repeat(20_000),
      });
      expect(tooBig.status).toBe(413);
      const join = await post(`${a.base}${PASSPHRASE_PREFIX}/customer/session/join`, { passphrase: 'X'.repeat(8_000) });
      expect(join.status).toBe(404);
      expect(join.json.error).toBe('PASSPHRASE_INVALID');
      for (const passphrase of [42, ['A'], { $gt: '' }, '*', 'A*', '\u0000'])
        expect([400, 404]).toContain(
          (await post(`${b.base}${PASSPHRASE_PREFIX}/customer/session/join`, { passphrase })).status,
        );
      const status = await fetch(`${b.base}${PASSPHRASE_PREFIX}/customer/status`, {
        headers: { authorization: `Bearer ${'t'.repeat(4000)}` },
      });
      expect(status.status).toBe(401);
      for (const sessionId of ['pp-../../x', `pp-${'a'.repeat(500)}`, '*', 'cobrowse:s004:session:x'])
        expect((await post(`${a.base}${PASSPHRASE_PREFIX}/agent/session/logout`, { sessionId }, AGENT)).status).toBe(
          404,
        );
      expect((await fetch(`${b.base}/cobrowse/rest/live/users/${'u'.repeat(4000)}/session/stop`)).status).toBe(404);
      // Both nodes still serve, and Redis holds only short, namespaced keys with TTLs.
      expect((await post(`${b.base}${PASSPHRASE_PREFIX}/customer/session/request`, {})).status).toBe(200);
      const { keys, withoutTtl } = await keysAllExpire(cluster.inspect);
      expect(withoutTtl).toEqual([]);
      expect(Math.max(...keys.map((key) => key.length))).toBeLessThan(120);
    } finally {
      await cluster.close();
    }
  });

  test('a passphrase expires on every node', async () => {
    const cluster = await twoNodes({ ...OPTIONS, passphraseTtlMs: 300 });
    const { a, b } = cluster;
    try {
      const request = await post(`${a.base}${PASSPHRASE_PREFIX}/customer/session/request`, {});
      // Redis lets the passphrase go by itself.
      await until(
        () => cluster.inspect.exists(`cobrowse:s004:code:${request.json.passphrase}`),
        (n) => n === 0,
      );
      const late = await post(
        `${b.base}${PASSPHRASE_PREFIX}/agent/session/live/join`,
        { passphrase: request.json.passphrase },
        AGENT,
      );
      expect(late.status).toBe(404);
      expect(late.json.error).toBe('PASSPHRASE_INVALID');
    } finally {
      await cluster.close();
    }
  });
});
