import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect, test } from '@playwright/test';

/**
 * Tests stay inside their own package: a package's tests import its own sources, the protocol (and
 * the browser client the package depends on), third-party modules and test-support/, never another
 * package's sources; e2e/ and bench/ share helpers through test-support/, not through each other.
 */
const root = fileURLToPath(new URL('../../', import.meta.url));

function files(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return entry.name === 'node_modules' || entry.name === 'pages' ? [] : files(path);
    return /\.(ts|mjs)$/.test(entry.name) ? [path] : [];
  });
}

function specifiers(text: string): string[] {
  return [
    ...text.matchAll(/^\s*(?:import|export)\s[^;]*?\sfrom\s+'([^']+)'/gm),
    ...text.matchAll(/^\s*import\s+'([^']+)'/gm),
    ...text.matchAll(/\bimport\(\s*'([^']+)'\s*\)/g),
  ].map((m) => m[1]!);
}

test("a package's tests import only their own package, the protocol (and client) and test-support", () => {
  const wrong: string[] = [];
  for (const dir of readdirSync(join(root, 'packages'))) {
    const base = join(root, 'packages', dir);
    const pkg = JSON.parse(readFileSync(join(base, 'package.json'), 'utf8'));
    const allowed = new Set([pkg.name, '@cobrowse/protocol']);
    if (pkg.dependencies?.['@cobrowse/client']) allowed.add('@cobrowse/client');
    for (const file of existsSync(join(base, 'test')) ? files(join(base, 'test')) : []) {
      for (const spec of specifiers(readFileSync(file, 'utf8'))) {
        const ok = spec.startsWith('.')
          ? [base, join(root, 'test-support')].some((d) => resolve(dirname(file), spec).startsWith(`${d}/`))
          : !spec.startsWith('@cobrowse/') || allowed.has(spec.split('/').slice(0, 2).join('/'));
        if (!ok) wrong.push(`${relative(root, file)} imports ${spec}`);
      }
    }
  }
  expect(wrong).toEqual([]);
});

test('e2e and bench do not import each other', () => {
  const wrong: string[] = [];
  for (const [from, other] of [
    ['e2e', 'bench'],
    ['bench', 'e2e'],
  ] as const)
    for (const file of files(join(root, from)))
      for (const spec of specifiers(readFileSync(file, 'utf8')))
        if (spec.startsWith('.') && resolve(dirname(file), spec).startsWith(join(root, other) + '/'))
          wrong.push(`${relative(root, file)} imports ${spec}`);
  expect(wrong).toEqual([]);
});
