import { expect, test } from '@playwright/test';
import WebSocket from 'ws';
import {
  CEC_PATH,
  CloseCode,
  PROTOCOL_VERSION,
  SOCKET_AHEAD_HEADER,
  encodeText,
  signToken,
  type Role,
} from '@cobrowse/protocol';
import { TEST_SECRET, relayFor } from './helpers.js';
import { Client, batch, joinRoom, openSocket } from './sockets.js';

// An agent's socket opened ahead of its connection info: a prepared view opens it when the relay's
// answer to its warm-up names it, and its join sends the signature in its hello. Until then it is in
// no room and gets nothing; anything but that hello closes it, and the signature is checked as a
// URL's is at an upgrade.

const AHEAD = '/ws/cobrowse/?role=replayer&ahead=1';
const SHOP = 'https://shop.example';

async function aheadSocket(base: string): Promise<Client> {
  const ws = await openSocket(base, AHEAD);
  if (!(ws instanceof WebSocket)) throw new Error(`refused ${ws.refused}`);
  return new Client(ws);
}

/** A socket opened ahead with these request headers: the open socket, or the refused upgrade's status. */
function aheadWith(base: string, headers: Record<string, string>): Promise<number | WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(base.replace('http', 'ws') + AHEAD, { headers });
    ws.once('open', () => resolve(ws));
    ws.once('unexpected-response', (_req, res) => (res.resume(), resolve(res.statusCode!)));
    ws.once('error', reject);
  });
}

const sign = (room: string, role: Role = 'replayer', extra: Record<string, unknown> = {}) =>
  signToken(TEST_SECRET, { room, role, user: `${role}-7`, name: role, ...extra });

const hello = (signature: string) => encodeText({ type: 'hello', v: PROTOCOL_VERSION, signature });

/** A presence frame telling the customer of agents in the room. */
const presence = (frame: string) => frame.startsWith('{"type":"presence"') && JSON.parse(frame).replayers > 0;

test("the warm-up's answer names the socket opened ahead, readable by an allowed origin, unless the operator turned them off", async () => {
  const relay = await relayFor({ corsOrigins: [SHOP], cecTokens: ['tok'] });
  try {
    const allowed = await fetch(`${relay.base}${CEC_PATH}`, { method: 'OPTIONS', headers: { origin: SHOP } });
    expect(allowed.status).toBe(204);
    expect(allowed.headers.get(SOCKET_AHEAD_HEADER)).toBe(`${relay.base.replace('http', 'ws')}${AHEAD}`);
    expect(allowed.headers.get('access-control-expose-headers')).toBe(SOCKET_AHEAD_HEADER);
    const other = await fetch(`${relay.base}${CEC_PATH}`, {
      method: 'OPTIONS',
      headers: { origin: 'https://evil.example' },
    });
    expect(other.headers.get('access-control-expose-headers')).toBeNull();
    expect(other.headers.get('access-control-allow-origin')).toBeNull();
  } finally {
    await relay.close();
  }
  // An operator may turn them off: not named, and refused.
  const off = await relayFor({ corsOrigins: [SHOP], cecTokens: ['tok'], socketsAhead: false });
  try {
    const answer = await fetch(`${off.base}${CEC_PATH}`, { method: 'OPTIONS', headers: { origin: SHOP } });
    expect(answer.status).toBe(204);
    expect(answer.headers.get(SOCKET_AHEAD_HEADER)).toBeNull();
    expect(await openSocket(off.base, AHEAD)).toEqual({ refused: 404 });
  } finally {
    await off.close();
  }
});

