import { expect, test } from '@playwright/test';
import { APIACCESS_PATH, PASSPHRASE_PREFIX, SESSION_PREFIX, agentgatewayPath } from '@cobrowse/protocol';
import { startRedis } from '../../../test-support/redis.mjs';
import { post } from './helpers.js';
import { type Node, ORIGIN, cecInfo, join, portOf, startNode, waitForNodes } from './cluster-support.js';

test.describe.configure({ mode: 'serial' });

let redis: Awaited<ReturnType<typeof startRedis>>;
let nodes: Node[];
const byPort = (port: number) => nodes.find((node) => node.port === port)!;

test.beforeAll(async () => {
  redis = await startRedis();
  nodes = [];
  for (const id of ['door-a', 'door-b', 'door-c']) nodes.push(await startNode(redis.url, id));
  await waitForNodes(nodes, 3);
});
test.afterAll(async () => {
  await Promise.all(nodes.map((node) => node.close()));
  await redis.stop();
});

/** The node an answer's URLs name, checking the internal and public URL name the same one. */
function ownerOf(wssUrl: string, wssUrlOut: string): Node {
  expect(new URL(wssUrl).host).toBe(`127.0.0.1:${portOf(wssUrl)}`);
  expect(new URL(wssUrlOut).host).toBe(`localhost:${portOf(wssUrl)}`);
  return byPort(portOf(wssUrl));
}

test('seed 000 and 001: node A and node C name the same owner, for customers and agents', async () => {
  const [a, , c] = nodes as [Node, Node, Node];
  const seen = new Set<string>();
  for (let i = 0; i < 6; i++) {
    const room = `dialects-${i}`;
    const fromA = (await cecInfo(a.base, room)).data;
    const fromC = (await cecInfo(c.base, room, 'replayer')).data;
    const owner = ownerOf(fromA.wssUrl, fromA.wssUrlOut);
    expect(ownerOf(fromC.wssUrl, fromC.wssUrlOut)).toBe(owner);
    seen.add(owner.id);

    const headers = { 'x-app-key': 'app-1', authorization: 'Bearer app-token-0123456789', 'x-tenantspaceid': 't1' };
    const apiA = await post(a.base + APIACCESS_PATH, { roomId: room, role: 'recorder' }, headers);
    const apiC = await post(c.base + APIACCESS_PATH, { roomId: room, role: 'replayer' }, headers);
    expect(apiA.status).toBe(200);
    const apiOwner = ownerOf(apiA.json.data.wssUrl, apiA.json.data.wssUrlOut);
    expect(ownerOf(apiC.json.data.wssUrl, apiC.json.data.wssUrlOut)).toBe(apiOwner);
  }
  expect(seen.size).toBeGreaterThan(1);
});

test('seed 002: the sticky cookie, sessionServerName and sessionServerUrl name the node that owns the session', async () => {
  const a = nodes[0]!;
  const owners = new Set<string>();
  for (let i = 0; i < 8; i++) {
    const response = await fetch(`${a.base}${SESSION_PREFIX}/sessions`, {
      method: 'POST',
      headers: { origin: ORIGIN },
    });
    expect(response.status).toBe(200);
    const created = await response.json();
    const owner = ownerOf(created.wssUrl, created.wssUrlOut);
    owners.add(owner.id);
    expect(created.sessionServerName).toBe(owner.id);
    expect(response.headers.get('set-cookie')).toBe(`gcbSessionServer=${owner.id}; Path=/; HttpOnly; SameSite=Lax`);
    const lookup = await fetch(`${a.base}${SESSION_PREFIX}/sessions/${created.sessionToken}`, {
      headers: { origin: ORIGIN },
    });
    expect(await lookup.json()).toEqual({
      sessionToken: created.sessionToken,
      sessionServerName: owner.id,
      sessionServerUrl: `https://${owner.id}.example/cobrowse`,
    });
    // The agent's connection names the same node.
    const agent = await (
      await fetch(`${a.base}${SESSION_PREFIX}/sessions/${created.sessionToken}`, {
        headers: { origin: ORIGIN, authorization: 'Bearer session-agent-0123456789' },
      })
    ).json();
    expect(ownerOf(agent.wssUrl, agent.wssUrlOut)).toBe(owner);
  }
  expect(owners.size).toBeGreaterThan(1);
});

test('seed 003: ip, port and signaling domains name the owner of the call, whichever node was asked', async () => {
  const [a, , c] = nodes as [Node, Node, Node];
  const room = 'call-77';
  const customer = (await cecInfo(a.base, room)).data;
  const owner = ownerOf(customer.wssUrl, customer.wssUrlOut);
  const recorder = await join(customer.wssUrl, customer.signature, 'recorder');
  try {
    const headers = { guid: 'guid-0123456789' };
    for (const node of [a, c]) {
      const { status, json } = await post(
        node.base + agentgatewayPath('101'),
        { userType: 'agent', callid: room },
        headers,
      );
      expect(status).toBe(200);
      expect(json.result).toMatchObject({
        ip: '127.0.0.1',
        port: String(owner.port),
        signalingDomainIn: `http://127.0.0.1:${owner.port}`,
        signalingDomainOut: `http://localhost:${owner.port}`,
        channelId: room,
      });
    }
    // A call going on nowhere is still unknown, on every node.
    const none = await post(c.base + agentgatewayPath('101'), { userType: 'agent', callid: 'no-call' }, headers);
    expect(none.json.retcode).toBe('106-011');
  } finally {
    recorder.ws.close();
  }
});

test('seed 004: both sides of a passphrase session get the owning node', async () => {
  const a = nodes[0]!;
  const owners = new Set<string>();
  for (let i = 0; i < 6; i++) {
    const customer = await post(`${a.base}${PASSPHRASE_PREFIX}/customer/session/request`, {});
    expect(customer.status).toBe(200);
    const owner = ownerOf(customer.json.wssUrl, customer.json.wssUrlOut);
    expect(new URL(customer.json.wssUrlOut).pathname).toMatch(/^\/services\/CoBrowse\/sockjs\/cobrowse\/customer\//);
    owners.add(owner.id);
    const agent = await post(
      `${a.base}${PASSPHRASE_PREFIX}/agent/session/live/join`,
      { passphrase: customer.json.passphrase },
      { authorization: 'Bearer pp-agent-0123456789' },
    );
    expect(ownerOf(agent.json.wssUrl, agent.json.wssUrlOut)).toBe(owner);
  }
  expect(owners.size).toBeGreaterThan(1);
});
