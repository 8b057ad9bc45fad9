import { readFileSync, readdirSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect, test } from '@playwright/test';

/**
 * No import cycles in the packages' sources, type-only imports included (a cycle of types still
 * ties two modules' designs together). Relative imports only: packages import each other through
 * their package names, and the workspace graph is acyclic by construction (checked below).
 */
const root = fileURLToPath(new URL('../../', import.meta.url));
const packagesDir = join(root, 'packages');

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sources(path);
    return /\.ts$/.test(entry.name) && !entry.name.endsWith('.d.ts') ? [path] : [];
  });
}

/** Module specifiers of every import/export ... from, side-effect import and dynamic import. */
function specifiers(text: string): string[] {
  return [
    ...text.matchAll(/^\s*(?:import|export)\s[^;]*?\sfrom\s+'([^']+)'/gm),
    ...text.matchAll(/^\s*import\s+'([^']+)'/gm),
    ...text.matchAll(/\bimport\(\s*'([^']+)'\s*\)/g),
  ].map((m) => m[1]!);
}

/** Every cycle found by a depth-first walk (each reported once, from its first module in walk order). */
function cycles(graph: Map<string, string[]>): string[][] {
  const found: string[][] = [];
  const state = new Map<string, 'open' | 'done'>();
  const stack: string[] = [];
  const visit = (node: string) => {
    state.set(node, 'open');
    stack.push(node);
    for (const next of graph.get(node) ?? []) {
      if (state.get(next) === 'open') found.push([...stack.slice(stack.indexOf(next)), next]);
      else if (!state.has(next)) visit(next);
    }
    stack.pop();
    state.set(node, 'done');
  };
  for (const node of graph.keys()) if (!state.has(node)) visit(node);
  return found;
}

test('no import cycles between the modules of any package', () => {
  const graph = new Map<string, string[]>();
  for (const file of sources(packagesDir).filter((f) => f.includes('/src/'))) {
    const edges = specifiers(readFileSync(file, 'utf8'))
      .filter((s) => s.startsWith('.'))
      .map((s) => resolve(dirname(file), s.replace(/\.js$/, '.ts')));
    graph.set(file, edges);
  }
  expect(graph.size).toBeGreaterThan(50);
  const found = cycles(graph).map((cycle) => cycle.map((f) => relative(packagesDir, f)).join(' → '));
  expect(found).toEqual([]);
});

test('no cycles between the packages; the protocol imports none of them', () => {
  const graph = new Map<string, string[]>();
  for (const dir of readdirSync(packagesDir)) {
    const pkg = JSON.parse(readFileSync(join(packagesDir, dir, 'package.json'), 'utf8'));
    graph.set(
      pkg.name,
      Object.keys({ ...pkg.dependencies, ...pkg.devDependencies }).filter((d) => d.startsWith('@cobrowse/')),
    );
  }
  expect(cycles(graph)).toEqual([]);
  expect(graph.get('@cobrowse/protocol')).toEqual([]);
  expect(graph.get('@cobrowse/relay')).toEqual(['@cobrowse/protocol']);
});

test('the cycle finder finds a cycle', () => {
  const graph = new Map([
    ['a', ['b']],
    ['b', ['c']],
    ['c', ['a']],
    ['d', ['a']],
  ]);
  expect(cycles(graph)).toEqual([['a', 'b', 'c', 'a']]);
});
