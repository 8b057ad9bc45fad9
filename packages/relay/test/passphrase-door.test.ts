import { expect, test } from '@playwright/test';
import { PASSPHRASE_ALPHABET, PASSPHRASE_PREFIX, verifyToken } from '@cobrowse/protocol';
import { post, relayFor } from './helpers.js';

const SECRET = 'pp-secret-0123456789abcdef0123456789abcdef';
const AGENT = { authorization: 'Bearer agent-1' };

test.describe('seed 004 passphrase sessions', () => {
  let relay: Awaited<ReturnType<typeof relayFor>>;
  let base: string;
  test.beforeAll(async () => {
    relay = await relayFor({ secret: SECRET, passphraseAgentTokens: ['agent-1'] });
    base = relay.base + PASSPHRASE_PREFIX;
  });
  test.afterAll(() => relay.close());

  const passphraseShape = new RegExp(`^[${PASSPHRASE_ALPHABET}]{6}$`);

  test('customer-initiated: request gives a passphrase; the agent joins live with it, once', async () => {
    const customer = await post(`${base}/customer/session/request`, {});
    expect(customer.status).toBe(200);
    expect(customer.json.passphrase).toMatch(passphraseShape);
    expect(
      (await verifyToken(SECRET, customer.json.signature, { room: customer.json.sessionId, role: 'recorder' })).ok,
    ).toBe(true);
    expect(customer.json.wssUrl).toContain('/services/CoBrowse/sockjs/cobrowse/customer/');
    const agent = await post(
      `${base}/agent/session/live/join`,
      { passphrase: customer.json.passphrase.toLowerCase() },
      AGENT,
    );
    expect(agent.status).toBe(200);
    expect(agent.json.sessionId).toBe(customer.json.sessionId);
    expect(agent.json.wssUrl).toContain('/services/CoBrowse/sockjs/cobrowse/agent/');
    expect((await verifyToken(SECRET, agent.json.signature, { role: 'replayer' })).ok).toBe(true);
    // Single use.
    const again = await post(`${base}/agent/session/live/join`, { passphrase: customer.json.passphrase }, AGENT);
    expect(again.status).toBe(404);
    expect(again.json.error).toBe('PASSPHRASE_INVALID');
    // Status for each side, then logout ends it.
    const status = await fetch(`${base}/customer/status`, {
      headers: { authorization: `Bearer ${customer.json.token}` },
    });
    expect((await status.json()).state).toBe('waiting');
    const agentStatus = await (
      await fetch(`${base}/agent/status?sessionId=${customer.json.sessionId}`, { headers: AGENT })
    ).json();
    expect(agentStatus).toMatchObject({ state: 'waiting', customer: false });
    expect(
      (
        await fetch(`${base}/customer/session/logout`, {
          method: 'POST',
          headers: { authorization: `Bearer ${customer.json.token}` },
        })
      ).status,
    ).toBe(200);
    expect(
      (
        await (
          await fetch(`${base}/customer/status`, { headers: { authorization: `Bearer ${customer.json.token}` } })
        ).json()
      ).state,
    ).toBe('ended');
  });

  test('agent-initiated, one step (autojoin) and two steps', async () => {
    const oneStep = await post(`${base}/agent/session/request`, { autojoin: true }, AGENT);
    expect(oneStep.json.passphrase).toMatch(passphraseShape);
    expect(typeof oneStep.json.signature).toBe('string');
    const customer = await post(`${base}/customer/session/join`, { passphrase: oneStep.json.passphrase });
    expect(customer.status).toBe(200);
    expect(customer.json.sessionId).toBe(oneStep.json.sessionId);
    expect((await verifyToken(SECRET, customer.json.signature, { role: 'recorder' })).ok).toBe(true);

    const twoStep = await post(`${base}/agent/session/request`, { autojoin: false }, AGENT);
    expect(twoStep.json.signature).toBeUndefined();
    const joined = await post(`${base}/agent/session/join`, { passphrase: twoStep.json.passphrase }, AGENT);
    expect((await verifyToken(SECRET, joined.json.signature, { role: 'replayer' })).ok).toBe(true);
    expect((await post(`${base}/customer/session/join`, { passphrase: twoStep.json.passphrase })).status).toBe(200);
    expect((await post(`${base}/customer/session/join`, { passphrase: twoStep.json.passphrase })).status).toBe(404);
  });

  test('passphrases expire', async () => {
    const quick = await relayFor({ secret: SECRET, passphraseTtlMs: 50, passphraseAgentTokens: ['agent-1'] });
    try {
      const customer = await post(`${quick.base}${PASSPHRASE_PREFIX}/customer/session/request`, {});
      await new Promise((r) => setTimeout(r, 80));
      expect(
        (
          await post(
            `${quick.base}${PASSPHRASE_PREFIX}/agent/session/live/join`,
            { passphrase: customer.json.passphrase },
            AGENT,
          )
        ).status,
      ).toBe(404);
    } finally {
      await quick.close();
    }
  });

  test('refusals: agent auth, bad bodies, guessing', async () => {
    expect((await post(`${base}/agent/session/request`, { autojoin: true })).status).toBe(401);
    expect(
      (await post(`${base}/agent/session/request`, { autojoin: true }, { authorization: 'Bearer nope' })).status,
    ).toBe(401);
    expect((await post(`${base}/agent/session/request`, { autojoin: 'yes' }, AGENT)).status).toBe(400);
    expect((await post(`${base}/customer/session/join`, {})).json.error).toBe('BAD_REQUEST');
    expect((await fetch(`${base}/customer/status`)).status).toBe(401);
    expect((await post(`${base}/nothing`, {})).status).toBe(404);
  });

  test('guessing is cut off after 10 wrong passphrases a minute from one address', async () => {
    const fresh = await relayFor({ secret: SECRET });
    try {
      const statuses: number[] = [];
      for (let i = 0; i < 12; i++)
        statuses.push(
          (await post(`${fresh.base}${PASSPHRASE_PREFIX}/customer/session/join`, { passphrase: 'WRONG1' })).status,
        );
      expect(statuses.slice(0, 10)).toEqual(Array(10).fill(404));
      expect(statuses.slice(10)).toEqual([429, 429]);
    } finally {
      await fresh.close();
    }
  });

  test('server status', async () => {
    const json = await (await fetch(`${base}/server/status`)).json();
    expect(json.status).toBe('successful');
  });
});
