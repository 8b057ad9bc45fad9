import { Redis } from 'ioredis';
import { relayFor } from './helpers.js';
import type { RelayOptions } from '../src/index.js';
import { startRedis } from '../../../test-support/redis.mjs';

export type Node = Awaited<ReturnType<typeof relayFor>>;

/** Polls `probe` until `ok` holds (or throws after `timeout` ms). */
export async function until<T>(probe: () => Promise<T>, ok: (value: T) => boolean, timeout = 10_000): Promise<T> {
  const deadline = Date.now() + timeout;
  for (;;) {
    const value = await probe().catch(() => undefined as T);
    if (value !== undefined && ok(value)) return value;
    if (Date.now() > deadline) throw new Error(`timed out; last ${JSON.stringify(value)}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Waits until a node says it is ready (its Redis link up and subscribed to room endings). */
export const ready = (node: Node) =>
  until(
    () => fetch(`${node.base}/readyz`).then((r) => r.status),
    (s) => s === 200,
  );

/**
 * A real redis-server and two relay nodes (library mode) sharing it, plus a plain client to look
 * at what Redis holds. `close()` stops all of it.
 */
export async function twoNodes(options: RelayOptions = {}) {
  const redis = await startRedis();
  const a = await relayFor({ redis: redis.url, nodeId: 'node-a', ...options });
  const b = await relayFor({ redis: redis.url, nodeId: 'node-b', ...options });
  await Promise.all([ready(a), ready(b)]);
  const inspect = new Redis(redis.url);
  inspect.on('error', () => undefined); // the outage tests kill Redis under it
  return {
    redis,
    a,
    b,
    inspect,
    async close() {
      await Promise.all([a.close(), b.close()]);
      inspect.disconnect();
      await redis.stop();
    },
  };
}

/** Every key the relay wrote is namespaced and has a TTL (nothing grows without bound). */
export async function keysAllExpire(inspect: Redis): Promise<{ keys: string[]; withoutTtl: string[] }> {
  const keys = await inspect.keys('*');
  const withoutTtl: string[] = [];
  for (const key of keys) if (!key.startsWith('cobrowse:') || (await inspect.pttl(key)) < 0) withoutTtl.push(key);
  return { keys, withoutTtl };
}

/**
 * The room's node among `nodes`: the one a socket URL of its connection info names (the cluster
 * places each room on one owner), and the other one, for what must work from a node without it.
 */
export function placed<T extends Node>(nodes: [T, T], wssUrl: string): { owner: T; other: T } {
  const port = new URL(wssUrl).port;
  const index = nodes.findIndex((node) => new URL(node.base).port === port);
  if (index < 0) throw new Error(`${wssUrl} names none of the nodes`);
  return { owner: nodes[index]!, other: nodes[1 - index]! };
}

/** A socket URL of `info` moved onto `node` (a node that is not the room's refuses or moves the socket). */
export const on = (node: Node, wssUrl: string) => wssUrl.replace(/^ws:\/\/[^/]+/, node.base.replace(/^http/, 'ws'));
