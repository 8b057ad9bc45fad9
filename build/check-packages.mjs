// Checks that every workspace package is publishable as it stands: packs each one (npm pack), lints
// the tarball with publint --strict and "are the types wrong" (ESM-only profile), and checks what
// those do not: README.md and LICENSE inside, repository/engines/publishConfig set, sibling packages
// named by caret ranges that the sibling's version satisfies, dependencies exactly what src/ imports
// (rrweb and its type packages are bundled, never dependencies), and the relay carrying the browser
// bundles in sdk/. Offline and about half a minute. Run by `npm test` as `npm run check:packages`.
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { checkPackage, createPackageFromTarballData } from '@arethetypeswrong/core';
import { publint } from 'publint';
import { formatMessage } from 'publint/utils';

const run = promisify(execFile);
const root = new URL('..', import.meta.url).pathname;
const rootPkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
const dirs = rootPkg.workspaces;
const pkgs = new Map(dirs.map((dir) => [dir, JSON.parse(readFileSync(join(root, dir, 'package.json'), 'utf8'))]));
const siblings = new Map([...pkgs.values()].map((p) => [p.name, p.version]));
/** Bundled into the SDK builds; an integrator's node_modules must not get them (or their @types). */
const BUNDLED = /^(rrweb|rrweb-player|rrweb-snapshot|@rrweb\/.*|@types\/css-font-loading-module)$/;

/** attw's `esm-only` profile: node10 and require-from-CommonJS resolutions are not checked. */
const IGNORED_RESOLUTIONS = ['node10', 'node16-cjs'];

const problems = [];
const fail = (pkg, text) => problems.push(`${pkg}: ${text}`);

/** Bare module names a package's sources import (type-only imports included). */
function importsOf(dir) {
  const names = new Set();
  const walk = (d) => {
    for (const entry of readdirSync(d, { withFileTypes: true })) {
      const path = join(d, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (/\.ts$/.test(entry.name) && !entry.name.endsWith('.d.ts')) {
        const text = readFileSync(path, 'utf8');
        const specs = [
          ...text.matchAll(/^\s*(?:import|export)\s[^;]*?\sfrom\s+'([^']+)'/gm),
          ...text.matchAll(/^\s*import\s+'([^']+)'/gm),
          ...text.matchAll(/\bimport\(\s*'([^']+)'\s*\)/g),
        ];
        for (const [, spec] of specs) {
          if (spec.startsWith('.')) continue;
          if (spec.startsWith('node:')) continue;
          names.add(spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : spec.split('/')[0]);
        }
      }
    }
  };
  walk(join(root, dir, 'src'));
  return names;
}

function checkManifest(dir, pkg) {
  for (const field of ['description', 'license', 'repository', 'engines', 'files', 'exports', 'publishConfig'])
    if (!pkg[field]) fail(pkg.name, `package.json has no "${field}"`);
  if (pkg.private) fail(pkg.name, 'is private');
  const deps = { ...pkg.dependencies, ...pkg.optionalDependencies, ...pkg.peerDependencies };
  for (const [name, range] of Object.entries(deps)) {
    if (BUNDLED.test(name)) fail(pkg.name, `depends on ${name} (bundled into the build: a devDependency)`);
    if (siblings.has(name) && !(range.startsWith('^') && range.slice(1) === siblings.get(name)))
      fail(pkg.name, `names sibling ${name} as "${range}": use "^${siblings.get(name)}"`);
  }
  const imported = importsOf(dir);
  const dev = pkg.devDependencies ?? {};
  for (const name of imported) {
    if (name === pkg.name) continue;
    if (!(name in deps) && !(name in dev)) fail(pkg.name, `imports ${name}, which is not in its package.json`);
  }
  for (const name of Object.keys(pkg.dependencies ?? {}))
    if (!imported.has(name)) fail(pkg.name, `depends on ${name}, which src/ never imports`);
  for (const name of Object.keys(dev))
    if (!imported.has(name)) fail(pkg.name, `devDependency ${name} is never imported by src/`);
}

async function checkTarball(pkg, tarball) {
  const { stdout } = await run('tar', ['-tzf', tarball]);
  const files = new Set(stdout.split('\n').map((f) => f.replace(/^package\//, '')));
  for (const file of ['README.md', 'LICENSE', 'package.json'])
    if (!files.has(file)) fail(pkg.name, `tarball lacks ${file}`);
  if (pkg.name === '@cobrowse/relay')
    for (const file of ['recorder.iife.js', 'recorder-deflate.iife.js', 'replayer.iife.js'])
      for (const f of [file, `${file}.map`]) if (!files.has(`sdk/${f}`)) fail(pkg.name, `tarball lacks sdk/${f}`);
  const data = readFileSync(tarball);
  const { messages, pkg: packed } = await publint({
    strict: true,
    pack: { tarball: data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength) },
  });
  for (const message of messages)
    if (message.type !== 'suggestion') fail(pkg.name, `publint: ${formatMessage(message, packed) ?? message.code}`);
  // "Are the types wrong", ESM-only profile (these packages are ES modules; CommonJS `require` is not offered).
  const analysis = await checkPackage(createPackageFromTarballData(new Uint8Array(data)));
  if (!analysis.types) fail(pkg.name, 'are the types wrong: the package has no types');
  for (const problem of analysis.problems ?? []) {
    if ('resolutionKind' in problem && IGNORED_RESOLUTIONS.includes(problem.resolutionKind)) continue;
    fail(pkg.name, `are the types wrong: ${problem.kind} ${JSON.stringify(problem)}`);
  }
}

const out = mkdtempSync(join(tmpdir(), 'cobrowse-pack-'));
try {
  const { stdout } = await run(
    'npm',
    ['pack', '--json', '--pack-destination', out, ...dirs.flatMap((d) => ['-w', d])],
    { cwd: root, maxBuffer: 64 << 20 },
  );
  const packed = JSON.parse(stdout);
  const queue = dirs.map((dir, i) => ({ dir, pkg: pkgs.get(dir), tarball: join(out, packed[i].filename) }));
  for (const { dir, pkg } of queue) checkManifest(dir, pkg);
  const workers = Array.from({ length: 2 }, async () => {
    for (let job = queue.shift(); job; job = queue.shift()) await checkTarball(job.pkg, job.tarball);
  });
  await Promise.all(workers);
} finally {
  rmSync(out, { recursive: true, force: true });
}

if (problems.length) {
  console.error(`check:packages found ${problems.length} problem(s):\n- ${problems.join('\n- ')}`);
  process.exit(1);
}
console.log(`check:packages: ${dirs.length} packages publishable (publint --strict, attw esm-only, manifests)`);