test('a socket opened ahead is in no room until its signed hello, then welcomed and caught up', async () => {
  const relay = await relayFor();
  try {
    const recorder = await joinRoom(relay.base, 'ahead', 'recorder');
    recorder.ws.send(batch(1, true));
    await expect.poll(() => recorder.count((f) => f.startsWith('{"type":"ack"'))).toBeGreaterThan(0);

    const agent = await aheadSocket(relay.base);
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(recorder.count(presence)).toBe(0);
    expect(agent.frames).toEqual([]);

    agent.ws.send(hello(await sign('ahead')));
    expect(JSON.parse(await agent.next((f) => f.startsWith('{"type":"welcome"')))).toMatchObject({
      roomId: 'ahead',
      role: 'replayer',
      recorder: true,
    });
    await agent.next((f) => f.startsWith('{"type":"events","epoch":"ep1","seq":1'));
    expect(JSON.parse(await recorder.next(presence))).toMatchObject({ replayers: 1 });
    // The SDK's plain hello on open, if one is sent after all, is taken as said; the live stream goes on.
    agent.ws.send(encodeText({ type: 'hello', v: PROTOCOL_VERSION }));
    recorder.ws.send(batch(2));
    await agent.next((f) => f.startsWith('{"type":"events","epoch":"ep1","seq":2'));
    expect(agent.ws.readyState).toBe(WebSocket.OPEN);
    agent.ws.close();
    recorder.ws.close();
  } finally {
    await relay.close();
  }
});

test('a socket opened ahead is closed for anything but a valid signed hello, and let go at agentHelloTimeoutMs', async () => {
  const relay = await relayFor({ agentHelloTimeoutMs: 1000, maxAgentFrameBytes: 4096 });
  try {
    const cases: [string, (ws: WebSocket) => Promise<void>, { code: number; reason: string | RegExp }][] = [
      [
        'an event batch',
        async (ws) => ws.send(batch(1, true)),
        { code: CloseCode.BadMessage, reason: 'the first message must be a hello with its signature' },
      ],
      [
        'a hello without a signature',
        async (ws) => ws.send(encodeText({ type: 'hello', v: PROTOCOL_VERSION })),
        { code: CloseCode.BadMessage, reason: 'the first message must be a hello with its signature' },
      ],
      ['not JSON', async (ws) => ws.send('{"type":'), { code: CloseCode.BadMessage, reason: /JSON/ }],
      [
        'a forged signature',
        // Another agent's name in the claims, the MAC left as it was.
        async (ws) => {
          const [, mac] = (await sign('ahead')).split('.');
          const body = Buffer.from(
            JSON.stringify({ room: 'ahead', role: 'replayer', user: 'mallory', name: 'm', exp: Date.now() + 60_000 }),
          ).toString('base64url');
          ws.send(hello(`${body}.${mac}`));
        },
        { code: CloseCode.Forbidden, reason: 'invalid signature' },
      ],
      [
        'a signature signed with another secret',
        async (ws) =>
          ws.send(
            hello(
              await signToken('another-secret-0123456789abcdef0123', {
                room: 'ahead',
                role: 'replayer',
                user: 'u',
                name: 'n',
              }),
            ),
          ),
        { code: CloseCode.Forbidden, reason: 'invalid signature' },
      ],
      [
        "the customer's signature",
        async (ws) => ws.send(hello(await sign('ahead', 'recorder'))),
        { code: CloseCode.Forbidden, reason: 'signature is for another role' },
      ],
      [
        'an expired signature',
        async (ws) => ws.send(hello(await sign('ahead', 'replayer', { exp: Date.now() - 1000 }))),
        { code: CloseCode.Forbidden, reason: 'signature expired' },
      ],
      [
        'a version this relay does not speak',
        async (ws) => ws.send(encodeText({ type: 'hello', v: 999, signature: await sign('ahead') })),
        { code: CloseCode.UnsupportedVersion, reason: /version 999/ },
      ],
      [
        'a second message before the welcome',
        async (ws) => {
          const signature = await sign('ahead');
          // Both in one TCP write: the relay reads the second while it checks the first.
          const tcp = (ws as unknown as { _socket: import('node:net').Socket })._socket;
          tcp.cork();
          ws.send(hello(signature));
          ws.send(encodeText({ type: 'request-snapshot' }));
          tcp.uncork();
        },
        { code: CloseCode.BadMessage, reason: 'one hello, then wait for the welcome' },
      ],
      ['a frame over maxAgentFrameBytes', async (ws) => ws.send('x'.repeat(8192)), { code: 1009, reason: /^/ }],
      ['nothing at all', async () => undefined, { code: CloseCode.BadMessage, reason: 'no hello received' }],
    ];
    for (const [what, send, expected] of cases) {
      const agent = await aheadSocket(relay.base);
      await send(agent.ws);
      const closed = await Promise.race([
        agent.closed,
        new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`${what}: not closed`)), 5000)),
      ]);
      expect(closed.code, what).toBe(expected.code);
      if (typeof expected.reason === 'string') expect(closed.reason, what).toBe(expected.reason);
      else expect(closed.reason, what).toMatch(expected.reason);
    }
    // No room was opened by any of them, and the relay still serves.
    expect(relay.status().rooms).toBe(0);
    await expect.poll(() => relay.status().connections).toBe(0);
    const agent = await aheadSocket(relay.base);
    agent.ws.send(hello(await sign('after')));
    await agent.next((f) => f.startsWith('{"type":"welcome"'));
    agent.ws.close();
  } finally {
    await relay.close();
  }
});

