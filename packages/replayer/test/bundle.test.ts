import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { expect, test } from '@playwright/test';

// The replayer's script tag asks V8 to compile every function as the script loads (an agent's first
// join runs most of the bundle); the customer's recorder does not (its page pays for what it loads).

const read = (path: string) => readFileSync(fileURLToPath(new URL(path, import.meta.url)), 'utf8');
const replayer = read('../dist/replayer.iife.js');
const map = JSON.parse(read('../dist/replayer.iife.js.map')) as { sources: string[]; mappings: string };

const BASE64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';

/** The source file a generated position maps to (source maps v3: base64 VLQ segments, relative fields). */
function sourceAt(line: number, column: number): string | undefined {
  let source = 0;
  let found: number | undefined;
  const lines = map.mappings.split(';');
  for (let l = 0; l <= line && l < lines.length; l++) {
    let generated = 0;
    for (const segment of lines[l]!.split(',')) {
      if (!segment) continue;
      const fields: number[] = [];
      let value = 0;
      let shift = 0;
      for (const char of segment) {
        const digit = BASE64.indexOf(char);
        value += (digit & 31) << shift;
        if (digit & 32) shift += 5;
        else {
          fields.push(value & 1 ? -(value >>> 1) : value >>> 1);
          value = 0;
          shift = 0;
        }
      }
      generated += fields[0]!;
      if (fields.length > 1) source += fields[1]!;
      if (l === line && generated <= column && fields.length > 1) found = source;
    }
  }
  return found === undefined ? undefined : map.sources[found];
}

test("the replayer's script tag starts with V8's compile hint, and its source map still points into the sources", () => {
  expect(replayer.startsWith('//# allFunctionsCalledOnLoad\n')).toBe(true);
  for (const [text, file] of [
    ['this prepared view', 'src/prepare.ts'],
    ['Waiting for the customer', 'src/session.ts'],
  ] as const) {
    const at = replayer.indexOf(text);
    expect(at).toBeGreaterThan(0);
    const before = replayer.slice(0, at);
    const line = before.split('\n').length - 1;
    const column = at - (before.lastIndexOf('\n') + 1);
    expect(line).toBeGreaterThan(0);
    expect(sourceAt(line, column)).toMatch(new RegExp(`${file.replace('.', '\\.')}$`));
  }
});

test("the recorder's script tag carries no compile hint (the customer's page compiles only what it runs)", () => {
  const recorder = read('../../recorder/dist/recorder.iife.js');
  expect(recorder).not.toContain('allFunctionsCalledOnLoad');
});
