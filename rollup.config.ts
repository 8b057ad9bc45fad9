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

/**
 * rrweb's single-file ESM build carries two copies of postcss (~38 KB gzipped) that only replay
 * uses (`adaptCssForReplay`); a bundler cannot drop them because of their top-level property reads.
 * The recorder's script-tag bundle swaps them for a stub that throws if ever called. Fails the build
 * if rrweb's layout changes, so the bundle never silently grows back.
 */
const POSTCSS_BLOCK =
  /var (import_postcss(?:\$\d+)?) = \/\* @__PURE__ \*\/ __toESM(?:\$\d+)?\(\(\/\* @__PURE__ \*\/ __commonJSMin(?:\$\d+)?\(\(\(exports, module\) => \{\n[\s\S]*?\n\}\)\)\)\(\), 1\);/g;
const withoutPostcss: Plugin = {
  name: 'rrweb-without-postcss',
  transform(code, id) {
    if (!/[\\/]rrweb[\\/]dist[\\/]rrweb\.js$/.test(id)) return null;
    let blocks = 0;
    const out = code.replace(POSTCSS_BLOCK, (_all, name: string) => {
      blocks++;
      return `var ${name} = { default: function postcss() { throw new Error('postcss is not part of the recorder bundle'); } };`;
    });
    if (blocks !== 2)
      this.error(`expected rrweb.js to hold 2 postcss blocks, found ${blocks}: check the rrweb version`);
    return { code: out, map: null };
  },
};

/** Script-tag build of the recorder: `compressor.ts` becomes `compressor-lazy.ts` (loads it beside the script). */
const lazyCompressor: Plugin = {
  name: 'lazy-compressor',
  async resolveId(source, importer) {
    if (source !== './compressor.js' || !importer?.includes('/packages/recorder/src/')) return null;
    return this.resolve('./compressor-lazy.ts', importer);
  },
};

/**
 * The replayer's `style.css` export (`@cobrowse/replayer/style.css`): rrweb's replay styles and
 * rrweb-player's UI, for pages that would rather link the styles than have the SDK inject them
 * (join() and play() inject the same text at run time).
 */
const replayerStyles: Plugin = {
  name: 'replayer-style-css',
  generateBundle() {
    const files = ['node_modules/rrweb/dist/style.css', 'node_modules/rrweb-player/dist/style.css'];
    this.emitFile({
      type: 'asset',
      fileName: 'style.css',
      source: files.map((f) => readFileSync(f, 'utf8')).join('\n'),
    });
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
    (id.startsWith('node:') ||
      builtinModules.includes(id) ||
      deps.some((d) => id === d || id.startsWith(`${d}/`)) ||
      id.startsWith('@rrweb/'));
  return {
    input: Object.fromEntries(Object.entries(inputs).map(([name, file]) => [name, `packages/${dir}/src/${file}`])),
    external,
    plugins: [
      cssText,
      nodeResolve({ preferBuiltins: platform === 'node' }),
      esbuild({ target: platform === 'node' ? 'node20' : 'es2020' }),
    ],
    output: {
      dir: `packages/${dir}/dist`,
      format: 'es',
      entryFileNames: '[name].js',
      chunkFileNames: 'chunks/[name]-[hash].js',
      sourcemap: true,
    },
  };
}

/** Script-tag build: everything bundled (rrweb with the fix in build/rrweb-untainted.ts), minified, one global. */
function iife(dir: string, file: string, name: string, extra: Plugin[] = [], entry = 'index.ts'): RollupOptions {
  const output: OutputOptions = {
    file: `packages/${dir}/dist/${file}`,
    format: 'iife',
    name,
    sourcemap: true,
    plugins: [minify({ target: 'es2022' })],
  };
  return {
    input: `packages/${dir}/src/${entry}`,
    plugins: [
      ...extra,
      cssText,
      rrwebUntainted(),
      nodeResolve({ browser: true }),
      commonjs(),
      esbuild({ target: 'es2020' }),
    ],
    output,
  };
}

export default [
  esm(
    'protocol',
    { index: 'index.ts', 'client/index': 'client/index.ts', compress: 'compress.ts', decompress: 'decompress.ts' },
    'browser',
  ),
  esm('recorder', { index: 'index.ts' }, 'browser'),
  {
    ...esm('replayer', { index: 'index.ts' }, 'browser'),
    plugins: [...esm('replayer', {}, 'browser').plugins!, replayerStyles],
  },
  esm('relay', { index: 'index.ts', cli: 'cli.ts' }, 'node'),
  iife('recorder', 'recorder.iife.js', 'CobrowseRecorder', [withoutPostcss, lazyCompressor]),
  iife('recorder', 'recorder-deflate.iife.js', 'CobrowseDeflate', [], 'compressor-script.ts'),
  iife('replayer', 'replayer.iife.js', 'CobrowseReplayer'),
] satisfies RollupOptions[];
