import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { builtinModules } from 'node:module';
import type { OutputOptions, Plugin, RollupOptions } from 'rollup';
import esbuild, { minify } from 'rollup-plugin-esbuild';
import { nodeResolve } from '@rollup/plugin-node-resolve';
import commonjs from '@rollup/plugin-commonjs';
import { rrwebUntainted } from './build/rrweb-untainted.ts';
import { rrwebSlicedSnapshot } from './build/rrweb-sliced-snapshot.ts';

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

/**
 * rrweb's own canvas recording (record option `recordCanvas`: prototype patches, argument
 * serialisers, a worker shipped as a 2.6 KB string) is never turned on by the recorder (it samples
 * canvases itself, see canvas-sampler.ts): its builds carry CanvasManager without the two methods
 * that start it, and so without what only they use (~2 KB gzipped). Fails the build if rrweb's
 * layout changes.
 */
const CANVAS_RECORDING =
  /\tinitCanvasFPSObserver\(fps, win, blockClass, blockSelector, options\) \{\n[\s\S]*?\n(\tstartPendingCanvasMutationFlusher\(\) \{)/g;
const withoutCanvasRecording: Plugin = {
  name: 'rrweb-without-canvas-recording',
  transform(code, id) {
    if (!/[\\/]rrweb[\\/]dist[\\/]rrweb\.js$/.test(id)) return null;
    let found = 0;
    const out = code.replace(CANVAS_RECORDING, (_all, next: string) => {
      found++;
      return `\tinitCanvasFPSObserver() {}\n\tinitCanvasMutationObserver() {}\n${next}`;
    });
    if (found !== 1) this.error(`expected rrweb.js to hold 1 canvas recorder, found ${found}: check the rrweb version`);
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
function dependencies(dir: string): string[] {
  const pkg = JSON.parse(readFileSync(`packages/${dir}/package.json`, 'utf8'));
  return [...Object.keys(pkg.dependencies ?? {}), ...Object.keys(pkg.peerDependencies ?? {})];
}

/**
 * rrweb is bundled into the SDK builds, and its type packages are dev-only: an integrator's
 * `node_modules` gets neither (rrweb 2.2.2's `@types/css-font-loading-module` clashes with
 * TypeScript's own DOM types). This replaces the few rrweb names our emitted `.d.ts` files mention
 * with the plain shapes in `dist/rrweb-types.d.ts`, and fails the build on a name it does not know.
 */
const RRWEB_TYPES: Record<string, string> = {
  eventWithTime: [
    '/** An rrweb event as it travels (rrweb is bundled into this package). */',
    'export interface eventWithTime {',
    '  type: number;',
    '  data: unknown;',
    '  timestamp: number;',
    '  delay?: number;',
    '}',
  ].join('\n'),
  Replayer: [
    "/** rrweb's Replayer (bundled into this package), as far as this package's types show it. */",
    'export interface Replayer {',
    '  readonly iframe: HTMLIFrameElement;',
    '  readonly wrapper: HTMLDivElement;',
    '}',
  ].join('\n'),
};
const RRWEB_IMPORT = /import (type )?\{([^}]*)\} from '(?:rrweb|@rrweb\/types)';/g;
/** An import already rewritten by an earlier build (tsc -b leaves unchanged .d.ts files as they were). */
const SHIM_IMPORT = /import type \{([^}]*)\} from '[./]*(?:[^']*\/)?rrweb-types\.js';/g;

