import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BrowserContext, Page } from '@playwright/test';
import { CEC_PATH } from '@cobrowse/protocol';
import { startRedis } from '../test-support/redis.mjs';
import {
  agentDom,
  customerDom,
  expect,
  openAgent,
  openCustomer,
  pageUrl,
  roomId,
  statuses,
  test,
} from './support/cobrowse.js';
import { type RelayProcess, type StaticSite, startRelay } from './support/processes.js';

/**
 * Three relay processes (not --dev: a shared secret and a config file) and one real Redis. A
 * customer asks node A for connection info, an agent asks node C; their room is placed on node B.
 */
const OPERATOR = 'e2e-operator-token-0123456789';
let redis: Awaited<ReturnType<typeof startRedis>>;
let config: string;
const nodes: Record<'a' | 'b' | 'c', RelayProcess> = {} as never;

test.describe.configure({ mode: 'serial' });

async function startNode(id: string): Promise<RelayProcess> {
  return startRelay(['--config', config, '--redis', redis.url, '--node-id', id]);
}

/** Waits until each node sees `count` live nodes. */
async function clusterOf(count: number, relays: RelayProcess[]): Promise<void> {
  await expect
    .poll(
      async () =>
        Promise.all(
          relays.map(async (relay) => {
            const response = await fetch(`${relay.url}/cobrowse/status`, {
              headers: { authorization: `Bearer ${OPERATOR}` },
            });
            return (await response.json()).cluster?.nodes;
          }),
        ),
      { timeout: 5000, message: 'every node sees the cluster' },
    )
    .toEqual(relays.map(() => count));
}

/** A fresh room id whose owner (as node A says) is node B. */
async function roomOnB(): Promise<string> {
  for (let i = 0; i < 100; i++) {
    const room = roomId();
    const response = await fetch(nodes.a.url + CEC_PATH, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'ccmessaging-token': 'dev' },
      body: JSON.stringify({ roomId: room, userId: 'probe', userName: 'Probe', role: 'replayer' }),
    });
    const { data } = await response.json();
    if (Number(new URL(data.wssUrl).port) === nodes.b.port) return room;
  }
  throw new Error('no room landed on node B');
}

async function change(customer: Page, label: string): Promise<void> {
  await customer.evaluate((l) => {
    (window as any).addRow(l);
    document.getElementById('title')!.textContent = l;
  }, label);
}

/** Milliseconds until the agent's replay equals the customer's page (at most `timeout`). */
async function untilSameDom(customer: Page, agent: Page, since: number, timeout: number): Promise<number> {
  const want = await customerDom(customer);
  await expect
    .poll(() => agentDom(agent), { timeout, intervals: [100], message: "agent's DOM equals the customer's" })
    .toBe(want);
  return Date.now() - since;
}

test.beforeAll(async ({ site }) => {
  redis = await startRedis();
  config = join(tmpdir(), `cluster-e2e-${process.pid}-${Date.now()}.json`);
  writeFileSync(
    config,
    JSON.stringify({
      secret: 'cluster-e2e-secret-0123456789abcdef0123',
      cecTokens: ['dev'],
      corsOrigins: [site.url],
      operatorToken: OPERATOR,
      drainTimeoutMs: 5000,
      logLevel: 'warn',
    }),
  );
  [nodes.a, nodes.b, nodes.c] = await Promise.all([startNode('e2e-a'), startNode('e2e-b'), startNode('e2e-c')]);
  await clusterOf(3, [nodes.a, nodes.b, nodes.c]);
});

test.afterAll(async () => {
  await Promise.all(Object.values(nodes).map((relay) => relay.stop()));
  await redis?.stop();
});

/** A customer asking node A and an agent asking node C meet in a room owned by node B, and see the same page. */
async function meetOnB(context: BrowserContext, site: StaticSite, text: string) {
  const room = await roomOnB();
  const customer = await openCustomer(context, site, nodes.a, room);
  const agent = await openAgent(context, site, nodes.c, room);
  await change(customer, text);
  await untilSameDom(customer, agent, Date.now(), 10_000);
  return { customer, agent };
}

test("node B is killed (-9) mid-session: the agent sees the customer's page again within 10 s, on another node", async ({
  context,
  site,
}) => {
  const { customer, agent } = await meetOnB(context, site, 'before the crash');
  const snapshots = await agent.evaluate(() => (window as any).cobrowseSnapshots);

  const killedAt = Date.now();
  const exited = new Promise((resolve) => nodes.b.process.once('exit', resolve));
  nodes.b.process.kill('SIGKILL');
  await exited;
  await change(customer, 'after the crash');
  const took = await untilSameDom(customer, agent, killedAt, 10_000);
  console.log(`failover: the agent's DOM equals the customer's ${took} ms after node B was killed`);
  expect(took).toBeLessThan(10_000);
  // A fresh full snapshot rendered, on a live node; nobody did anything.
  expect(await agent.evaluate(() => (window as any).cobrowseSnapshots)).toBeGreaterThan(snapshots);
  expect(await statuses(agent)).toContain('reconnecting');
  expect(await agent.evaluate(() => (window as any).agent.status)).toBe('live');
  expect(await customer.evaluate(() => (window as any).cobrowse.status)).toBe('live');
  await customer.close();
  await agent.close();

  nodes.b = await startNode('e2e-b2');
  await clusterOf(3, [nodes.a, nodes.b, nodes.c]);
});

