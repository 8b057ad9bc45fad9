import { expect, test } from '@playwright/test';
import {
  NESTED_ADDS,
  NestedAddsError,
  expandNestedAdds,
  isNestedAdds,
  markNestedAdds,
  walkEvent,
} from '../src/index.js';

interface N {
  type: number;
  id: number;
  tagName?: string;
  attributes?: Record<string, unknown>;
  textContent?: string;
  isShadow?: boolean;
  childNodes?: N[];
}
interface Add {
  parentId: number;
  nextId: number | null;
  node: N;
}

const el = (tagName: string, id: number, childNodes: N[] = [], extra: Partial<N> = {}): N => ({
  type: 2,
  tagName,
  attributes: {},
  childNodes,
  id,
  ...extra,
});
const text = (id: number, textContent: string): N => ({ type: 3, textContent, id });

/** The recorder's flattening before nested adds (snapshot-slices.ts' pushTree): the reference. */
function pushTree(adds: Add[], parentId: number, nextId: number | null, node: N): void {
  const children = node.childNodes;
  if (children?.length) node.childNodes = [];
  adds.push({ parentId, nextId, node });
  if (children) for (const child of children) pushTree(adds, node.id, null, child);
}

const mutation = (adds: unknown, extra: Record<string, unknown> = {}) => ({
  type: 3,
  timestamp: 7,
  data: Object.assign(markNestedAdds({ source: 0, texts: [], attributes: [], removes: [], adds }), extra),
});

/** Subtrees as a slice sends them: last child first, each naming the next sibling the agent has. */
function subtrees(): Add[] {
  const row = (base: number) =>
    el('tr', base, [el('td', base + 1, [text(base + 2, `cell ${base}`)]), el('td', base + 3, [text(base + 4, 'x')])]);
  return [
    { parentId: 10, nextId: null, node: el('tbody', 100, [row(200), row(300), text(101, '\n')]) },
    {
      parentId: 10,
      nextId: 100,
      node: el('my-card', 400, [el('span', 401, [text(402, 'shadow')], { isShadow: true }), text(403, 'light')]),
    },
    { parentId: 10, nextId: 400, node: text(500, 'alone') },
    { parentId: 11, nextId: 12, node: el('br', 600) },
  ];
}

test('a nested mutation expands to exactly the flat adds the recorder used to send (pushTree)', () => {
  const want: Add[] = [];
  for (const add of subtrees()) pushTree(want, add.parentId, add.nextId, add.node);
  const event = mutation(subtrees());
  expect(isNestedAdds(event)).toBe(true);
  const out = expandNestedAdds(event);
  expect(out).toBe(event);
  expect(JSON.stringify(event.data.adds)).toBe(JSON.stringify(want));
  expect(want.length).toBe(18);
  // Unmarked afterwards: plain rrweb's mutation, and a second expansion changes nothing.
  expect(NESTED_ADDS in event.data).toBe(false);
  expect(isNestedAdds(event)).toBe(false);
  const again = JSON.stringify(event);
  expandNestedAdds(event);
  expect(JSON.stringify(event)).toBe(again);
});

test('nested adds are smaller than flat ones: no parentId/nextId per node', () => {
  const rows = Array.from({ length: 200 }, (_, i) =>
    el('tr', 1000 + i * 5, [el('td', 1001 + i * 5, [text(1002 + i * 5, `#${i}`)]), el('td', 1003 + i * 5)]),
  );
  const nested = JSON.stringify(mutation([{ parentId: 1, nextId: null, node: el('tbody', 999, rows) }]));
  const flat = JSON.stringify(expandNestedAdds(JSON.parse(nested)));
  expect(nested.length).toBeLessThan(flat.length * 0.75);
});

test('what is not a marked mutation passes untouched, an iframe document (rrweb nests those itself) included', () => {
  const attach = {
    type: 3,
    timestamp: 1,
    data: {
      source: 0,
      isAttachIframe: true,
      texts: [],
      attributes: [],
      removes: [],
      adds: [{ parentId: 5, nextId: null, node: { type: 0, id: 6, childNodes: [el('html', 7)] } }],
    },
  };
  const snapshot = { type: 2, timestamp: 1, data: { node: { type: 0, id: 1, childNodes: [el('html', 2)] } } };
  for (const event of [attach, snapshot, { type: 3, data: { source: 2 } }, null, 'x', { type: 3 }]) {
    const before = JSON.stringify(event);
    expect(expandNestedAdds(event)).toBe(event);
    expect(JSON.stringify(event)).toBe(before);
  }
});

test('the shared walk (sanitizer, size limits, asset scan) visits every node of a nested add, with its depth', () => {
  const depths = new Map<number, number>();
  walkEvent(mutation(subtrees()), {
    add: () => 3,
    node: (node, depth) => void depths.set(node.id!, depth),
  });
  expect(depths.size).toBe(18);
  expect(depths.get(100)).toBe(3);
  expect(depths.get(202)).toBe(6); // tbody > tr > td > text
});