function withoutRrwebTypes(dir: string): Plugin {
  return {
    name: 'without-rrweb-types',
    writeBundle() {
      const dist = `packages/${dir}/dist`;
      const used = new Set<string>();
      for (const file of readdirSync(dist, { recursive: true, encoding: 'utf8' })) {
        if (!file.endsWith('.d.ts') || file === 'rrweb-types.d.ts') continue;
        const path = join(dist, file);
        const text = readFileSync(path, 'utf8');
        const shim = relative(dirname(path), join(dist, 'rrweb-types.js')).replaceAll('\\', '/');
        const out = text.replace(RRWEB_IMPORT, (_all, _type: string | undefined, names: string) => {
          for (const name of names.split(',').map((n) => n.replace(/^\s*type\s+/, '').trim())) if (name) used.add(name);
          return `import type {${names}} from '${shim.startsWith('.') ? shim : `./${shim}`}';`;
        });
        for (const [, names] of out.matchAll(SHIM_IMPORT))
          for (const name of names!.split(',').map((n) => n.replace(/^\s*type\s+/, '').trim()))
            if (name) used.add(name);
        if (/(?:from |import\()['"](?:rrweb|@rrweb\/)/.test(out)) this.error(`${path} still imports rrweb`);
        if (out !== text) writeFileSync(path, out);
      }
      const unknown = [...used].filter((name) => !RRWEB_TYPES[name]);
      if (unknown.length) this.error(`no rrweb-types.d.ts shape for ${unknown.join(', ')}: add it to rollup.config.ts`);
      writeFileSync(
        join(dist, 'rrweb-types.d.ts'),
        [...used]
          .sort()
          .map((name) => RRWEB_TYPES[name])
          .join('\n\n') + '\n',
      );
    },
  };
}

/** ESM build of a package: its own modules (and rrweb) bundled, its dependencies left as imports. */
function esm(
  dir: string,
  inputs: Record<string, string>,
  platform: 'browser' | 'node',
  extra: Plugin[] = [],
): RollupOptions {
  const deps = dependencies(dir);
  const external = (id: string) =>
    !id.endsWith('.css') &&
    (id.startsWith('node:') || builtinModules.includes(id) || deps.some((d) => id === d || id.startsWith(`${d}/`)));
  return {
    input: Object.fromEntries(Object.entries(inputs).map(([name, file]) => [name, `packages/${dir}/src/${file}`])),
    external,
    plugins: [
      ...extra,
      cssText,
      nodeResolve({ preferBuiltins: platform === 'node' }),
      esbuild({ target: platform === 'node' ? 'node20' : 'es2020' }),
    ],
    output: {
      dir: `packages/${dir}/dist`,
      format: 'es',
      entryFileNames: '[name].js',
      chunkFileNames: '[name]-[hash].js',
      sourcemap: true,
    },
  };
}

/** Types of a script-tag bundle: the one global it defines. */
function globalTypes(name: string, type: string): Plugin {
  return {
    name: 'global-types',
    generateBundle() {
      this.emitFile({
        type: 'asset',
        fileName: `${name === 'CobrowseDeflate' ? 'iife-deflate' : 'iife'}.d.ts`,
        source: `/** Loading this script (a classic <script> tag) defines one global. */\ndeclare global {\n  var ${name}: ${type};\n}\nexport {};\n`,
      });
    },
  };
}

/**
 * V8's explicit compile hint (Chromium 136 and later; other engines read a comment): every function
 * of the script is compiled as it loads (off the main thread while it streams in), not on its first
 * call. The replayer's script tag carries it: an agent's first join runs most of the bundle (rrweb's
 * rebuild, the decoder, the sanitizer), and compiling it lazily took 20–40 ms of that join on a
 * 2-core machine, for ~25 ms more when the script loads (docs/benchmarks.md).
 */
const COMPILE_ALL_ON_LOAD = '//# allFunctionsCalledOnLoad';

/**
 * Puts a comment line first in the written script, after minifying (which drops comments, a
 * `banner` too), and moves its source map down that one line.
 */
function firstLine(line: string): Plugin {
  return {
    name: 'first-line',
    generateBundle(_options, bundle) {
      for (const item of Object.values(bundle)) {
        if (item.type !== 'chunk') continue;
        item.code = `${line}\n${item.code}`;
        const map = bundle[`${item.fileName}.map`];
        if (map?.type !== 'asset') this.error(`no source map beside ${item.fileName}`);
        const json = JSON.parse(String(map.source)) as { mappings: string };
        json.mappings = `;${json.mappings}`;
        map.source = JSON.stringify(json);
      }
    },
  };
}

/** Script-tag build: everything bundled (rrweb with the fix in build/rrweb-untainted.ts), minified, one global. */
function iife(
  dir: string,
  file: string,
  name: string,
  type: string,
  extra: Plugin[] = [],
  entry = 'index.ts',
  compileHint?: string,
): RollupOptions {
  const output: OutputOptions = {
    file: `packages/${dir}/dist/${file}`,
    format: 'iife',
    name,
    sourcemap: true,
    plugins: [minify({ target: 'es2022' }), ...(compileHint ? [firstLine(compileHint)] : [])],
  };
  return {
    input: `packages/${dir}/src/${entry}`,
    plugins: [
      ...extra,
      cssText,
      globalTypes(name, type),
      nodeResolve({ browser: true }),
      commonjs(),
      esbuild({ target: 'es2020' }),
    ],
    output,
  };
}

export default [
  esm('protocol', { index: 'index.ts', compress: 'compress.ts', decompress: 'decompress.ts' }, 'browser'),
  esm('client', { index: 'index.ts' }, 'browser'),
  esm('recorder', { index: 'index.ts' }, 'browser', [
    withoutPostcss,
    withoutCanvasRecording,
    rrwebUntainted(),
    rrwebSlicedSnapshot(),
    withoutRrwebTypes('recorder'),
  ]),
  esm('replayer', { index: 'index.ts' }, 'browser', [rrwebUntainted(), withoutRrwebTypes('replayer')]),
  esm('relay', { index: 'index.ts', cli: 'cli.ts' }, 'node'),
  iife('recorder', 'recorder.iife.js', 'CobrowseRecorder', "typeof import('./index.js')", [
    withoutPostcss,
    withoutCanvasRecording,
    rrwebUntainted(),
    rrwebSlicedSnapshot(),
    lazyCompressor,
  ]),
  iife(
    'recorder',
    'recorder-deflate.iife.js',
    'CobrowseDeflate',
    "{ HistoryCompressor: typeof import('@cobrowse/protocol/compress').HistoryCompressor }",
    [],
    'compressor-script.ts',
  ),
  iife(
    'replayer',
    'replayer.iife.js',
    'CobrowseReplayer',
    "typeof import('./index.js')",
    [rrwebUntainted()],
    'index.ts',
    COMPILE_ALL_ON_LOAD,
  ),
] satisfies RollupOptions[];
