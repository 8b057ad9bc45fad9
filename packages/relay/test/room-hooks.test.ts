import { expect, test } from '@playwright/test';
import { encodeText, signToken } from '@cobrowse/protocol';
import { TEST_SECRET, relayFor } from './helpers.js';
import { type Peer, enter } from './attack-support.js';

test('one owner starts and ends rooms; modules attach to its lifecycle events', async () => {
  const relay = await relayFor({ roomGraceMs: 50 });
  try {
    const seen: string[] = [];
    relay.rooms.on('opened', (room) => seen.push(`opened ${room.id}`));
    relay.rooms.on('joined', (room, member) => seen.push(`joined ${room.id} ${member.claims.role}`));
    relay.rooms.on('left', (room, member) => seen.push(`left ${room.id} ${member.claims.role}`));
    relay.rooms.on('ended', (room, reason) => seen.push(`ended ${room.id} ${reason}`));
    relay.rooms.on('closed', (room) => seen.push(`closed ${room.id}`));
    const url = relay.base.replace('http', 'ws');
    const sign = (room: string, role: 'recorder' | 'replayer') =>
      signToken(TEST_SECRET, { room, role, user: 'u', name: 'n' });
    const rec = (await enter(`${url}/ws/cobrowse/a`, await sign('a', 'recorder'), 'recorder')) as Peer;
    const agent = (await enter(`${url}/ws/cobrowse/a`, await sign('a', 'replayer'), 'replayer')) as Peer;
    rec.ws.send(encodeText({ type: 'bye', reason: 'done' }));
    await agent.closed;
    const lone = (await enter(`${url}/ws/cobrowse/b`, await sign('b', 'replayer'), 'replayer')) as Peer;
    lone.ws.close();
    await expect.poll(() => seen.includes('closed b')).toBe(true);
    expect(seen).toEqual([
      'opened a',
      'joined a recorder',
      'joined a replayer',
      'ended a done',
      'closed a',
      'opened b',
      'joined b replayer',
      'left b replayer',
      'closed b',
    ]);
  } finally {
    await relay.close();
  }
});