/** Throws a NestedAddsError of `reason`, and leaves the event as it was. */
function refused(event: { data: unknown }, reason: string, limits?: { maxNodes: number; maxDepth: number }): string {
  const before = JSON.stringify(event);
  let error: unknown;
  try {
    expandNestedAdds(event, limits);
  } catch (e) {
    error = e;
  }
  expect(error).toBeInstanceOf(NestedAddsError);
  expect((error as NestedAddsError).reason).toBe(reason);
  expect(JSON.stringify(event)).toBe(before);
  return (error as Error).message;
}

test('attack: a subtree nested 200,000 deep is refused by its depth, without recursion', () => {
  let deep: N = text(300_000, 'bottom');
  for (let i = 200_000; i > 0; i--) deep = el('div', i, [deep]);
  const event = mutation([{ parentId: 1, nextId: null, node: deep }]);
  let error: unknown;
  try {
    expandNestedAdds(event);
  } catch (e) {
    error = e;
  }
  expect(error).toBeInstanceOf(NestedAddsError);
  expect((error as NestedAddsError).reason).toBe('depth');
  expect((error as NestedAddsError).limit).toBe(1000);
  // Unchanged: one add, its chain whole.
  expect(event.data.adds).toHaveLength(1);
  let node: N | undefined = deep;
  for (let i = 0; i < 200_000; i++) node = node?.childNodes?.[0];
  expect(node?.textContent).toBe('bottom');
  expect(
    refused(mutation([{ parentId: 1, nextId: null, node: el('a', 2, [el('b', 3, [el('c', 4)])]) }]), 'depth', {
      maxNodes: 10,
      maxDepth: 1,
    }),
  ).toMatch(/deeper than 1 levels/);
});

test('attack: more nodes than a page may have, over all of the adds, are refused', () => {
  const wide = (base: number) =>
    el(
      'ul',
      base,
      Array.from({ length: 600 }, (_, i) => el('li', base + 1 + i)),
    );
  const event = mutation([
    { parentId: 1, nextId: null, node: wide(10_000) },
    { parentId: 1, nextId: null, node: wide(20_000) },
  ]);
  expect(refused(event, 'nodes', { maxNodes: 1000, maxDepth: 100 })).toMatch(/more than 1000 nodes/);
  expect(expandNestedAdds(event, { maxNodes: 1202, maxDepth: 100 }).data.adds).toHaveLength(1202);
});

test('attack: malformed nested adds are refused with a clear error, and nothing is changed', () => {
  const ok = () => el('div', 2, [text(3, 'a')]);
  const cases: [unknown, Record<string, unknown>, RegExp][] = [
    ['not a list', {}, /adds is not an array/],
    [[null], {}, /without a node/],
    [[{ parentId: 1, nextId: null }], {}, /without a node/],
    [[{ parentId: '1', nextId: null, node: ok() }], {}, /parentId/],
    [[{ parentId: 1, nextId: 'x', node: ok() }], {}, /nextId/],
    [[{ parentId: 1, nextId: null, node: el('div', 2, [{ type: 3 } as N]) }], {}, /valid id/],
    [[{ parentId: 1, nextId: null, node: el('div', 2, [text(-4, 'x')]) }], {}, /valid id/],
    [[{ parentId: 1, nextId: null, node: el('div', 2, ['text' as unknown as N]) }], {}, /not an rrweb node/],
    [[{ parentId: 1, nextId: null, node: { ...ok(), childNodes: { 0: text(3, 'x') } } }], {}, /not a list/],
    [[{ parentId: 1, nextId: null, node: el('div', 2, [text(2, 'same id')]) }], {}, /appears twice/],
    [
      [
        { parentId: 1, nextId: null, node: ok() },
        { parentId: 1, nextId: null, node: el('p', 9, [text(3, 'dup')]) },
      ],
      {},
      /node 3 appears twice/,
    ],
    [[{ parentId: 1, nextId: null, node: ok() }], { isAttachIframe: true }, /iframe/],
    [[{ parentId: 1, nextId: null, node: ok() }], { [NESTED_ADDS]: 2 }, /unknown format 2/],
  ];
  for (const [adds, extra, message] of cases)
    expect(refused(mutation(adds, extra), 'malformed'), String(message)).toMatch(message);
  // A cycle (objects, not JSON) ends as a repeated id, not a hang.
  const loop = el('div', 2);
  loop.childNodes = [el('span', 3, [loop])];
  const event = mutation([{ parentId: 1, nextId: null, node: loop }]);
  expect(() => expandNestedAdds(event)).toThrow(/node 2 appears twice/);
});