test("a socket opened ahead counts against its address's sockets, and its room's limits apply at its hello", async () => {
  const relay = await relayFor({ maxConnectionsPerAddress: 2, maxReplayersPerRoom: 1 });
  try {
    const first = await aheadSocket(relay.base);
    const second = await aheadSocket(relay.base);
    expect(await openSocket(relay.base, AHEAD)).toEqual({ refused: 429 });
    second.ws.close();
    await second.closed;
    await expect.poll(async () => !((await openSocket(relay.base, AHEAD)) instanceof WebSocket)).toBe(false);

    // The room's one agent place is taken: the hello is refused as the upgrade would have been.
    const relay2 = await relayFor({ maxReplayersPerRoom: 1 });
    try {
      const agent = await joinRoom(relay2.base, 'full', 'replayer');
      const late = await aheadSocket(relay2.base);
      late.ws.send(hello(await sign('full')));
      expect(await late.closed).toEqual({
        code: CloseCode.RateLimited,
        reason: 'this room has as many agents as it may',
      });
      agent.ws.close();
    } finally {
      await relay2.close();
    }
    first.ws.close();
  } finally {
    await relay.close();
  }
});

test('a socket opened ahead: a session that ended is final; its URL has no room and no signature; a signed socket may not sign again', async () => {
  const relay = await relayFor();
  try {
    const signature = await sign('ending');
    const recorder = await joinRoom(relay.base, 'ending', 'recorder');
    recorder.ws.send(encodeText({ type: 'bye', reason: 'done' }));
    await recorder.closed;
    const agent = await aheadSocket(relay.base);
    agent.ws.send(hello(signature));
    expect((await agent.closed).code).toBe(CloseCode.SessionEnded);

    for (const path of [
      '/ws/cobrowse/room1?role=replayer&ahead=1',
      `/ws/cobrowse/?role=replayer&ahead=1&signature=${encodeURIComponent(await sign('x'))}`,
      '/ws/cobrowse/?role=recorder&ahead=1',
      '/ws/cobrowse/?role=replayer&ahead=1&hello=1',
      '/ws/cobrowse/?role=replayer&ahead=2',
    ])
      expect(await openSocket(relay.base, path), path).toEqual({ refused: 400 });

    // A socket opened with its signature may not send one in its hello.
    const signed = await sign('signed');
    const ws = await openSocket(
      relay.base,
      `/ws/cobrowse/signed?role=replayer&signature=${encodeURIComponent(signed)}`,
    );
    if (!(ws instanceof WebSocket)) throw new Error('refused');
    const client = new Client(ws);
    ws.send(hello(signed));
    expect(await client.closed).toEqual({
      code: CloseCode.BadMessage,
      reason: 'a hello carries a signature only on a socket opened ahead',
    });
  } finally {
    await relay.close();
  }
});

