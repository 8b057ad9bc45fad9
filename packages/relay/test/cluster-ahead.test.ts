import { expect, test } from '@playwright/test';
import { CloseCode, PROTOCOL_VERSION, encodeText } from '@cobrowse/protocol';
import WebSocket from 'ws';
import { startRedis } from '../../../test-support/redis.mjs';
import {
  type Node,
  cecInfo,
  closeOf,
  connect,
  join,
  portOf,
  roomOwnedBy,
  startNode,
  waitForNodes,
} from './cluster-support.js';

// A socket opened ahead in a cluster: it is open to the node whose OPTIONS answer named it, which
// may not be its room's. Its signed hello there is sent back to ask again (1013: its URL names no
// room to be moved with); a draining node tells the waiting ones to go and takes no more.

const AHEAD = '/ws/cobrowse/?role=replayer&ahead=1';
const hello = (signature: string) => encodeText({ type: 'hello', v: PROTOCOL_VERSION, signature });

test('a socket opened ahead on a node that does not hold the room is told to ask again; a draining node lets the waiting ones go and takes no more', async () => {
  const redis = await startRedis();
  const nodes = [await startNode(redis.url, 'ah-a'), await startNode(redis.url, 'ah-b')];
  const [a, b] = nodes as [Node, Node];
  try {
    await waitForNodes(nodes, 2);
    const room = await roomOwnedBy(a.base, b.port, 'ahead');
    const agentInfo = (await cecInfo(a.base, room, 'replayer')).data;
    expect(portOf(agentInfo.wssUrl)).toBe(b.port);

    // Opened ahead on A, signed for B's room: A does not take it, and names no URL to go to.
    const onA = await connect(a.ws + AHEAD);
    if (!(onA instanceof WebSocket)) throw new Error(`refused ${onA.refused}`);
    const closedOnA = closeOf(onA);
    onA.send(hello(agentInfo.signature));
    expect(await closedOnA).toEqual({
      code: CloseCode.TryAgainLater,
      reason: 'the room lives on another node: ask again',
    });

    // On B: one joins the room with its signed hello, one waits.
    const customerInfo = (await cecInfo(a.base, room)).data;
    const recorder = await join(customerInfo.wssUrl, customerInfo.signature, 'recorder');
    const joined = await connect(b.ws + AHEAD);
    const waiting = await connect(b.ws + AHEAD);
    if (!(joined instanceof WebSocket) || !(waiting instanceof WebSocket)) throw new Error('refused');
    const welcomed = new Promise((resolve) => joined.once('message', (data) => resolve(String(data))));
    joined.send(hello(agentInfo.signature));
    expect(await welcomed).toMatch(/^\{"type":"welcome"/);
    const closes = [closeOf(joined), closeOf(waiting)];
    // The customer reads nothing more: its socket stays until the drain's time is up.
    recorder.ws.pause();
    const leaving = b.close();
    const [moved, told] = await Promise.all(closes);
    // The one in the room moves with it (4014 to A); the waiting one is let go.
    expect(moved).toEqual({ code: CloseCode.Moved, reason: a.ws });
    expect(told).toEqual({ code: CloseCode.GoingAway, reason: 'this relay is leaving' });
    // While it drains, no more are taken.
    expect(await connect(b.ws + AHEAD)).toEqual({ refused: 503 });
    await leaving;
  } finally {
    await a.close();
    await redis.stop();
  }
});
