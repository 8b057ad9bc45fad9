import { expect, test } from '@playwright/test';
import { ASSET_ATTRIBUTES, linkAssetKind, walkEvent, walkNode } from '../src/index.js';

const el = (tagName: string, id: number, attributes: Record<string, unknown> = {}, childNodes: unknown[] = []) => ({
  type: 2,
  tagName,
  id,
  attributes,
  childNodes,
});

test('walks a 20,000-deep tree without recursion, parents first, with depths', () => {
  let tree: ReturnType<typeof el> = el('b', 20_001);
  for (let i = 20_000; i > 0; i--) tree = el('div', i, {}, [tree]);
  let deepest = 0;
  let count = 0;
  walkNode(tree, {
    node: (_node, depth) => {
      count++;
      deepest = Math.max(deepest, depth);
    },
  });
  expect(count).toBe(20_001);
  expect(deepest).toBe(20_000);
});

test('attribute changes learn the tag of a node added in the same mutation, before the one the page had', () => {
  const seen: [number, string | undefined][] = [];
  const event = {
    type: 3,
    timestamp: 1,
    data: {
      source: 0,
      removes: [{ parentId: 1, id: 5 }],
      adds: [{ parentId: 1, nextId: null, node: el('base', 5) }],
      attributes: [
        { id: 5, attributes: { href: 'x' } },
        { id: 6, attributes: { src: 'y' } },
      ],
      texts: [],
    },
  };
  const removed: number[] = [];
  walkEvent(
    event,
    { attributes: (change, tag) => seen.push([change.id, tag]), remove: (id) => removed.push(id) },
    { tagOf: (id) => (id === 5 ? 'img' : 'p') },
  );
  expect(removed).toEqual([5]);
  expect(seen).toEqual([
    [5, 'base'],
    [6, 'p'],
  ]);
});

test('CSS of CSSOM events is handed over and can be replaced; malformed events are skipped, not thrown on', () => {
  const rules = { type: 3, timestamp: 1, data: { source: 8, id: 1, adds: [{ rule: 'a{}' }], replaceSync: 'b{}' } };
  const texts: string[] = [];
  walkEvent(rules, { css: (text) => (texts.push(text), `/*x*/${text}`) });
  expect(texts).toEqual(['a{}', 'b{}']);
  expect(rules.data.adds[0]!.rule).toBe('/*x*/a{}');
  for (const bad of [null, 1, { type: 2 }, { type: 3, data: { source: 0, adds: [null, 1], attributes: [{}] } }])
    expect(() => walkEvent(bad, { node: () => undefined, attributes: () => undefined })).not.toThrow();
});

test('one table of asset-bearing attributes', () => {
  expect(ASSET_ATTRIBUTES.img).toEqual(['src', 'srcset']);
  expect(ASSET_ATTRIBUTES.use).toContain('xlink:href');
  expect(ASSET_ATTRIBUTES.a).toBeUndefined();
  expect(ASSET_ATTRIBUTES.iframe).toBeUndefined();
  expect(linkAssetKind('preload stylesheet')).toBe('css');
  expect(linkAssetKind('shortcut icon')).toBe('image');
  expect(linkAssetKind('prefetch')).toBeUndefined();
});