test('sockets opened ahead: 20 an address, maxSocketsAhead a node, only from allowed origins; a binary first frame is refused', async () => {
  const relay = await relayFor({ corsOrigins: [SHOP], maxSocketsAhead: 25 });
  const open: WebSocket[] = [];
  try {
    for (let i = 0; i < 20; i++) {
      const ws = await openSocket(relay.base, AHEAD);
      if (!(ws instanceof WebSocket)) throw new Error(`socket ${i} refused ${ws.refused}`);
      open.push(ws);
    }
    expect(await openSocket(relay.base, AHEAD)).toEqual({ refused: 429 });
    // Signed sockets from the same address still get in.
    const agent = await joinRoom(relay.base, 'busy', 'replayer');
    agent.ws.close();

    // Other addresses (a proxy's X-Forwarded-For, trusted here) fill the node's 25.
    const viaProxy = await relayFor({ trustProxy: true, maxSocketsAhead: 3 });
    try {
      const from = (address: string) => aheadWith(viaProxy.base, { 'x-forwarded-for': address });
      const three = await Promise.all(['10.0.0.1', '10.0.0.2', '10.0.0.3'].map(from));
      expect(three.every((x) => x instanceof WebSocket)).toBe(true);
      expect(await from('10.0.0.4')).toBe(503);
      for (const ws of three) (ws as WebSocket).close();
    } finally {
      await viaProxy.close();
    }

    // Origins: an allowed one, the relay's own, and none pass; another page's does not.
    const withOrigin = (origin: string) => aheadWith(relay.base, { origin });
    for (const ws of open.splice(0, 3)) ws.close();
    await expect.poll(() => relay.status().connections).toBe(17);
    expect(await withOrigin('https://evil.example')).toBe(403);
    const allowed = await withOrigin(SHOP);
    const own = await withOrigin(relay.base);
    expect(allowed).toBeInstanceOf(WebSocket);
    expect(own).toBeInstanceOf(WebSocket);
    const evil = await fetch(`${relay.base}${CEC_PATH}`, {
      method: 'OPTIONS',
      headers: { origin: 'https://evil.example' },
    });
    expect(evil.headers.get(SOCKET_AHEAD_HEADER)).toBeNull();

    // A binary first frame is no hello.
    const client = new Client(allowed as WebSocket);
    (allowed as WebSocket).send(Buffer.from(hello(await sign('busy'))));
    expect(await client.closed).toEqual({
      code: CloseCode.BadMessage,
      reason: 'the first message must be a hello with its signature',
    });
    (own as WebSocket).close();
  } finally {
    for (const ws of open) ws.close();
    await relay.close();
  }
});

test('a socket opened ahead refused at its hello gives its places back; a relay that leaves tells the waiting ones to go', async () => {
  const relay = await relayFor({ maxConnectionsPerAddress: 3, maxReplayersPerRoom: 1 });
  const agent = await joinRoom(relay.base, 'full', 'replayer');
  for (let i = 0; i < 5; i++) {
    const late = await aheadSocket(relay.base);
    late.ws.send(hello(await sign('full')));
    expect((await late.closed).code).toBe(CloseCode.RateLimited);
  }
  // Nothing leaked: two more sockets fit beside the agent's, and no third.
  await expect.poll(() => relay.status().connections).toBe(1);
  const waiting = [await aheadSocket(relay.base), await aheadSocket(relay.base)];
  expect(await openSocket(relay.base, AHEAD)).toEqual({ refused: 429 });
  agent.ws.close();
  await agent.closed;
  // Leaving: the sockets that wait for a hello are told to go, and the room's members as before.
  const closing = relay.close();
  for (const ws of waiting)
    expect(await ws.closed).toEqual({ code: CloseCode.GoingAway, reason: 'this relay is leaving' });
  await closing;
});

test('a signature sent in the hello of a socket opened ahead never appears in the relay logs, accepted or refused', async () => {
  const lines: string[] = [];
  const relay = await relayFor({ log: (line) => lines.push(line), logLevel: 'debug', maxReplayersPerRoom: 1 });
  try {
    const signatures = [await sign('logged'), await sign('logged', 'replayer', { user: 'second' })];
    const first = await aheadSocket(relay.base);
    first.ws.send(hello(signatures[0]!));
    await first.next((f) => f.startsWith('{"type":"welcome"'));
    // Refused at its hello (the room's one agent place is taken), and a forged one.
    const second = await aheadSocket(relay.base);
    second.ws.send(hello(signatures[1]!));
    expect((await second.closed).code).toBe(CloseCode.RateLimited);
    const forged = await aheadSocket(relay.base);
    forged.ws.send(hello(`${signatures[1]!.split('.')[0]}.AAAA`));
    expect((await forged.closed).code).toBe(CloseCode.Forbidden);
    first.ws.close();
    await first.closed;
    await expect.poll(() => lines.some((line) => line.includes('socket opened ahead closed by the relay'))).toBe(true);
    for (const line of lines) {
      for (const signature of signatures) {
        expect(line).not.toContain(signature.split('.')[1]!);
        expect(line).not.toContain(signature.split('.')[0]!);
      }
    }
  } finally {
    await relay.close();
  }
});
