import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { expect, test } from '@playwright/test';

/**
 * An integrator's project, as a stranger would set it up: the packed packages (`npm pack`, from
 * the built dist/) installed from their tarballs (their dependencies from npm's cache first), and a small file using start/join with
 * the documented options, compiled by the repo's TypeScript with `skipLibCheck: false` and every
 * `@types` package that landed in its node_modules. rrweb and its type packages must not land
 * there (rrweb 2.2.2's @types/css-font-loading-module clashes with TypeScript's DOM types).
 */
const run = promisify(execFile);
const root = fileURLToPath(new URL('../../', import.meta.url));
const tsc = join(root, 'node_modules/typescript/bin/tsc');
const SDK = ['packages/protocol', 'packages/client', 'packages/recorder', 'packages/replayer'];

const INTEGRATOR = `
import { start, type RecorderOptions, type RecorderSession } from '@cobrowse/recorder';
import { join, prepare, type JoinOptions, type PreparedView, type ReplayerSession } from '@cobrowse/replayer';
import type {} from '@cobrowse/recorder/iife';
import type {} from '@cobrowse/replayer/iife';

const headers = { 'ccmessaging-token': 'dev' };
const common = {
  server: 'http://127.0.0.1:8787',
  roomId: '123456',
  userId: 'customer-1',
  userName: 'Sam',
  dialect: 'cec',
  headers,
} as const;
const options: RecorderOptions = { ...common, maskAllInputs: true };

export async function share(): Promise<string> {
  const session: RecorderSession = await start(options);
  session.on('status', (status) => console.log(status));
  const status: 'connecting' | 'live' | 'reconnecting' | 'ended' = session.status;
  await session.stop();
  return session.roomId + status;
}

export async function watch(container: HTMLElement): Promise<Document | null> {
  const session: ReplayerSession = await join({
    server: 'http://127.0.0.1:8787',
    roomId: '123456',
    userId: 'agent-1',
    userName: 'Ann',
    dialect: async () => ({ roomId: '1', wssUrl: 'ws://h/s', wssUrlOut: 'ws://h/s', signature: 's' }),
    headers,
    container,
  });
  session.on('status', (status) => console.log(status));
  const doc = session.iframe.contentDocument;
  session.leave();
  return doc;
}

export async function watchPrepared(container: HTMLElement): Promise<HTMLIFrameElement> {
  const view: PreparedView = prepare({ container, maxNodes: 50_000, assets: 'relay' });
  const connection: JoinOptions = { server: 'http://127.0.0.1:8787', roomId: '123456', headers };
  const session: ReplayerSession = await view.join(connection);
  session.leave();
  const spare = globalThis.CobrowseReplayer.prepare({ container: '#screen' });
  spare.destroy();
  // Connection options given to prepare() warm the service up and are the join's defaults.
  const warmed: PreparedView = prepare({ container, server: 'http://127.0.0.1:8787', headers, userId: 'agent-1' });
  const ready: boolean = await warmed.warming;
  (await warmed.join({ roomId: '123456' })).leave();
  if (!ready) (await prepare({ container }).join()).leave();
  return view.iframe;
}

export const viaScriptTag: Promise<unknown> = window.CobrowseRecorder.start(options).then(() =>
  globalThis.CobrowseReplayer.join({ ...common, userId: 'agent-1', container: '#screen', assets: 'relay' }),
);
`;

test('an integrator project compiles against the packed packages with skipLibCheck: false', async () => {
  test.setTimeout(240_000);
  const dir = mkdtempSync(join(tmpdir(), 'cobrowse-integrator-'));
  try {
    const { stdout } = await run(
      'npm',
      ['pack', '--json', '--pack-destination', dir, ...SDK.flatMap((p) => ['-w', p])],
      {
        cwd: root,
        maxBuffer: 64 << 20,
      },
    );
    const tarballs = (JSON.parse(stdout) as { name: string; filename: string }[]).map((p) => [
      p.name,
      `file:./${p.filename}`,
    ]);
    writeFileSync(
      join(dir, 'package.json'),
      JSON.stringify({ name: 'integrator', private: true, type: 'module', dependencies: Object.fromEntries(tarballs) }),
    );
    // --prefer-offline: from npm's cache, where `npm ci` left the dependencies; from the registry when a fresh machine's cache lacks one.
    await run(
      'npm',
      ['install', '--prefer-offline', '--ignore-scripts', '--no-audit', '--no-fund', '--no-package-lock'],
      {
        cwd: dir,
        maxBuffer: 16 << 20,
      },
    );

    for (const name of ['rrweb', '@rrweb/types', 'rrweb-player', '@types/css-font-loading-module'])
      expect(existsSync(join(dir, 'node_modules', name)), `${name} in the integrator's node_modules`).toBe(false);
    for (const file of ['recorder', 'replayer'])
      expect(readFileSync(join(dir, `node_modules/@cobrowse/${file}/dist/index.d.ts`), 'utf8')).not.toMatch(
        /rrweb['/]/,
      );

    writeFileSync(join(dir, 'integrator.ts'), INTEGRATOR);
    for (const [module, moduleResolution] of [
      ['nodenext', 'nodenext'],
      ['esnext', 'bundler'],
    ]) {
      writeFileSync(
        join(dir, 'tsconfig.json'),
        JSON.stringify({
          compilerOptions: {
            target: 'es2022',
            module,
            moduleResolution,
            lib: ['es2022', 'dom', 'dom.iterable'],
            strict: true,
            skipLibCheck: false,
            noEmit: true,
          },
          files: ['integrator.ts'],
        }),
      );
      const result = await run(process.execPath, [tsc, '-p', dir], { cwd: dir }).then(
        () => '',
        (error: { stdout?: string; message: string }) => error.stdout || error.message,
      );
      expect(result, `tsc (${moduleResolution})`).toBe('');
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
