import { execFile } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { expect, test } from '@playwright/test';

/**
 * `npm ci` refuses a lockfile that lacks the optional native packages of other platforms (the
 * lockfile npm writes on one machine can miss them). These keep the lockfile complete for the
 * platforms a contributor or a CI runner uses, offline.
 */
const root = fileURLToPath(new URL('../../', import.meta.url));
const lock = JSON.parse(readFileSync(join(root, 'package-lock.json'), 'utf8')) as {
  packages: Record<string, LockEntry>;
};
interface LockEntry {
  version?: string;
  os?: string[];
  cpu?: string[];
  optionalDependencies?: Record<string, string>;
}
const PLATFORMS = ['linux', 'darwin', 'win32'].flatMap((os) => ['x64', 'arm64'].map((cpu) => ({ os, cpu })));

/** The lock entry npm would install for `name` required from the package at `from` (node_modules lookup). */
function resolve(from: string, name: string): LockEntry | undefined {
  let dir = from;
  for (;;) {
    const entry = lock.packages[`${dir ? `${dir}/` : ''}node_modules/${name}`];
    if (entry) return entry;
    if (!dir) return undefined;
    const up = dir.lastIndexOf('/node_modules/');
    dir = up < 0 ? '' : dir.slice(0, up);
  }
}

/** Whether an npm `os`/`cpu` list (absent, names, or `!name` exclusions) allows `value`. */
function allows(list: string[] | undefined, value: string): boolean {
  if (!list || list.length === 0) return true;
  if (list.includes(`!${value}`)) return false;
  const named = list.filter((v) => !v.startsWith('!'));
  return named.length === 0 || named.includes(value);
}

test('every optional dependency in the lockfile has its own entry', () => {
  const missing: string[] = [];
  for (const [path, entry] of Object.entries(lock.packages))
    for (const name of Object.keys(entry.optionalDependencies ?? {}))
      if (!resolve(path, name)) missing.push(`${path || '(root)'} → ${name}`);
  expect(missing).toEqual([]);
});

test('packages with native optional builds (rollup, esbuild, …) list one for linux, darwin and win32 on x64 and arm64', () => {
  const natives = new Map<string, string[]>();
  for (const [path, entry] of Object.entries(lock.packages)) {
    const platformed = Object.keys(entry.optionalDependencies ?? {}).filter((name) => {
      const dep = resolve(path, name);
      return dep?.os || dep?.cpu;
    });
    if (platformed.length === 0) continue;
    const uncovered = PLATFORMS.filter(({ os, cpu }) =>
      platformed.every((name) => {
        const dep = resolve(path, name)!;
        return !(allows(dep.os, os) && allows(dep.cpu, cpu));
      }),
    ).map(({ os, cpu }) => `${os}-${cpu}`);
    natives.set(path, uncovered);
  }
  expect([...natives.keys()]).toEqual(expect.arrayContaining(['node_modules/rollup', 'node_modules/esbuild']));
  expect(Object.fromEntries([...natives].filter(([, uncovered]) => uncovered.length > 0))).toEqual({});
});

test('npm ci accepts the lockfile with these package.json files (dry run, offline)', async () => {
  test.setTimeout(120_000);
  const rootPkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { workspaces: string[] };
  const dir = mkdtempSync(join(tmpdir(), 'cobrowse-ci-'));
  try {
    for (const file of ['package.json', 'package-lock.json', ...rootPkg.workspaces.map((w) => `${w}/package.json`)]) {
      mkdirSync(join(dir, file, '..'), { recursive: true });
      copyFileSync(join(root, file), join(dir, file));
    }
    const { stdout } = await promisify(execFile)(
      'npm',
      ['ci', '--dry-run', '--offline', '--ignore-scripts', '--no-audit', '--no-fund'],
      { cwd: dir, maxBuffer: 16 << 20 },
    );
    expect(stdout).toMatch(/added \d+ packages/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
