import { expect, test } from '@playwright/test';
import { Channel } from '@cobrowse/client';
import { CloseCode, PROTOCOL_VERSION, encodeText, type Hello, type Message } from '@cobrowse/protocol';
import { ParkedSocket } from '../src/park.js';

// A socket parked by a prepared view is handed to the join's channel (reconnecting-websocket) after
// the join said its hello on it: what the relay sent back in between (frames, even its close) must
// reach the channel in order, once, and the channel's own hello must not go out a second time.
// The relay's side is played by a scripted socket; the channel is the SDK's own.

/** Node 20 has no MessageEvent or CloseEvent: the browser's shapes, as far as these tests read them. */
const g = globalThis as Record<string, unknown>;
g.MessageEvent ??= class extends Event {
  readonly data: unknown;
  constructor(type: string, init: { data?: unknown } = {}) {
    super(type);
    this.data = init.data;
  }
};
g.CloseEvent ??= class extends Event {
  readonly code: number;
  readonly reason: string;
  readonly wasClean: boolean;
  constructor(type: string, init: { code?: number; reason?: string; wasClean?: boolean } = {}) {
    super(type);
    this.code = init.code ?? 0;
    this.reason = init.reason ?? '';
    this.wasClean = init.wasClean ?? false;
  }
};

/** A WebSocket whose server side the test plays. */
class ScriptedSocket extends EventTarget {
  static readonly CONNECTING = 0;
  static readonly OPEN = 1;
  static readonly CLOSING = 2;
  static readonly CLOSED = 3;
  static made: ScriptedSocket[] = [];
  readonly CONNECTING = 0;
  readonly OPEN = 1;
  readonly CLOSING = 2;
  readonly CLOSED = 3;
  readyState = 0;
  binaryType = 'blob';
  readonly sent: unknown[] = [];
  closedWith: number | undefined;
  constructor(readonly url: string) {
    super();
    ScriptedSocket.made.push(this);
  }
  send(data: unknown): void {
    this.sent.push(data);
  }
  close(code = 1000): void {
    if (this.readyState >= 2) return;
    this.closedWith = code;
    this.readyState = 2;
  }
  serverOpens(): void {
    this.readyState = 1;
    this.dispatchEvent(new Event('open'));
  }
  serverSends(message: Message): void {
    this.dispatchEvent(new MessageEvent('message', { data: encodeText(message) }));
  }
  serverCloses(code: number, reason: string): void {
    this.readyState = 3;
    this.dispatchEvent(new CloseEvent('close', { code, reason, wasClean: true }));
  }
}
g.WebSocket = ScriptedSocket;

const info = { roomId: 'r', wssUrl: 'ws://relay.test', wssUrlOut: 'ws://relay.test', signature: 's' };
const hello: Hello = { type: 'hello', v: PROTOCOL_VERSION };
const welcome: Message = {
  type: 'welcome',
  v: PROTOCOL_VERSION,
  roomId: 'r',
  role: 'replayer',
  recorder: true,
  replayers: 1,
  now: 1,
};
const presence = (replayers: number): Message => ({ type: 'presence', recorder: true, replayers });
const tick = () => new Promise((resolve) => setTimeout(resolve, 20));

/** The join's channel on a parked socket, as the session makes it; `log` lists what it tells. */
function channelOn(park: ParkedSocket, log: string[] = [], fetchInfo = async () => info): Channel {
  const made = new Channel({
    role: 'replayer',
    first: park.info ?? Promise.resolve(info),
    fetchInfo,
    external: false,
    hello: () => hello,
    helloInUrl: true,
    WebSocket: park.handOver(),
  });
  made.on('welcome', () => log.push('welcome'));
  made.on('frame', ({ message }) => log.push(`${message.type} ${(message as { replayers: number }).replayers}`));
  made.on('ended', ({ code }) => log.push(`ended ${code}`));
  return made;
}

/** A parked socket, open, and a channel the test makes on it (as the join's session does). */
async function parked() {
  ScriptedSocket.made = [];
  const park = new ParkedSocket(Promise.resolve(info), false, () => undefined);
  await tick();
  const socket = ScriptedSocket.made[0]!;
  expect(socket.url).not.toContain('hello=');
  socket.serverOpens();
  expect(await park.opened).toBe(true);
  let fetches = 0;
  const log: string[] = [];
  const channel = () => channelOn(park, log, async () => (fetches++, info));
  return { park, socket, channel, log, fetches: () => fetches };
}

