import { expect, test } from '@playwright/test';
import type { eventWithTime } from '@rrweb/types';
import { NodeGuard, TooLargeError, resolveLimits } from '../src/limits.js';
import { sanitizeEvent } from '../src/sanitize.js';
import { el as element, fullSnapshot } from './fixtures.js';

/** Elements with ids of their own (the guard knows nodes by id). */
let nextId = 1;
const el = (tag: string, attributes: Record<string, unknown>, children: unknown[] = []) => ({
  ...element(tag, attributes, children),
  id: nextId++,
});

/** A guard over an empty replay: nothing live, every node unknown. */
const guard = (limits: { maxNodes?: number; maxDepth?: number }) =>
  new NodeGuard(
    resolveLimits(limits),
    () => 0,
    () => undefined,
    () => undefined,
  );

const rows = (n: number) => Array.from({ length: n }, (_, i) => el('p', { id: `r${i}`, onclick: 'alert(1)' }));
const mutation = (parentId: number, node: unknown): eventWithTime =>
  ({
    type: 3,
    timestamp: 1,
    data: { source: 0, adds: [{ parentId, nextId: null, node }], removes: [], texts: [], attributes: [] },
  }) as unknown as eventWithTime;

/** The size checks run inside the sanitizer's walk (one pass over a snapshot's nodes): both still hold. */
function sanitizeChecked(g: NodeGuard, event: eventWithTime): eventWithTime {
  const watch = g.watch(event);
  sanitizeEvent(event, g.tagOf, { checks: watch?.visitor });
  watch?.done();
  return event;
}

test('one walk: a snapshot within the limits is cleaned, and its nodes are known to the guard before it is applied', () => {
  const g = guard({ maxNodes: 100 });
  const event = sanitizeChecked(g, fullSnapshot(el('html', {}, [el('body', { id: 'b' }, rows(10))])));
  expect(JSON.stringify(event)).not.toContain('onclick');
  const body = (event.data as { node: { childNodes: { childNodes: { id: number }[] }[] } }).node.childNodes[0]!
    .childNodes[0]!;
  expect(g.tagOf(body.id)).toBe('body');
});

test('one walk: a snapshot past maxNodes or maxDepth throws TooLargeError before anything is applied', () => {
  expect(() =>
    sanitizeChecked(guard({ maxNodes: 20 }), fullSnapshot(el('html', {}, [el('body', {}, rows(30))]))),
  ).toThrow(TooLargeError);
  let deep: unknown = el('i', {});
  for (let i = 0; i < 50; i++) deep = el('div', {}, [deep]);
  expect(() => sanitizeChecked(guard({ maxDepth: 30 }), fullSnapshot(el('html', {}, [deep])))).toThrow(
    /deeper than 30/,
  );
});

test('one walk: mutations count on top of the snapshot handed over before them, and are cleaned', () => {
  const g = guard({ maxNodes: 40 });
  const snapshot = fullSnapshot(el('html', {}, [el('body', {}, rows(20))]));
  sanitizeChecked(g, snapshot);
  const small = sanitizeChecked(g, mutation(2, el('section', { onmouseover: 'alert(1)' }, rows(5))));
  expect(JSON.stringify(small)).not.toContain('alert(1)');
  expect(() => sanitizeChecked(g, mutation(2, el('section', {}, rows(30))))).toThrow(/more than 40 nodes/);
});

test('mutations: the depth of a live parent is looked up once an event, and a parent added by the same event counts from its own depth', () => {
  let lookups = 0;
  const g = new NodeGuard(
    resolveLimits({ maxDepth: 10 }),
    () => 0,
    (id) => (lookups++, id === 7 ? 8 : undefined),
    () => undefined,
  );
  const adds = Array.from({ length: 100 }, (_, i) => ({
    parentId: 7,
    nextId: null,
    node: el('span', { id: `s${i}` }),
  }));
  const many = { type: 3, timestamp: 1, data: { source: 0, adds, removes: [], texts: [], attributes: [] } };
  sanitizeChecked(g, many as unknown as eventWithTime);
  expect(lookups).toBe(1);
  // A parent at depth 9 (added under the live node at depth 8), then a child of it at 10, then one at 11: too deep.
  const parent = el('div', {});
  const child = el('div', {});
  const chain = (n: number) => ({
    type: 3,
    timestamp: 1,
    data: {
      source: 0,
      adds: [
        { parentId: 7, nextId: null, node: parent },
        { parentId: parent.id, nextId: null, node: child },
        ...(n > 2 ? [{ parentId: child.id, nextId: null, node: el('b', {}) }] : []),
      ],
      removes: [],
      texts: [],
      attributes: [],
    },
  });
  expect(() => sanitizeChecked(g, chain(2) as unknown as eventWithTime)).not.toThrow();
  expect(() => sanitizeChecked(g, chain(3) as unknown as eventWithTime)).toThrow(/deeper than 10/);
});
