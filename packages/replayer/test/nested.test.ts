import { expect, test } from '@playwright/test';
import type { eventWithTime } from '@rrweb/types';
import { NestedAddsError, markNestedAdds } from '@cobrowse/protocol';
import { NodeGuard, TooLargeError, resolveLimits } from '../src/limits.js';
import { sanitizeEvent } from '../src/sanitize.js';
import { expandAdds } from '../src/nested.js';
import { el as element, fullSnapshot } from './fixtures.js';

/**
 * A sliced snapshot's nested adds on the live path, as LivePlayer.apply takes them: one walk (size
 * limits and sanitizer) over every node of the subtrees, then the expansion into rrweb's flat adds.
 */

let nextId = 1;
const el = (tag: string, attributes: Record<string, unknown>, children: unknown[] = []) => ({
  ...element(tag, attributes, children),
  id: nextId++,
});

const nested = (adds: { parentId: number; node: unknown }[]): eventWithTime =>
  ({
    type: 3,
    timestamp: 1,
    data: markNestedAdds({
      source: 0,
      adds: adds.map((add) => ({ ...add, nextId: null })),
      removes: [],
      texts: [],
      attributes: [],
    }),
  }) as unknown as eventWithTime;

function apply(guard: NodeGuard, event: eventWithTime, limits = resolveLimits({})): eventWithTime {
  const watch = guard.watch(event);
  sanitizeEvent(event, guard.tagOf, { checks: watch?.visitor });
  expandAdds(event, limits);
  watch?.done();
  return event;
}

const rows = (n: number) => Array.from({ length: n }, () => el('tr', { onclick: 'alert(1)' }, [el('td', {})]));

test('every node of a nested add is cleaned, counted and known by its tag, then expanded flat', () => {
  const limits = resolveLimits({ maxNodes: 100 });
  const guard = new NodeGuard(
    limits,
    () => 0,
    () => undefined,
    () => undefined,
  );
  const body = el('body', {});
  apply(guard, fullSnapshot(el('html', {}, [body])), limits);
  const tbody = el('tbody', {}, rows(10));
  const event = apply(guard, nested([{ parentId: body.id, node: tbody }]), limits);
  const adds = (event.data as unknown as { adds: { parentId: number; node: { id: number; childNodes: unknown[] } }[] })
    .adds;
  expect(adds).toHaveLength(21);
  expect(adds[0]!.node.id).toBe(tbody.id);
  expect(adds.every((add) => add.node.childNodes.length === 0)).toBe(true);
  expect(adds[1]!.parentId).toBe(tbody.id);
  expect(JSON.stringify(event)).not.toContain('alert(1)');
  const cell = adds[2]!.node.id;
  expect(guard.tagOf(cell)).toBe('td');
  // The nested nodes count toward the page's: 3 + 21 now, 80 more are too many.
  expect(() => apply(guard, nested([{ parentId: tbody.id, node: el('tbody', {}, rows(40)) }]), limits)).toThrow(
    /more than 100 nodes/,
  );
});

test('attack: a nested depth bomb under a deep live parent is refused as too large (TooLargeError) before anything is expanded', () => {
  const limits = resolveLimits({ maxDepth: 50 });
  const guard = new NodeGuard(
    limits,
    () => 10,
    (id) => (id === 5 ? 40 : undefined),
    () => 'div',
  );
  let deep: ReturnType<typeof el> = el('i', {});
  for (let i = 0; i < 20; i++) deep = el('div', {}, [deep]);
  const event = nested([{ parentId: 5, node: deep }]);
  let error: unknown;
  try {
    apply(guard, event, limits);
  } catch (e) {
    error = e;
  }
  expect(error).toBeInstanceOf(TooLargeError);
  expect((error as TooLargeError).reason).toBe('depth');
  expect((event.data as unknown as { adds: unknown[] }).adds).toHaveLength(1);
  // 20,000 deep under an unknown parent: the same refusal, no stack overflow.
  for (let i = 0; i < 20_000; i++) deep = el('div', {}, [deep]);
  expect(() => apply(guard, nested([{ parentId: 999_999, node: deep }]), limits)).toThrow(TooLargeError);
});

test('the expansion on its own turns the protocol limits into TooLargeError, and malformed adds into NestedAddsError', () => {
  expect(() =>
    expandAdds(nested([{ parentId: 1, node: el('ul', {}, rows(10)) }]), { maxNodes: 5, maxDepth: 10 }),
  ).toThrow(TooLargeError);
  const twice = el('p', {});
  expect(() =>
    expandAdds(nested([{ parentId: 1, node: el('div', {}, [twice, twice]) }]), { maxNodes: 50, maxDepth: 10 }),
  ).toThrow(NestedAddsError);
  expect(() =>
    expandAdds(nested([{ parentId: 'x' as unknown as number, node: el('div', {}) }]), resolveLimits({})),
  ).toThrow(/parentId/);
});
