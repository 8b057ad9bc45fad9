import { expect, test } from '@playwright/test';
import { CEC_PATH, CloseCode, PASSPHRASE_PREFIX, agentgatewayPath, encodeText } from '@cobrowse/protocol';
import { post, relayFor } from './helpers.js';
import { Peer, batch, enter } from './attack-support.js';

const SESSIONS = '/cobrowse/rest/live';
const SHOP = 'https://shop.example';

test.describe('who may open what', () => {
  let relay: Awaited<ReturnType<typeof relayFor>>;
  test.beforeAll(async () => {
    relay = await relayFor({
      cecTokens: ['cookie-a', 'cookie-b'],
      sessionAgentTokens: ['agent-002'],
      passphraseAgentTokens: ['agent-004'],
      agentGuids: ['guid-003'],
      corsOrigins: [SHOP],
      roomGraceMs: 10_000,
    });
  });
  test.afterAll(() => relay.close());

  const cec = (roomId: string, role: string, cookie = 'cookie-a', userId = 'u1') =>
    post(relay.base + CEC_PATH, { roomId, userId, userName: 'N', role }, { cookie: `ccmessaging-token=${cookie}` });

  test('a seed-000 cookie cannot watch a seed-002 session: its observer token opens another room', async () => {
    const created = (await post(`${relay.base}${SESSIONS}/sessions`, '')).json;
    const customer = (await enter(created.wssUrlOut, created.signature, 'recorder')) as Peer;
    customer.ws.send(batch(1, true));
    // Seed 003 (the agent side of seed 000) does not find the session .
    const reconnect = await post(
      relay.base + agentgatewayPath(667),
      { callid: created.sessionToken, userType: 'agent' },
      { Guid: 'guid-003' },
    );
    expect(reconnect.status).toBe(404);
    // The intruder asks seed 000 for an observer token for the session number…
    const { status, json } = await cec(created.sessionToken, 'observer');
    expect(status).toBe(200);
    const intruder = (await enter(json.data.wssUrl, json.data.signature, 'replayer')) as Peer;
    // …and lands in an empty room of its own dialect: no customer, no page.
    expect(intruder.welcome().recorder).toBe(false);
    await new Promise((r) => setTimeout(r, 200));
    expect(intruder.events()).toEqual([]);
    // The session's own agent does see it.
    const info = await (
      await fetch(`${relay.base}${SESSIONS}/sessions/${created.sessionToken}`, {
        headers: { origin: SHOP, authorization: 'Bearer agent-002' },
      })
    ).json();
    const agent = (await enter(info.wssUrl, info.signature, 'replayer')) as Peer;
    await agent.until(() => agent.events().length === 1);
    for (const p of [customer, intruder, agent]) p.ws.close();
  });

  test('seed 003 reaches seed-000 calls as a replayer only', async () => {
    const rec = await cec('call-7', 'recorder');
    const customer = (await enter(rec.json.data.wssUrl, rec.json.data.signature, 'recorder')) as Peer;
    customer.ws.send(batch(1, true));
    const reconnect = await post(
      relay.base + agentgatewayPath(667),
      { callid: 'call-7', userType: 'agent' },
      { Guid: 'guid-003' },
    );
    expect(reconnect.status).toBe(200);
    const wssUrl = `${reconnect.json.result.signalingDomainIn.replace(/^http/, 'ws')}/ws/cobrowse/call-7`;
    expect(await enter(wssUrl, reconnect.json.result.signature, 'recorder')).toBe(403);
    const agent = (await enter(wssUrl, reconnect.json.result.signature, 'replayer')) as Peer;
    await agent.until(() => agent.events().length === 1);
    customer.ws.close();
    agent.ws.close();
  });

  test("a second caller's recorder token does not take a live room from its customer", async () => {
    const first = await cec('call-8', 'recorder', 'cookie-a', 'customer-1');
    const customer = (await enter(first.json.data.wssUrl, first.json.data.signature, 'recorder')) as Peer;
    // Another credential, or another user id: refused at the door of the socket (409), before any hello.
    const other = await cec('call-8', 'recorder', 'cookie-b', 'customer-1');
    expect(await enter(other.json.data.wssUrl, other.json.data.signature, 'recorder')).toBe(409);
    const otherUser = await cec('call-8', 'recorder', 'cookie-a', 'mallory');
    expect(await enter(otherUser.json.data.wssUrl, otherUser.json.data.signature, 'recorder')).toBe(409);
    // Even while the customer is away for a moment, the room stays theirs.
    customer.ws.close();
    await expect.poll(() => relay.rooms.get('cec/call-8')?.recorder).toBeUndefined();
    expect(await enter(other.json.data.wssUrl, other.json.data.signature, 'recorder')).toBe(409);
    // The same customer (same credential and user id) coming back resumes.
    const again = await cec('call-8', 'recorder', 'cookie-a', 'customer-1');
    const back = (await enter(again.json.data.wssUrl, again.json.data.signature, 'recorder')) as Peer;
    expect(back.welcome().role).toBe('recorder');
    back.ws.close();
  });

  test('seed 002 stop revokes every token of the session; a replayed recorder signature does not recreate the room', async () => {
    const created = (await post(`${relay.base}${SESSIONS}/sessions`, '')).json;
    const info = await (
      await fetch(`${relay.base}${SESSIONS}/sessions/${created.sessionToken}`, {
        headers: { origin: SHOP, authorization: 'Bearer agent-002' },
      })
    ).json();
    const customer = (await enter(created.wssUrlOut, created.signature, 'recorder')) as Peer;
    const agent = (await enter(info.wssUrl, info.signature, 'replayer')) as Peer;
    const stop = await fetch(`${relay.base}${SESSIONS}/users/${created.userToken}/session/stop`);
    expect(stop.status).toBe(200);
    expect((await customer.closed).code).toBe(CloseCode.SessionEnded);
    expect((await agent.closed).code).toBe(CloseCode.SessionEnded);
    const rooms = relay.status().rooms;
    expect(await enter(created.wssUrlOut, created.signature, 'recorder')).toBe(410);
    expect(await enter(info.wssUrl, info.signature, 'replayer')).toBe(410);
    expect(relay.status().rooms).toBe(rooms);
    expect(relay.rooms.live('session', created.sessionToken)).toBe(false);
  });

  test('a session stopped before its customer connected revokes the token it was created with', async () => {
    const created = (await post(`${relay.base}${SESSIONS}/sessions`, '')).json;
    await fetch(`${relay.base}${SESSIONS}/users/${created.userToken}/session/stop`);
    expect(await enter(created.wssUrlOut, created.signature, 'recorder')).toBe(410);
  });

  test('seed 004 logout and a recorder bye revoke too', async () => {
    const request = await post(`${relay.base}${PASSPHRASE_PREFIX}/customer/session/request`, {});
    const customer = (await enter(request.json.wssUrlOut, request.json.signature, 'recorder')) as Peer;
    const logout = await fetch(`${relay.base}${PASSPHRASE_PREFIX}/customer/session/logout`, {
      method: 'POST',
      headers: { authorization: `Bearer ${request.json.token}` },
    });
    expect(logout.status).toBe(200);
    await customer.closed;
    expect(await enter(request.json.wssUrlOut, request.json.signature, 'recorder')).toBe(410);

    const rec = await cec('call-9', 'recorder');
    const sharer = (await enter(rec.json.data.wssUrl, rec.json.data.signature, 'recorder')) as Peer;
    sharer.ws.send(encodeText({ type: 'bye', reason: 'stop' }));
    await sharer.closed;
    expect(await enter(rec.json.data.wssUrl, rec.json.data.signature, 'recorder')).toBe(410);
    // A new share in the same room id, with a token issued after the stop, works.
    const fresh = await cec('call-9', 'recorder');
    const next = (await enter(fresh.json.data.wssUrl, fresh.json.data.signature, 'recorder')) as Peer;
    expect(next.welcome().role).toBe('recorder');
    next.ws.close();
  });
});