test("what the relay sends after the join's hello, its close included, reaches the channel in order, once", async () => {
  const { park, socket, channel, log, fetches } = await parked();
  expect(park.sayHello(encodeText(hello))).toBe(true);
  // Before the channel takes the socket: the welcome, two frames, then the relay ends the session.
  socket.serverSends(welcome);
  socket.serverSends(presence(1));
  socket.serverSends(presence(2));
  socket.serverCloses(CloseCode.SessionEnded, 'this session has ended');
  const made = channel();
  await expect.poll(() => log.length).toBe(4);
  expect(log).toEqual(['welcome', 'presence 1', 'presence 2', `ended ${CloseCode.SessionEnded}`]);
  expect(made.status).toBe('ended');
  // One hello went (the join's); the channel's own on open was the same and was not sent again.
  expect(socket.sent).toEqual([encodeText(hello)]);
  await tick();
  // Nothing was tried after the end: no connection info, no other socket.
  expect(fetches()).toBe(0);
  expect(ScriptedSocket.made).toHaveLength(1);
});

test('the channel takes the socket live: later frames go straight to it, and its next hello (a resume) is sent', async () => {
  const { park, socket, channel, log } = await parked();
  park.sayHello(encodeText(hello));
  socket.serverSends(welcome);
  const made = channel();
  await expect.poll(() => made.status).toBe('live');
  socket.serverSends(presence(3));
  expect(log).toEqual(['welcome', 'presence 3']);
  expect(made.sendMessage({ type: 'request-snapshot', reason: 'test' })).toBe(true);
  expect(socket.sent).toHaveLength(2);
  // A drop: the next socket is a new one, with the hello in its URL, from fresh connection info.
  socket.serverCloses(1006, '');
  await expect.poll(() => ScriptedSocket.made.length, { timeout: 5000 }).toBe(2);
  expect(ScriptedSocket.made[1]!.url).toContain('hello=');
  made.close();
});

test('frames held after one that ends the channel are dropped, as a closed socket gives none', async () => {
  const { park, socket, channel, log } = await parked();
  park.sayHello(encodeText(hello));
  socket.serverSends(welcome);
  socket.serverSends({ type: 'bye', reason: 'the customer stopped sharing' });
  socket.serverSends(presence(4));
  const made = channel();
  await expect.poll(() => made.status).toBe('ended');
  await tick();
  expect(log).toEqual(['welcome', `ended ${CloseCode.SessionEnded}`]);
  expect(socket.closedWith).toBe(CloseCode.Normal);
});

test('a socket still opening is handed over as it is, and the channel says its hello when it opens', async () => {
  ScriptedSocket.made = [];
  const park = new ParkedSocket(Promise.resolve(info), false, () => undefined);
  await tick();
  const socket = ScriptedSocket.made[0]!;
  // Not open yet: the join cannot say the hello itself.
  expect(park.sayHello(encodeText(hello))).toBe(false);
  expect(park.usable).toBe(true);
  const made = channelOn(park);
  await tick();
  expect(ScriptedSocket.made).toHaveLength(1);
  socket.serverOpens();
  expect(socket.sent).toEqual([encodeText(hello)]);
  socket.serverSends(welcome);
  await expect.poll(() => made.status).toBe('live');
  made.close();
});

test('a parked socket the relay lets go is reported with its close code; one closed by the view is not', async () => {
  ScriptedSocket.made = [];
  const dead: number[] = [];
  const park = new ParkedSocket(Promise.resolve(info), false, (code) => dead.push(code));
  await tick();
  ScriptedSocket.made[0]!.serverOpens();
  ScriptedSocket.made[0]!.serverCloses(CloseCode.BadMessage, 'no hello received');
  expect(dead).toEqual([CloseCode.BadMessage]);
  expect(park.usable).toBe(false);

  const other = new ParkedSocket(Promise.resolve(info), false, (code) => dead.push(code));
  await tick();
  ScriptedSocket.made[1]!.serverOpens();
  other.close();
  expect(ScriptedSocket.made[1]!.closedWith).toBe(1000);
  expect(dead).toEqual([CloseCode.BadMessage]);
  expect(other.usable).toBe(false);

  // Connection info that cannot be had: reported (0), and never a socket.
  const failed = new ParkedSocket(Promise.reject(new Error('refused')), false, (code) => dead.push(code));
  expect(await failed.opened).toBe(false);
  expect(dead).toEqual([CloseCode.BadMessage, 0]);
  expect(ScriptedSocket.made).toHaveLength(2);
});

