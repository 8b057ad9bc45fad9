import { expect, test } from '@playwright/test';
import WebSocket from 'ws';
import { CloseCode, HELLO_PARAM, PROTOCOL_VERSION, encodeText, signToken, type Role } from '@cobrowse/protocol';
import { TEST_SECRET, relayFor } from './helpers.js';
import { Client, batch, joinRoom, openSocket } from './sockets.js';

// A replayer may say its hello in the socket URL (`hello=<v>`): the relay welcomes it and sends the
// catch-up as the socket opens, a round trip sooner. The SDK sends the same hello on open anyway (for
// relays that do not read the URL): taken as said. Anything else about it is refused as a hello is.

type Relay = Awaited<ReturnType<typeof relayFor>>;

async function replayerUrl(room: string, extra: string, role: Role = 'replayer'): Promise<string> {
  const signature = await signToken(TEST_SECRET, { room, role, user: `${role}-2`, name: role });
  return `/ws/cobrowse/${room}?role=${role}&signature=${encodeURIComponent(signature)}${extra}`;
}

/** A socket with its frames collected from the start (what the relay sends at the upgrade arrives with the open). */
function listen(relay: { base: string }, path: string): Promise<Client> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(relay.base.replace('http', 'ws') + path);
    const client = new Client(ws);
    ws.once('open', () => resolve(client));
    ws.once('unexpected-response', (_req, res) => reject(new Error(`refused ${res.statusCode}`)));
    ws.once('error', reject);
  });
}

const isEvents = (seq: number) => (frame: string) => frame.startsWith(`{"type":"events","epoch":"ep1","seq":${seq}`);

test.describe('hello in the socket URL', () => {
  let relay: Relay;
  test.beforeAll(async () => {
    relay = await relayFor({ roomGraceMs: 100 });
  });
  test.afterAll(() => relay.close());

  test('a replayer is welcomed and caught up as its socket opens, before it sends anything', async () => {
    const recorder = await joinRoom(relay.base, 'early', 'recorder');
    recorder.ws.send(batch(1, true));
    recorder.ws.send(batch(2));
    await expect.poll(() => recorder.count((f) => f.startsWith('{"type":"ack"'))).toBeGreaterThan(0);

    const agent = await listen(relay, await replayerUrl('early', `&${HELLO_PARAM}=${PROTOCOL_VERSION}`));
    const ws = agent.ws;
    // Nothing sent: the welcome, then the snapshot batch and what followed it.
    const welcome = JSON.parse(await agent.next((f) => f.startsWith('{"type":"welcome"')));
    expect(welcome).toMatchObject({ v: PROTOCOL_VERSION, role: 'replayer', recorder: true });
    await agent.next(isEvents(1));
    await agent.next(isEvents(2));

    // The SDK's hello on open, the same one: taken as said (no second welcome, no close), and the stream goes on.
    ws.send(encodeText({ type: 'hello', v: PROTOCOL_VERSION }));
    // The relay answers a ping after the frames before it on the same socket: the hello has been handled.
    await new Promise((resolve) => (ws.once('pong', resolve), ws.ping()));
    expect(ws.readyState).toBe(WebSocket.OPEN);
    recorder.ws.send(batch(3));
    await agent.next(isEvents(3));
    expect(agent.count((f) => f.startsWith('{"type":"welcome"'))).toBe(0);
    expect(agent.count((f) => f.startsWith('{"type":"events"'))).toBe(0); // nothing sent twice

    // Once only: a further hello is a second hello, refused as before.
    ws.send(encodeText({ type: 'hello', v: PROTOCOL_VERSION }));
    expect(await agent.closed).toEqual({ code: CloseCode.BadMessage, reason: '"hello" was already received' });
    recorder.ws.close();
  });

  test('a hello after the URL one that differs from it (a resume, another version) is a second hello', async () => {
    const recorder = await joinRoom(relay.base, 'early-2', 'recorder');
    recorder.ws.send(batch(1, true));
    for (const hello of [
      { type: 'hello', v: PROTOCOL_VERSION, resume: { epoch: 'ep1', seq: 1 } },
      { type: 'hello', v: 1 },
    ]) {
      const agent = await listen(relay, await replayerUrl('early-2', `&${HELLO_PARAM}=${PROTOCOL_VERSION}`));
      await agent.next((f) => f.startsWith('{"type":"welcome"'));
      agent.ws.send(encodeText(hello as never));
      expect(await agent.closed).toEqual({ code: CloseCode.BadMessage, reason: '"hello" was already received' });
    }
    recorder.ws.close();
  });

  test('a malformed or unsupported version, or a recorder saying its hello in the URL, is refused at the upgrade', async () => {
    const cases: [string, Role, RegExp][] = [
      [`&${HELLO_PARAM}=abc`, 'replayer', /must be a protocol version number/],
      [`&${HELLO_PARAM}=`, 'replayer', /must be a protocol version number/],
      [`&${HELLO_PARAM}=3.0`, 'replayer', /must be a protocol version number/],
      [`&${HELLO_PARAM}=0`, 'replayer', /must be a protocol version number/],
      [`&${HELLO_PARAM}=${'9'.repeat(400)}`, 'replayer', /must be a protocol version number/],
      [`&${HELLO_PARAM}=${PROTOCOL_VERSION}`, 'recorder', /for replayers/],
    ];
    for (const [extra, role, reason] of cases) {
      const refused = await new Promise<{ status: number; body: string }>((resolve, reject) => {
        void replayerUrl('early-3', extra, role).then((path) => {
          const ws = new WebSocket(relay.base.replace('http', 'ws') + path);
          ws.once('open', () => reject(new Error(`${extra}: opened`)));
          ws.once('unexpected-response', (_req, res) => {
            let body = '';
            res.on('data', (chunk) => (body += chunk));
            res.on('end', () => resolve({ status: res.statusCode!, body }));
          });
          ws.once('error', reject);
        });
      });
      expect(refused.status, extra).toBe(400);
      expect(refused.body, extra).toMatch(reason);
    }
    // And the signature is still checked: a URL hello with a token signed by another secret is refused as any socket is.
    const forged = await signToken('another-secret-0123456789abcdef0123456', {
      room: 'early-3',
      role: 'replayer',
      user: 'x',
      name: 'x',
    });
    const path = `/ws/cobrowse/early-3?role=replayer&signature=${encodeURIComponent(forged)}&${HELLO_PARAM}=${PROTOCOL_VERSION}`;
    expect(await openSocket(relay.base, path)).toEqual({ refused: 401 });
  });

  test('a version this relay does not support is left to the hello sent on open: the close that ends the SDK', async () => {
    // Refused at the upgrade, a browser would see only 1006 and retry for ever; the hello's close code is a final one.
    const agent = await listen(relay, await replayerUrl('early-4', `&${HELLO_PARAM}=99`));
    await new Promise((resolve) => (agent.ws.once('pong', resolve), agent.ws.ping()));
    expect(agent.frames).toEqual([]); // not welcomed
    agent.ws.send(encodeText({ type: 'hello', v: 99 } as never));
    expect(await agent.closed).toEqual({
      code: CloseCode.UnsupportedVersion,
      reason: 'protocol version 99 is not supported',
    });
  });
});
