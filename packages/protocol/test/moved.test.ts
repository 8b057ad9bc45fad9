import { expect, test } from '@playwright/test';
import { CloseCode, movedUrl } from '../src/index.js';

const current = 'ws://10.0.0.1:8787/ws/cobrowse/room-1?role=recorder&signature=abc.def';

test('4014 Moved: the next URL is the named node with the same endpoint path and query', () => {
  expect(CloseCode.Moved).toBe(4014);
  expect(movedUrl(current, 'ws://10.0.0.2:8787')).toBe(
    'ws://10.0.0.2:8787/ws/cobrowse/room-1?role=recorder&signature=abc.def',
  );
  expect(movedUrl(current, 'ws://[::1]:9000')).toBe(
    'ws://[::1]:9000/ws/cobrowse/room-1?role=recorder&signature=abc.def',
  );
  expect(movedUrl(current, 'wss://node-b.example')).toBe(
    'wss://node-b.example/ws/cobrowse/room-1?role=recorder&signature=abc.def',
  );
  const passphrase = 'wss://a.example/services/CoBrowse/sockjs/cobrowse/customer/pp-1?signature=s';
  expect(movedUrl(passphrase, 'wss://b.example')).toBe(
    'wss://b.example/services/CoBrowse/sockjs/cobrowse/customer/pp-1?signature=s',
  );
});

test('4014 Moved: anything but a plain ws(s) base URL, and any wss → ws downgrade, is not followed', () => {
  for (const reason of [
    '',
    'not a url',
    'http://10.0.0.2:8787',
    'https://node-b.example',
    'javascript:alert(1)',
    'ws://user:pass@10.0.0.2',
    'ws://evil.example@10.0.0.2',
    'ws://10.0.0.2/?signature=other',
    'ws://10.0.0.2/#x',
    // A base URL with a path (a proxy's per-node prefix) is not followed: fresh connection info names it.
    'wss://lb.example/node-b',
    'wss://node-b.example/',
    'ws://a\\b',
    'WS://10.0.0.2',
    'ws://10.0.0.2 ',
  ])
    expect(movedUrl(current, reason)).toBeUndefined();
  expect(movedUrl('wss://a.example/ws/cobrowse/r?signature=s', 'ws://b.example')).toBeUndefined();
  expect(movedUrl('ws://a.example/ws/cobrowse/r?signature=s', 'wss://b.example')).toBe(
    'wss://b.example/ws/cobrowse/r?signature=s',
  );
});