test('node B drains on SIGTERM: it exits 0 and the session moves with no gap longer than a reconnect', async ({
  context,
  site,
}) => {
  const { customer, agent } = await meetOnB(context, site, 'before the drain');

  const reconnects = async () => (await statuses(agent)).filter((s) => s === 'reconnecting').length;
  const before = await reconnects();
  // Connection-info calls each page made: a followed 4014 Moved needs none.
  const infoCalls = (page: Page) =>
    page.evaluate(
      () => performance.getEntriesByType('resource').filter((e) => e.name.includes('getConnectionInfo')).length,
    );
  const calls = [await infoCalls(customer), await infoCalls(agent)];
  const stoppedAt = Date.now();
  const exited = new Promise<number | null>((resolve) => nodes.b.process.once('exit', (code) => resolve(code)));
  nodes.b.process.kill('SIGTERM');
  await change(customer, 'during the drain');
  const took = await untilSameDom(customer, agent, stoppedAt, 5000);
  console.log(`drain: the agent's DOM equals the customer's ${took} ms after SIGTERM`);
  expect(await exited).toBe(0);
  expect(Date.now() - stoppedAt).toBeLessThan(5000);
  // The agent's socket moved (one reconnect, to the room's new node) and the session goes on there.
  expect(await reconnects()).toBe(before + 1);
  expect([await infoCalls(customer), await infoCalls(agent)]).toEqual(calls);
  await change(customer, 'after the drain');
  const after = await untilSameDom(customer, agent, Date.now(), 5000);
  console.log(`drain: a change after the move reached the agent in ${after} ms`);
  expect(await agent.evaluate(() => (window as any).agent.status)).toBe('live');
  await customer.close();
  await agent.close();
});

test("a view prepared for a room on node B follows it when B drains: it parks again on the room's new node, and its join takes that socket", async ({
  context,
  site,
}) => {
  // Node B left in the test before (run alone, this one finds it up).
  if (nodes.b.process.exitCode !== null || nodes.b.process.signalCode !== null) nodes.b = await startNode('e2e-b3');
  await clusterOf(3, [nodes.a, nodes.b, nodes.c]);
  const room = await roomOnB();
  const customer = await openCustomer(context, site, nodes.a, room);
  await change(customer, 'before the drain');
  // The agent's console asks node C; its socket is parked on node B, the room's node.
  const agent = await context.newPage();
  await agent.goto(pageUrl(site, nodes.c, 'agent.html', room, '&auto=0'));
  const parkedOn = () =>
    agent.evaluate(() =>
      performance
        .getEntriesByType('resource')
        .filter((e) => e.name.includes('getConnectionInfo') && (e as PerformanceResourceTiming).responseEnd > 0)
        .map((e) => e.name),
    );
  const sockets: string[] = [];
  agent.on('websocket', (socket) => sockets.push(new URL(socket.url()).port));
  await agent.evaluate(
    async ([server, roomId]) => {
      const w = window as any;
      await w.cobrowseReady;
      w.prepared = w.CobrowseReplayer.prepare({
        container: '#screen',
        server,
        roomId,
        headers: { 'ccmessaging-token': 'dev' },
        userId: 'agent-p',
        userName: 'Agent',
      });
      return w.prepared.warming;
    },
    [nodes.c.url, room],
  );
  expect(sockets).toEqual([String(nodes.b.port)]);

  // Node B drains: the parked socket is moved (4014); the view asks node C again and parks on the
  // room's new node.
  const exited = new Promise<number | null>((resolve) => nodes.b.process.once('exit', (code) => resolve(code)));
  nodes.b.process.kill('SIGTERM');
  expect(await exited).toBe(0);
  await expect.poll(() => sockets.length, { timeout: 5000 }).toBe(2);
  expect([String(nodes.a.port), String(nodes.c.port)]).toContain(sockets[1]);
  expect(await parkedOn()).toHaveLength(2);

  // The join takes it: no connection-info call, no other socket, and the customer's page shows.
  await agent.evaluate(async () => {
    const w = window as any;
    w.agent = await w.prepared.join();
    w.cobrowseSnapshots = 0;
    w.agent.on('snapshot', () => w.cobrowseSnapshots++);
  });
  await change(customer, 'after the drain');
  await untilSameDom(customer, agent, Date.now(), 10_000);
  expect(await parkedOn()).toHaveLength(2);
  expect(sockets).toHaveLength(2);
  await customer.close();
  await agent.close();
});