// A socket opened ahead of any connection info (a view prepared for the service, no room): the join
// signs its hello when the info comes, and only when the info names the node it is open to.

const AHEAD_URL = 'ws://relay.test/ws/cobrowse/?role=replayer&ahead=1';
/** The connection info of a room on the node the socket was opened ahead to. */
const aheadInfo = { ...info, wssUrl: 'ws://relay.test/ws/cobrowse/r' };

/** A socket opened ahead, open or not, and a join's info for it; the channel is made as the join makes it. */
async function ahead(open: boolean, joinInfo: Promise<typeof info>) {
  ScriptedSocket.made = [];
  const park = new ParkedSocket(AHEAD_URL, false, () => undefined);
  const socket = ScriptedSocket.made[0]!;
  expect(socket.url).toBe(AHEAD_URL);
  if (open) {
    socket.serverOpens();
    expect(await park.opened).toBe(true);
  }
  park.sign(joinInfo, hello, false);
  const log: string[] = [];
  const made = new Channel({
    role: 'replayer',
    first: joinInfo,
    fetchInfo: async () => info,
    external: false,
    hello: () => hello,
    helloInUrl: true,
    WebSocket: park.handOver(),
  });
  made.on('welcome', () => log.push('welcome'));
  made.on('frame', ({ message }) => log.push(message.type));
  return { park, socket, made, log };
}

test("a socket opened ahead: the join's hello goes signed on it, once, when the info names its node", async () => {
  const { socket, made, log } = await ahead(true, Promise.resolve(aheadInfo));
  await tick();
  expect(socket.sent).toEqual([encodeText({ ...hello, signature: 's' })]);
  socket.serverSends(welcome);
  socket.serverSends(presence(1));
  await expect.poll(() => made.status).toBe('live');
  expect(log).toEqual(['welcome', 'presence']);
  // The channel's own hello on open was the plain one: not sent. No other socket was made.
  expect(socket.sent).toHaveLength(1);
  expect(ScriptedSocket.made).toHaveLength(1);
  // The channel reads the URL it asked for (a 4014 Moved reuses its path and signature), not the one opened ahead.
  const url = (made as unknown as { socket: { url: string } }).socket.url;
  expect(url).toContain('signature=s');
  expect(url).not.toContain('ahead=');
  made.close();
});

test('a socket opened ahead goes unsigned and closed when the info names another node, is not open yet, or fails', async () => {
  const cases: [string, boolean, () => Promise<typeof info>][] = [
    ['another node', true, async () => ({ ...aheadInfo, wssUrl: 'ws://other.test/ws/cobrowse/r' })],
    [
      'another path of the same origin',
      true,
      async () => ({ ...aheadInfo, wssUrl: 'ws://relay.test/node-b/ws/cobrowse/r' }),
    ],
    ['not open yet', false, async () => aheadInfo],
    ['a signature too long for a hello', true, async () => ({ ...aheadInfo, signature: 'x'.repeat(4000) })],
    ['no info', true, async () => Promise.reject(new Error('refused'))],
  ];
  for (const [what, open, joinInfo] of cases) {
    const pending = joinInfo();
    pending.catch(() => undefined);
    const { socket, made } = await ahead(open, pending);
    await tick();
    expect(socket.sent, what).toEqual([]);
    expect(socket.closedWith, what).toBe(1000);
    if (what !== 'no info') {
      // The channel opened its own socket, signed in its URL.
      await expect.poll(() => ScriptedSocket.made.length, { message: what }).toBe(2);
      expect(ScriptedSocket.made[1]!.url, what).toContain('signature=');
      expect(ScriptedSocket.made[1]!.url, what).toContain('hello=');
    }
    made.close();
  }
});
