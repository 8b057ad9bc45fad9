import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { expect, test } from '@playwright/test';
import { patchRrwebSlices } from '../rrweb-sliced-snapshot.js';

const rrwebJs = createRequire(import.meta.url)
  .resolve('rrweb')
  .replace(/rrweb\.cjs$/, 'rrweb.js');

test("the recorder's rrweb asks before each child of a full snapshot's walk and exposes its serialiser", () => {
  const source = readFileSync(rrwebJs, 'utf8');
  const code = patchRrwebSlices(source);
  expect(code).toContain('if (cobrowseDefer && cobrowseDefer(n)) break;');
  expect(code).toContain('const node = snapshot(document, cobrowseOptions = {');
  expect(code).toMatch(/\nrecord\.cobrowse = \{\n\tdefer: /);
  // Only lines were added (and one assignment): rrweb's own text is all still there.
  expect(code.length - source.length).toBeLessThan(600);
});

test('a changed rrweb fails the build rather than shipping an unsliced snapshot', () => {
  const source = readFileSync(rrwebJs, 'utf8');
  expect(() =>
    patchRrwebSlices(source.replace('const node = snapshot(document, {', 'const node = snap(document, {')),
  ).toThrow(/expected one match of each pattern/);
  // Patched twice: the child loop no longer matches as rrweb wrote it.
  expect(() => patchRrwebSlices(patchRrwebSlices(source))).toThrow();
});
