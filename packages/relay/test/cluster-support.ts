import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join as joinPath } from 'node:path';
import WebSocket from 'ws';
import { CEC_PATH, encodeText } from '@cobrowse/protocol';
import { expect } from '@playwright/test';
import { freePort } from '../../../test-support/redis.mjs';
import { startRelay } from '../../../test-support/processes.mjs';
import type { RelayOptions } from '../src/index.js';
import { Client } from './sockets.js';
import { TEST_SECRET, post, relayFor } from './helpers.js';

export const OPERATOR = 'operator-token-0123456789abcdef';
export const CEC = 'cec-token-0123456789';
export const ORIGIN = 'https://shop.example';

/** What every node of a test cluster shares: the secret, the credentials, a short registration TTL. */
export const CLUSTER_OPTIONS: RelayOptions = {
  secret: TEST_SECRET,
  operatorToken: OPERATOR,
  cecTokens: [CEC],
  apiaccessApps: [{ appKey: 'app-1', token: 'app-token-0123456789' }],
  sessionAgentTokens: ['session-agent-0123456789'],
  agentGuids: ['guid-0123456789'],
  passphraseAgentTokens: ['pp-agent-0123456789'],
  corsOrigins: [ORIGIN],
  sessionsPerMinute: 1000,
  lookupsPerMinute: 1000,
  nodeTtlMs: 900,
  drainTimeoutMs: 3000,
};

export type Node = Awaited<ReturnType<typeof relayFor>> & { id: string; port: number; ws: string };

/**
 * An in-process cluster node on a port picked beforehand, so its URLs can be told apart: agents
 * reach it as ws://127.0.0.1:PORT (internal), customers as ws://localhost:PORT (public).
 */
export async function startNode(redis: string, id: string, extra: RelayOptions = {}): Promise<Node> {
  const port = await freePort();
  const relay = await relayFor({
    ...CLUSTER_OPTIONS,
    redis,
    nodeId: id,
    port,
    internalUrl: `ws://127.0.0.1:${port}`,
    publicUrl: `ws://localhost:${port}`,
    serverUrl: `https://${id}.example/cobrowse`,
    ...extra,
  });
  return Object.assign(relay, { id, port, ws: `ws://127.0.0.1:${port}` });
}

/** Waits until every node sees `count` live nodes. */
export async function waitForNodes(nodes: { status(): { cluster?: { nodes: number } } }[], count: number) {
  await expect
    .poll(() => nodes.map((node) => node.status().cluster?.nodes), { timeout: 5000, message: 'cluster view' })
    .toEqual(nodes.map(() => count));
}

/** Seed 000 connection info from a node. */
export async function cecInfo(base: string, roomId: string, role = 'recorder') {
  const { status, json } = await post(
    base + CEC_PATH,
    { roomId, userId: `${role}-1`, userName: role, role },
    { 'ccmessaging-token': CEC },
  );
  return { status, json, data: json.data as { wssUrl: string; wssUrlOut: string; signature: string } };
}

/** The port a URL names. */
export const portOf = (url: string) => Number(new URL(url).port);

/** A room id (seed 000) whose owner is the node listening on `port`, asking `base`. */
export async function roomOwnedBy(base: string, port: number, prefix: string): Promise<string> {
  for (let i = 0; i < 200; i++) {
    const room = `${prefix}-${i}`;
    const { data } = await cecInfo(base, room);
    if (portOf(data.wssUrl) === port) return room;
  }
  throw new Error(`no room of 200 landed on port ${port}`);
}

/** Opens a socket; resolves with the open socket, or the refusal's HTTP status. */
export function connect(url: string): Promise<WebSocket | { refused: number }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url);
    ws.once('open', () => resolve(ws));
    ws.once('unexpected-response', (_req, res) => {
      res.resume();
      resolve({ refused: res.statusCode! });
    });
    ws.once('error', reject);
  });
}

/** The close a socket gets (code and reason). */
export function closeOf(ws: WebSocket): Promise<{ code: number; reason: string }> {
  return new Promise((resolve) => ws.once('close', (code, reason) => resolve({ code, reason: reason.toString() })));
}

/** Joins with connection info (URL + signature + role): resolves once welcomed. */
export async function join(base: string, signature: string, role: 'recorder' | 'replayer'): Promise<Client> {
  const url = `${base}?role=${role}&signature=${encodeURIComponent(signature)}`;
  const ws = await connect(url);
  if (!(ws instanceof WebSocket)) throw new Error(`refused ${ws.refused} at ${base}`);
  const client = new Client(ws, 5000);
  ws.send(encodeText({ type: 'hello', v: 1, ...(role === 'recorder' ? { epoch: 'ep1' } : {}) } as never));
  client.welcome = JSON.parse(await client.next((frame) => frame.startsWith('{"type":"welcome"')));
  return client;
}

/** A relay process (the CLI) in the cluster, with a config file: it can be killed outright. */
export async function startNodeProcess(redis: string, id: string, extra: RelayOptions = {}) {
  const port = await freePort();
  const config = joinPath(tmpdir(), `cluster-${process.pid}-${id}-${Date.now()}.json`);
  writeFileSync(
    config,
    JSON.stringify({
      ...CLUSTER_OPTIONS,
      internalUrl: `ws://127.0.0.1:${port}`,
      publicUrl: `ws://localhost:${port}`,
      serverUrl: `https://${id}.example/cobrowse`,
      logLevel: 'warn',
      ...extra,
    }),
  );
  const relay = await startRelay(['--config', config, '--redis', redis, '--node-id', id, '--port', String(port)]);
  return Object.assign(relay, { id, port, base: relay.url as string, ws: `ws://127.0.0.1:${port}` });
}
