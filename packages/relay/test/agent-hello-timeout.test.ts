import { expect, test } from '@playwright/test';
import WebSocket from 'ws';
import { CloseCode, PROTOCOL_VERSION, encodeText, signToken, type Role } from '@cobrowse/protocol';
import { createRelay } from '../src/index.js';
import { TEST_SECRET, relayFor } from './helpers.js';
import { Client, batch, joinRoom, openSocket } from './sockets.js';

// An agent's socket may wait for its hello (agentHelloTimeoutMs, 60 s by default): a view prepared for
// a known room opens its socket ahead and says hello when the agent joins. Until then it is not in
// the room (no presence, nothing sent), and it holds its place against the room's and the address's
// limits. A customer's socket still gets 10 s.

async function silentSocket(base: string, room: string, role: Role, user = `${role}-9`): Promise<Client> {
  const signature = await signToken(TEST_SECRET, { room, role, user, name: role });
  const ws = await openSocket(base, `/ws/cobrowse/${room}?role=${role}&signature=${encodeURIComponent(signature)}`);
  if (!(ws instanceof WebSocket)) throw new Error(`refused ${ws.refused}`);
  return new Client(ws);
}

/** A presence frame telling the customer of agents in the room. */
const presence = (frame: string) => frame.startsWith('{"type":"presence"') && JSON.parse(frame).replayers > 0;

test('a parked agent socket is not in the room until its hello, holds its place, and is let go at agentHelloTimeoutMs', async () => {
  const relay = await relayFor({ agentHelloTimeoutMs: 1500, maxReplayersPerRoom: 1 });
  try {
    const recorder = await joinRoom(relay.base, 'parked', 'recorder');
    recorder.ws.send(batch(1, true));
    await expect.poll(() => recorder.count((f) => f.startsWith('{"type":"ack"'))).toBeGreaterThan(0);

    const parked = await silentSocket(relay.base, 'parked', 'replayer');
    // Not in the room: the customer is told of no agent, and the parked socket is sent nothing.
    await new Promise((resolve) => setTimeout(resolve, 800));
    expect(recorder.count(presence)).toBe(0);
    expect(parked.frames).toEqual([]);
    // It holds the room's one agent place: a second agent is refused at the upgrade.
    const signature = await signToken(TEST_SECRET, { room: 'parked', role: 'replayer', user: 'other', name: 'o' });
    expect(
      await openSocket(relay.base, `/ws/cobrowse/parked?role=replayer&signature=${encodeURIComponent(signature)}`),
    ).toEqual({ refused: 429 });

    // Its hello, 0.8 s after it opened: welcomed and caught up, and now the customer sees one agent.
    parked.ws.send(encodeText({ type: 'hello', v: PROTOCOL_VERSION }));
    await parked.next((f) => f.startsWith('{"type":"welcome"'));
    await parked.next((f) => f.startsWith('{"type":"events","epoch":"ep1","seq":1'));
    expect(JSON.parse(await recorder.next(presence))).toMatchObject({ replayers: 1 });
    // Said hello: past the timeout it stays.
    await new Promise((resolve) => setTimeout(resolve, 1000));
    expect(parked.ws.readyState).toBe(WebSocket.OPEN);
    parked.ws.close();
    await parked.closed;

    // One that never says hello is closed at the timeout, with the place given back.
    const opened = Date.now();
    const silent = await silentSocket(relay.base, 'parked', 'replayer');
    expect(await silent.closed).toEqual({ code: CloseCode.BadMessage, reason: 'no hello received' });
    expect(Date.now() - opened).toBeGreaterThanOrEqual(1400);
    const next = await joinRoom(relay.base, 'parked', 'replayer');
    expect(next.welcome).toMatchObject({ role: 'replayer' });
    next.ws.close();
    recorder.ws.close();
  } finally {
    await relay.close();
  }
});

test("a customer's socket still gets 10 s for its hello while an agent's waits (defaults)", async () => {
  test.setTimeout(30_000);
  const relay = await relayFor();
  try {
    const opened = Date.now();
    const customer = await silentSocket(relay.base, 'waits', 'recorder');
    const agent = await silentSocket(relay.base, 'waits', 'replayer');
    expect(await customer.closed).toEqual({ code: CloseCode.BadMessage, reason: 'no hello received' });
    const after = Date.now() - opened;
    expect(after).toBeGreaterThanOrEqual(9_500);
    expect(after).toBeLessThan(15_000);
    expect(agent.ws.readyState).toBe(WebSocket.OPEN);
    // Still good for a join.
    agent.ws.send(encodeText({ type: 'hello', v: PROTOCOL_VERSION }));
    await agent.next((f) => f.startsWith('{"type":"welcome"'));
    agent.ws.close();
  } finally {
    await relay.close();
  }
});

test('agentHelloTimeoutMs is checked: outside 1 s to 10 min the relay refuses to start', () => {
  for (const agentHelloTimeoutMs of [0, 999, 600_001, 1.5, Number.NaN])
    expect(() => createRelay({ secret: TEST_SECRET, log: () => undefined, agentHelloTimeoutMs })).toThrow(
      /agentHelloTimeoutMs must be a whole number of ms from 1000 to 600000/,
    );
});
