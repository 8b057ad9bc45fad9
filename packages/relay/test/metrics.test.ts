import { expect, test } from '@playwright/test';
import { connect } from 'node:net';
import { CloseCode } from '@cobrowse/protocol';
import { relayFor } from './helpers.js';
import { batch, joinRoom, openSocket } from './sockets.js';

const OPERATOR = 'operator-token-0123456789';
const auth = { authorization: `Bearer ${OPERATOR}` };

/** Scrapes /metrics and reads one sample's value (0 when absent). */
async function scrape(base: string): Promise<(name: string) => number> {
  const response = await fetch(`${base}/metrics`, { headers: auth });
  expect(response.status).toBe(200);
  const text = await response.text();
  return (name) => {
    const line = text.split('\n').find((l) => l.startsWith(`${name} `));
    return line ? Number(line.slice(name.length + 1)) : 0;
  };
}

test('/metrics needs the operator credential: 401 without, 403 with a wrong one, Prometheus text with it', async () => {
  const relay = await relayFor({ operatorToken: OPERATOR });
  try {
    const none = await fetch(`${relay.base}/metrics`);
    expect(none.status).toBe(401);
    expect(none.headers.get('www-authenticate')).toMatch(/^Bearer/);
    expect(await none.text()).not.toContain('cobrowse_');
    const wrong = await fetch(`${relay.base}/metrics`, { headers: { authorization: 'Bearer nope' } });
    expect(wrong.status).toBe(403);
    expect(await wrong.text()).not.toContain('cobrowse_');
    // `dev` is not an operator credential outside --dev.
    expect((await fetch(`${relay.base}/metrics`, { headers: { authorization: 'Bearer dev' } })).status).toBe(403);
    const ok = await fetch(`${relay.base}/metrics`, { headers: auth });
    expect(ok.status).toBe(200);
    expect(ok.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    expect(ok.headers.get('cache-control')).toBe('no-store');
    const text = await ok.text();
    for (const name of [
      'cobrowse_rooms',
      'cobrowse_sockets',
      'cobrowse_messages_received_total',
      'cobrowse_messages_sent_total',
      'cobrowse_bytes_received_total',
      'cobrowse_bytes_sent_total',
      'cobrowse_fanout_seconds',
      'cobrowse_refusals_total',
      'cobrowse_cache_bytes',
      'cobrowse_ready',
      // default process metrics
      'process_cpu_user_seconds_total',
      'nodejs_heap_size_used_bytes',
    ])
      expect(text).toContain(`# TYPE ${name} `);
  } finally {
    await relay.close();
  }
});

test('a relay without an operator token answers /metrics only under --dev, with "dev"', async () => {
  const plain = await relayFor();
  const dev = await relayFor({ dev: true });
  try {
    expect((await fetch(`${plain.base}/metrics`, { headers: { authorization: 'Bearer dev' } })).status).toBe(403);
    expect((await fetch(`${dev.base}/metrics`, { headers: { authorization: 'Bearer dev' } })).status).toBe(200);
  } finally {
    await Promise.all([plain.close(), dev.close()]);
  }
});

test('the counters move when a recorder and an agent exchange frames, and name no room or user', async () => {
  const relay = await relayFor({ operatorToken: OPERATOR });
  const other = await relayFor({ operatorToken: OPERATOR }); // a second relay in the process keeps its own figures
  try {
    const before = await scrape(relay.base);
    expect(before('cobrowse_rooms')).toBe(0);
    expect(before('cobrowse_ready')).toBe(1);

    const recorder = await joinRoom(relay.base, 'metrics-room-7', 'recorder');
    const agent = await joinRoom(relay.base, 'metrics-room-7', 'replayer');
    const BATCHES = 24;
    for (let seq = 1; seq <= BATCHES; seq++) recorder.ws.send(batch(seq, seq === 1));
    await agent.next((frame) => frame.startsWith(`{"type":"events","epoch":"ep1","seq":${BATCHES}`));
    agent.ws.send(JSON.stringify({ type: 'request-snapshot' }));
    await recorder.next((frame) => frame.startsWith('{"type":"request-snapshot"'));

    const after = await scrape(relay.base);
    expect(after('cobrowse_rooms')).toBe(1);
    expect(after('cobrowse_sockets{role="recorder"}')).toBe(1);
    expect(after('cobrowse_sockets{role="replayer"}')).toBe(1);
    // hello + the batches from the customer; hello + request-snapshot from the agent
    expect(after('cobrowse_messages_received_total{role="recorder"}')).toBe(1 + BATCHES);
    expect(after('cobrowse_messages_received_total{role="replayer"}')).toBe(2);
    expect(after('cobrowse_bytes_received_total{role="recorder"}')).toBeGreaterThan(BATCHES * 20);
    expect(after('cobrowse_messages_sent_total')).toBe(BATCHES);
    expect(after('cobrowse_bytes_sent_total')).toBeGreaterThan(BATCHES * 20);
    expect(after('cobrowse_fanout_seconds_count')).toBeGreaterThanOrEqual(2); // one frame in 8 is timed
    expect(after('cobrowse_fanout_seconds_sum')).toBeGreaterThan(0);
    expect(after('cobrowse_cache_bytes')).toBeGreaterThan(0);

    // The other relay saw none of it.
    const elsewhere = await scrape(other.base);
    expect(elsewhere('cobrowse_rooms')).toBe(0);
    expect(elsewhere('cobrowse_messages_received_total{role="recorder"}')).toBe(0);

    const text = await (await fetch(`${relay.base}/metrics`, { headers: auth })).text();
    expect(text).not.toContain('metrics-room-7');
    expect(text).not.toContain('recorder-1');
    expect(text).not.toContain('replayer name');
    recorder.ws.close();
    agent.ws.close();
  } finally {
    await Promise.all([relay.close(), other.close()]);
  }
});

test('refusals are counted by reason: upgrade status, HTTP status and the close code of a refused socket', async () => {
  const relay = await relayFor({ operatorToken: OPERATOR });
  try {
    const forged = await openSocket(relay.base, '/ws/cobrowse/r1?role=recorder&signature=forged');
    expect(forged).toEqual({ refused: 400 });
    const unsigned = await openSocket(relay.base, '/ws/cobrowse/r1?role=recorder');
    expect(unsigned).toEqual({ refused: 401 });
    expect((await fetch(`${relay.base}/no/such/path`)).status).toBe(404);
    // A request the HTTP parser refuses (headers over 16 KiB) counts too.
    const huge = await new Promise<string>((resolve) => {
      const socket = connect(Number(new URL(relay.base).port), '127.0.0.1', () =>
        socket.write(`GET / HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`),
      );
      let answer = '';
      socket.on('data', (chunk) => (answer += chunk));
      socket.on('close', () => resolve(answer));
      socket.on('error', () => resolve(answer));
    });
    expect(huge).toMatch(/^HTTP\/1\.1 431/);
    // An agent may not send events: its socket is closed with 4003.
    const agent = await joinRoom(relay.base, 'r2', 'replayer');
    agent.ws.send(batch(1, true));
    expect((await agent.closed).code).toBe(CloseCode.Forbidden);

    const after = await scrape(relay.base);
    expect(after('cobrowse_refusals_total{kind="upgrade",code="400"}')).toBe(1);
    expect(after('cobrowse_refusals_total{kind="upgrade",code="401"}')).toBe(1);
    expect(after('cobrowse_refusals_total{kind="http",code="404"}')).toBe(1);
    expect(after('cobrowse_refusals_total{kind="http",code="431"}')).toBe(1);
    expect(after(`cobrowse_refusals_total{kind="socket",code="${CloseCode.Forbidden}"}`)).toBe(1);
  } finally {
    await relay.close();
  }
});
