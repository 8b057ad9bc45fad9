import { type ChildProcess, spawn } from 'node:child_process';
import { join, normalize, resolve } from 'node:path';
import { serveFiles } from '../../test-support/processes.mjs';

export const REPO = resolve(import.meta.dirname, '../..');
export const SHARED = resolve(REPO, '../shared');

export interface RelayProcess {
  url: string;
  port: number;
  process: ChildProcess;
  output: () => string;
  stop(): Promise<void>;
}

/** Starts the real relay CLI on a free loopback port and waits until it prints its URL. */
export async function startRelay(args: string[] = ['--dev'], port = 0): Promise<RelayProcess> {
  const child = spawn(
    process.execPath,
    [join(REPO, 'packages/relay/dist/cli.js'), '--port', String(port), '--host', '127.0.0.1', ...args],
    {
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let output = '';
  child.stdout!.on('data', (chunk) => (output += chunk));
  child.stderr!.on('data', (chunk) => (output += chunk));
  const url = await new Promise<string>((resolveUrl, reject) => {
    const timer = setTimeout(() => reject(new Error(`relay did not start:\n${output}`)), 10_000);
    const onData = () => {
      const match = /listening on (http:\/\/\S+)/.exec(output);
      if (match) {
        clearTimeout(timer);
        resolveUrl(match[1]!);
      }
    };
    child.stdout!.on('data', onData);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`relay exited with ${code}:\n${output}`));
    });
  });
  return {
    url,
    port: Number(new URL(url).port),
    process: child,
    output: () => output,
    stop: () =>
      new Promise((done) => {
        if (child.exitCode !== null) return done();
        child.once('exit', () => done());
        child.kill('SIGTERM');
        setTimeout(() => child.kill('SIGKILL'), 3000).unref();
      }),
  };
}

export interface StaticSite {
  url: string;
  close(): Promise<void>;
}

/**
 * A real loopback server for test pages (Chromium's Local Network Access refuses loopback requests
 * from pages Playwright fulfils itself). `/shared/…` maps to the shared page corpus, the rest to the repo.
 */
export function startSite(): Promise<StaticSite> {
  return serveFiles((path) => {
    const [root, rest] = path.startsWith('/shared/') ? [SHARED, path.slice(8)] : [REPO, path.slice(1)];
    const file = normalize(join(root, rest));
    return file.startsWith(root) && !file.includes('node_modules') ? file : undefined;
  });
}
