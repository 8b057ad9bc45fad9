import { expect, test } from '@playwright/test';
import WebSocket from 'ws';
import { AgentOp, encodeText, signToken, type Message, type Role } from '@cobrowse/protocol';
import { relayFor } from './helpers.js';

const SECRET = 'control-secret-0123456789abcdef0123456789';
type Relay = Awaited<ReturnType<typeof relayFor>>;

/** A raw socket speaking the wire protocol, recording every frame it receives. */
class Client {
  frames: any[] = [];
  private waiters: (() => void)[] = [];
  constructor(readonly ws: WebSocket) {
    ws.on('message', (data) => {
      const text = data.toString();
      this.frames.push(JSON.parse(text.split('\n')[0]!));
      for (const w of this.waiters.splice(0)) w();
    });
  }
  send(message: object): void {
    this.ws.send(encodeText(message as Message));
  }
  async next(match: (frame: any) => boolean, timeout = 3000): Promise<any> {
    const deadline = Date.now() + timeout;
    for (;;) {
      const index = this.frames.findIndex(match);
      if (index >= 0) return this.frames.splice(index, 1)[0];
      if (Date.now() > deadline)
        throw new Error(`no matching frame; have ${JSON.stringify(this.frames).slice(0, 500)}`);
      await new Promise<void>((r) => {
        this.waiters.push(r);
        setTimeout(r, 50);
      });
    }
  }
  /** Resolves after a round trip through the relay: everything sent before has been handled. */
  async settle(): Promise<void> {
    this.send({ type: 'request-snapshot', reason: 'x' });
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function connect(relay: Relay, room: string, role: Role, user: string, v = 3): Promise<Client> {
  const signature = await signToken(SECRET, { room, role, user, name: `${user} name` });
  const ws = new WebSocket(
    `${relay.base.replace('http', 'ws')}/ws/cobrowse/${room}?role=${role}&signature=${encodeURIComponent(signature)}`,
  );
  await new Promise((resolve, reject) => {
    ws.once('open', resolve);
    ws.once('error', reject);
  });
  const client = new Client(ws);
  client.send({ type: 'hello', v, ...(role === 'recorder' ? { epoch: `ep-${user}` } : {}) });
  await client.next((m) => m.type === 'welcome');
  return client;
}

/** The recorder's view of an agent: the connection id the relay stamps on its frames. */
async function agentIdOf(recorder: Client, agent: Client): Promise<string> {
  agent.send({ type: 'agent', op: AgentOp.PointerMove, x: 1, y: 1 });
  return (await recorder.next((m) => m.type === 'agent' && m.op === AgentOp.PointerMove)).from;
}

const input = (from: Client) => from.send({ type: 'agent', op: AgentOp.Click, id: 7 });

test.describe('relay: remote control', () => {
  let relay: Relay;
  test.beforeAll(async () => {
    relay = await relayFor({ secret: SECRET, roomGraceMs: 100 });
  });
  test.afterAll(() => relay.close());

  test('agent frames reach the recorder stamped with the sender, whatever it claims', async () => {
    const recorder = await connect(relay, 'c1', 'recorder', 'customer');
    const agent = await connect(relay, 'c1', 'replayer', 'alice');
    agent.send({ type: 'agent', op: AgentOp.Highlight, id: 3, from: 'forged', user: 'bob', name: 'Bob' });
    const got = await recorder.next((m) => m.type === 'agent' && m.op === AgentOp.Highlight);
    expect(got.user).toBe('alice');
    expect(got.name).toBe('alice name');
    expect(got.from).not.toBe('forged');
    expect(got.id).toBe(3);
  });

  test("a watching agent's forged input and control frames never reach the recorder", async () => {
    const recorder = await connect(relay, 'c2', 'recorder', 'customer');
    const alice = await connect(relay, 'c2', 'replayer', 'alice');
    const mallory = await connect(relay, 'c2', 'replayer', 'mallory');
    const aliceId = await agentIdOf(recorder, alice);
    // Before any grant, nobody's input goes through.
    input(alice);
    input(mallory);
    await alice.settle();
    await mallory.settle();
    expect(recorder.frames.filter((m) => m.type === 'agent' && m.op === AgentOp.Click)).toEqual([]);
    // The customer grants Alice; only her input goes through.
    recorder.send({ type: 'control', state: 'granted', agent: aliceId });
    expect((await alice.next((m) => m.type === 'control')).mine).toBe(true);
    expect((await mallory.next((m) => m.type === 'control')).mine).toBeUndefined();
    input(mallory);
    mallory.send({ type: 'agent', op: AgentOp.SetValue, id: 7, value: 'x', from: aliceId });
    mallory.send({ type: 'agent', op: AgentOp.ReleaseControl });
    await mallory.settle();
    input(alice);
    const click = await recorder.next((m) => m.type === 'agent' && m.op === AgentOp.Click);
    expect(click.from).toBe(aliceId);
    expect(recorder.frames.filter((m) => m.type === 'agent' && m.op >= 300 && m.op !== AgentOp.PointerMove)).toEqual(
      [],
    );
    // A replayer may not send the recorder's control frames at all: it is disconnected.
    mallory.send({ type: 'control', state: 'granted', agent: 'whatever' });
    await new Promise<void>((resolve) => mallory.ws.once('close', () => resolve()));
  });

  test('a second agent cannot take control while the first holds it; control ends when the holder leaves', async () => {
    const recorder = await connect(relay, 'c3', 'recorder', 'customer');
    const alice = await connect(relay, 'c3', 'replayer', 'alice');
    const bob = await connect(relay, 'c3', 'replayer', 'bob');
    const aliceId = await agentIdOf(recorder, alice);
    const bobId = await agentIdOf(recorder, bob);
    recorder.send({ type: 'control', state: 'granted', agent: aliceId });
    await alice.next((m) => m.type === 'control' && m.state === 'granted');
    // Bob asks: the relay answers "denied" itself; the customer is never asked.
    bob.send({ type: 'agent', op: AgentOp.RequestControl });
    const denied = await bob.next((m) => m.type === 'control' && m.state === 'denied');
    expect(denied.mine).toBe(true);
    // Even a (buggy) grant to Bob while Alice holds control is not honoured.
    recorder.send({ type: 'control', state: 'granted', agent: bobId });
    await bob.settle();
    input(bob);
    await bob.settle();
    expect(recorder.frames.filter((m) => m.type === 'agent' && m.op === AgentOp.RequestControl)).toEqual([]);
    expect(recorder.frames.filter((m) => m.type === 'agent' && m.op === AgentOp.Click)).toEqual([]);
    // Alice disconnects: control ends, everyone is told, and her pointer goes.
    alice.ws.close();
    const ended = await recorder.next((m) => m.type === 'control' && m.state === 'ended');
    expect(ended.agent).toBe(aliceId);
    await recorder.next((m) => m.type === 'agent' && m.op === AgentOp.PointerLeave && m.from === aliceId);
    await bob.next((m) => m.type === 'control' && m.state === 'ended' && m.agent === aliceId);
    // Her (replayed) input frames would now do nothing either; Bob can be granted.
    recorder.send({ type: 'control', state: 'granted', agent: bobId });
    await bob.next((m) => m.type === 'control' && m.state === 'granted' && m.mine);
    input(bob);
    await recorder.next((m) => m.type === 'agent' && m.op === AgentOp.Click && m.from === bobId);
  });

  test('a recorder reconnecting (page reload) ends control', async () => {
    const recorder = await connect(relay, 'c4', 'recorder', 'customer');
    const alice = await connect(relay, 'c4', 'replayer', 'alice');
    const aliceId = await agentIdOf(recorder, alice);
    recorder.send({ type: 'control', state: 'granted', agent: aliceId });
    await alice.next((m) => m.type === 'control' && m.state === 'granted');
    recorder.ws.close();
    const again = await connect(relay, 'c4', 'recorder', 'customer');
    await alice.next((m) => m.type === 'control' && m.state === 'ended' && m.mine);
    input(alice);
    await alice.settle();
    expect(again.frames.filter((m) => m.type === 'agent' && m.op === AgentOp.Click)).toEqual([]);
  });

  test("a recorder cannot put words in an agent's mouth: control names come from the agent's token, unknown agents are dropped", async () => {
    const recorder = await connect(relay, 'c7', 'recorder', 'customer');
    const alice = await connect(relay, 'c7', 'replayer', 'alice');
    const bob = await connect(relay, 'c7', 'replayer', 'bob');
    const aliceId = await agentIdOf(recorder, alice);
    // A "requested" for an agent id that is nobody in the room never reaches any agent.
    recorder.send({
      type: 'control',
      state: 'requested',
      agent: 'nobody',
      user: 'ceo',
      name: 'Your Supervisor (approve now)',
    });
    recorder.send({ type: 'control', state: 'granted', agent: 'nobody', user: 'ceo', name: 'Your Supervisor' });
    recorder.send({ type: 'refused', agent: 'nobody', op: AgentOp.Click, id: 7, reason: 'masked' });
    // A frame for Alice carrying someone else's identity reaches the agents with Alice's.
    recorder.send({
      type: 'control',
      state: 'requested',
      agent: aliceId,
      user: 'ceo',
      name: 'Your Supervisor (approve now)',
    });
    const seenByBob = await bob.next((m) => m.type === 'control' && m.state === 'requested');
    const seenByAlice = await alice.next((m) => m.type === 'control' && m.state === 'requested');
    for (const frame of [seenByBob, seenByAlice]) {
      expect(frame.agent).toBe(aliceId);
      expect(frame.user).toBe('alice');
      expect(frame.name).toBe('alice name');
    }
    expect(seenByAlice.mine).toBe(true);
    // (The relay handles the recorder's frames in order: the forged ones before it were handled.)
    await bob.settle();
    await alice.settle();
    for (const agent of [alice, bob]) {
      expect(agent.frames.filter((m) => m.type === 'control' || m.type === 'refused')).toEqual([]);
      expect(JSON.stringify(agent.frames)).not.toContain('Supervisor');
    }
    // The dropped grant to "nobody" left control free: Alice can still be granted.
    recorder.send({ type: 'control', state: 'granted', agent: aliceId, name: 'Someone Else' });
    const granted = await alice.next((m) => m.type === 'control' && m.state === 'granted');
    expect(granted.name).toBe('alice name');
    input(alice);
    await recorder.next((m) => m.type === 'agent' && m.op === AgentOp.Click && m.from === aliceId);
  });

  test('an agent who leaves while the customer is being asked about it withdraws the prompt', async () => {
    const recorder = await connect(relay, 'c8', 'recorder', 'customer');
    const alice = await connect(relay, 'c8', 'replayer', 'alice');
    const bob = await connect(relay, 'c8', 'replayer', 'bob');
    const aliceId = await agentIdOf(recorder, alice);
    const bobId = await agentIdOf(recorder, bob);
    recorder.send({ type: 'control', state: 'requested', agent: aliceId });
    await alice.next((m) => m.type === 'control' && m.state === 'requested');
    alice.ws.close();
    const ended = await recorder.next((m) => m.type === 'control' && m.state === 'ended');
    expect(ended.agent).toBe(aliceId);
    expect(ended.user).toBe('alice');
    // Once answered, leaving is only a pointer leaving.
    recorder.send({ type: 'control', state: 'requested', agent: bobId });
    recorder.send({ type: 'control', state: 'denied', agent: bobId });
    await bob.next((m) => m.type === 'control' && m.state === 'denied');
    bob.ws.close();
    await recorder.next((m) => m.type === 'agent' && m.op === AgentOp.PointerLeave && m.from === bobId);
    expect(recorder.frames.filter((m) => m.type === 'control')).toEqual([]);
  });

  test('older peers: no agent frames to a v2 recorder, no control frames to a v2 agent; bad fields refused', async () => {
    const recorder = await connect(relay, 'c5', 'recorder', 'customer', 2);
    const agent = await connect(relay, 'c5', 'replayer', 'alice');
    agent.send({ type: 'agent', op: AgentOp.Highlight, id: 3 });
    // A request nobody can answer is denied at once.
    agent.send({ type: 'agent', op: AgentOp.RequestControl });
    expect((await agent.next((m) => m.type === 'control')).state).toBe('denied');
    await agent.settle();
    expect(recorder.frames.filter((m) => m.type === 'agent')).toEqual([]);
    const recorder3 = await connect(relay, 'c6', 'recorder', 'customer');
    const old = await connect(relay, 'c6', 'replayer', 'old', 2);
    const alice = await connect(relay, 'c6', 'replayer', 'alice');
    const aliceId = await agentIdOf(recorder3, alice);
    recorder3.send({ type: 'control', state: 'granted', agent: aliceId });
    await alice.next((m) => m.type === 'control');
    await old.settle();
    expect(old.frames.filter((m) => m.type === 'control')).toEqual([]);
    // Non-finite or oversized values never pass validation: the socket is closed as a bad message.
    for (const bad of [
      '{"type":"agent","op":100,"x":1e400,"y":1}',
      '{"type":"agent","op":999}',
      `{"type":"agent","op":401,"id":1,"value":"${'x'.repeat(1500)}"}`,
    ]) {
      const mallory = await connect(relay, 'c6', 'replayer', 'mallory');
      mallory.ws.send(bad);
      const closed = await new Promise<number>((resolve) => mallory.ws.once('close', (code) => resolve(code)));
      expect(closed).toBe(4000);
    }
    expect(recorder3.frames.filter((m) => m.type === 'agent' && m.op !== AgentOp.PointerLeave)).toEqual([]);
  });
});
