import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { expect, test } from '@playwright/test';
import { patchRrwebSource } from '../rrweb-untainted.js';

const rrwebJs = createRequire(import.meta.url)
  .resolve('rrweb')
  .replace(/rrweb\.cjs$/, 'rrweb.js');

test("the bundle's rrweb checks querySelector/querySelectorAll as methods, in every copy of the helper", () => {
  const source = readFileSync(rrwebJs, 'utf8');
  const { code, patched } = patchRrwebSource(source);
  // rrweb 2.2.2 inlines the helper three times (rrweb-snapshot for record, for replay, and @rrweb/utils).
  expect(patched).toBe(3);
  expect(code).not.toMatch(/"shadowRoot",\s*"querySelector"/);
  expect(code.match(/Element: \["querySelector", "querySelectorAll"\]/g)?.length).toBe(3);
  // Nothing else changed: undoing the two edits gives rrweb's text back.
  const undone = code
    .replace(
      /\tElement: \[\n\t\t"shadowRoot"\n\t\]/g,
      '\tElement: [\n\t\t"shadowRoot",\n\t\t"querySelector",\n\t\t"querySelectorAll"\n\t]',
    )
    .replace(/Element: \["querySelector", "querySelectorAll"\]/g, 'Element: []');
  expect(undone).toBe(source);
  // Already fixed (or patched twice): nothing to do.
  expect(patchRrwebSource(code).patched).toBe(0);
});
