import { readFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import type { OutputOptions, Plugin, RollupOptions } from 'rollup';
import esbuild, { minify } from 'rollup-plugin-esbuild';
import { nodeResolve } from '@rollup/plugin-node-resolve';
import commonjs from '@rollup/plugin-commonjs';
import { rrwebUntainted } from './build/rrweb-untainted.ts';

/** `import text from 'x.css'` yields the file's text (the replayer injects rrweb's styles itself). */
const cssText: Plugin = {
  name: 'css-text',
  transform(code, id) {
    if (id.endsWith('.css')) return { code: `export default ${JSON.stringify(code)};`, map: null };
    return null;
  },
};

function dependencies(dir: string): string[] {
  const pkg = JSON.parse(readFileSync(`packages/${dir}/package.json`, 'utf8'));
  return [...Object.keys(pkg.dependencies ?? {}), ...Object.keys(pkg.peerDependencies ?? {})];
}

/** ESM build of a package: its own modules bundled, its dependencies left as imports. */
function esm(dir: string, inputs: Record<string, string>, platform: 'browser' | 'node'): RollupOptions {
  const deps = dependencies(dir);
  const external = (id: string) =>
    !id.endsWith('.css') &&
    (id.startsWith('node:') || builtinModules.includes(id) || deps.some((d) => id === d || id.startsWith(`${d}/`)) || id.startsWith('@rrweb/'));
  return {
    input: Object.fromEntries(Object.entries(inputs).map(([name, file]) => [name, `packages/${dir}/src/${file}`])),
    external,
    plugins: [cssText, nodeResolve({ preferBuiltins: platform === 'node' }), esbuild({ target: platform === 'node' ? 'node20' : 'es2020' })],
    output: { dir: `packages/${dir}/dist`, format: 'es', entryFileNames: '[name].js', chunkFileNames: 'chunks/[name]-[hash].js', sourcemap: true },
  };
}

/** Script-tag build: everything bundled (rrweb with the fix in build/rrweb-untainted.ts), minified, one global. */
function iife(dir: string, file: string, name: string): RollupOptions {
  const output: OutputOptions = { file: `packages/${dir}/dist/${file}`, format: 'iife', name, sourcemap: true, plugins: [minify({ target: 'es2020' })] };
  return {
    input: `packages/${dir}/src/index.ts`,
    plugins: [cssText, rrwebUntainted(), nodeResolve({ browser: true }), commonjs(), esbuild({ target: 'es2020' })],
    output,
  };
}

export default [
  esm('protocol', { index: 'index.ts', 'client/index': 'client/index.ts' }, 'browser'),
  esm('recorder', { index: 'index.ts' }, 'browser'),
  esm('replayer', { index: 'index.ts' }, 'browser'),
  esm('relay', { index: 'index.ts', cli: 'cli.ts' }, 'node'),
  iife('recorder', 'recorder.iife.js', 'CobrowseRecorder'),
  iife('replayer', 'replayer.iife.js', 'CobrowseReplayer'),
] satisfies RollupOptions[];
