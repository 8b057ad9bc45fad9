import { expect, test } from '@playwright/test';
import WebSocket from 'ws';
import { AgentgatewayRetcode, CEC_PATH, agentgatewayPath, encodeText, verifyToken } from '@cobrowse/protocol';
import { post, relayFor } from './helpers.js';

const SECRET = 'ag-secret-0123456789abcdef0123456789abcdef';
const GUID = 'xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx.AgentGateway1';

test.describe('seed 003 agent reconnect', () => {
  let relay: Awaited<ReturnType<typeof relayFor>>;
  let customer: WebSocket;
  test.beforeAll(async () => {
    relay = await relayFor({ secret: SECRET, agentGuids: [GUID], cecTokens: ['t'] });
    // A call is going on: a customer shares in room 1552524689-16797284.
    const info = (
      await post(
        relay.base + CEC_PATH,
        { roomId: '1552524689-16797284', userId: 'c', userName: 'C', role: 'recorder' },
        { 'ccmessaging-token': 't' },
      )
    ).json.data;
    customer = new WebSocket(`${info.wssUrl}?signature=${encodeURIComponent(info.signature)}`);
    await new Promise((resolve) => customer.once('open', resolve));
    customer.send(encodeText({ type: 'hello', v: 1, epoch: 'e1' }));
    await expect.poll(() => relay.status().rooms).toBe(1);
  });
  test.afterAll(async () => {
    customer.close();
    await relay.close();
  });

  test('the seed example: header Guid, body {callid, userType}; every result field a string', async () => {
    const { status, json } = await post(
      relay.base + agentgatewayPath(667),
      { callid: '1552524689-16797284', userType: 'agent' },
      { Guid: GUID },
    );
    expect(status).toBe(200);
    expect(json.retcode).toBe('0');
    expect(json.message).toBe('success');
    const fields = [
      'userId',
      'ctime',
      'channelId',
      'role',
      'ip',
      'port',
      'signalingDomainIn',
      'signalingDomainOut',
      'locationId',
      'signature',
      'appId',
    ];
    expect(Object.keys(json.result).sort()).toEqual([...fields].sort());
    for (const field of fields) expect(typeof json.result[field], field).toBe('string');
    expect(json.result.userId).toBe('667');
    expect(json.result.channelId).toBe('1552524689-16797284');
    expect(json.result.signalingDomainIn).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(Number(json.result.ctime)).toBeGreaterThan(Date.now());
    expect(
      (await verifyToken(SECRET, json.result.signature, { room: '1552524689-16797284', role: 'replayer' })).ok,
    ).toBe(true);
  });

  const errors: [string, string | number, unknown, Record<string, string>, string][] = [
    [
      'agent id below 101',
      100,
      { callid: '1552524689-16797284', userType: 'agent' },
      { Guid: GUID },
      AgentgatewayRetcode.BadParameter,
    ],
    [
      'agent id above 59999',
      60000,
      { callid: '1552524689-16797284', userType: 'agent' },
      { Guid: GUID },
      AgentgatewayRetcode.BadParameter,
    ],
    [
      'a non-numeric agent id',
      'abc',
      { callid: '1552524689-16797284', userType: 'agent' },
      { Guid: GUID },
      AgentgatewayRetcode.BadParameter,
    ],
    [
      'a missing Guid',
      667,
      { callid: '1552524689-16797284', userType: 'agent' },
      {},
      AgentgatewayRetcode.NotAuthenticated,
    ],
    [
      'a wrong Guid',
      667,
      { callid: '1552524689-16797284', userType: 'agent' },
      { Guid: 'nope' },
      AgentgatewayRetcode.NotAuthenticated,
    ],
    [
      'an unknown call',
      667,
      { callid: 'no-such-call', userType: 'agent' },
      { Guid: GUID },
      AgentgatewayRetcode.UnknownCall,
    ],
    ['a missing callid', 667, { userType: 'agent' }, { Guid: GUID }, AgentgatewayRetcode.BadParameter],
    ['a missing userType', 667, { callid: '1552524689-16797284' }, { Guid: GUID }, AgentgatewayRetcode.BadParameter],
  ];
  for (const [name, agent, body, headers, retcode] of errors) {
    test(`${name} → retcode ${retcode}`, async () => {
      const { status, json } = await post(relay.base + agentgatewayPath(agent), body, headers);
      expect(status).toBeGreaterThanOrEqual(400);
      expect(json.retcode).toBe(retcode);
      expect(json.message).toMatch(/\w/);
      expect(json.result).toBeUndefined();
    });
  }

  test('only POST', async () => {
    const response = await fetch(relay.base + agentgatewayPath(667), { headers: { Guid: GUID } });
    expect(response.status).toBe(405);
    expect((await response.json()).message).toMatch(/only the POST method/);
  });
});
