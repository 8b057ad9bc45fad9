// The real relay process and a loopback static server for the bench pages (shared by e2e/ and bench/).
import { spawn } from 'node:child_process';
import { createReadStream, existsSync, statSync } from 'node:fs';
import { createServer } from 'node:http';
import { extname, join, normalize, resolve } from 'node:path';

export const REPO = resolve(import.meta.dirname, '..');

/**
 * Spawns `node ...argv` and waits until its stdout says `listening` (the regexp's first group is
 * the URL). The handle's `stop()` ends it (SIGTERM, SIGKILL after 3 s).
 */
export async function spawnServer(name, argv, listening) {
  const child = spawn(process.execPath, argv, { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (chunk) => (output += chunk));
  child.stderr.on('data', (chunk) => (output += chunk));
  const url = await new Promise((resolveUrl, reject) => {
    const timer = setTimeout(() => reject(new Error(`${name} did not start within 10 s:\n${output}`)), 10_000);
    child.stdout.on('data', () => {
      const match = listening.exec(output);
      if (match) {
        clearTimeout(timer);
        resolveUrl(match[1]);
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${name} exited with ${code}:\n${output}`));
    });
  });
  return {
    url,
    pid: child.pid,
    output: () => output,
    stop: () =>
      new Promise((done) => {
        if (child.exitCode !== null || child.signalCode !== null) return done();
        child.once('exit', () => done());
        child.kill('SIGTERM');
        setTimeout(() => child.kill('SIGKILL'), 3000).unref();
      }),
  };
}

/**
 * Starts `node packages/relay/dist/cli.js --port 0 --dev` and waits for "listening on URL".
 * `nodeArgs` go to node itself (e.g. `--inspect=127.0.0.1:0`).
 */
export async function startRelay(args = ['--dev'], { nodeArgs = [] } = {}) {
  const cli = join(REPO, 'packages/relay/dist/cli.js');
  if (!existsSync(cli)) throw new Error(`${cli} is missing: run \`npm run build\` first`);
  return spawnServer(
    'relay',
    [...nodeArgs, cli, '--port', '0', '--host', '127.0.0.1', ...args],
    /listening on (http:\/\/\S+)/,
  );
}

const TYPES = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.cjs': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.json': 'application/json',
};

/**
 * A real loopback HTTP server for pages (Chromium refuses loopback requests from pages Playwright
 * fulfils itself). `locate(path)` maps a URL path to a file, or returns undefined to refuse (403).
 * Used by the benchmarks and by the e2e suite.
 */
export async function serveFiles(locate) {
  const server = createServer((req, res) => {
    let file;
    try {
      file = locate(decodeURIComponent((req.url ?? '/').split('?')[0]));
    } catch {
      file = undefined;
    }
    if (!file) {
      res.writeHead(403).end('forbidden');
      return;
    }
    try {
      if (!statSync(file).isFile()) throw new Error('not a file');
    } catch {
      res.writeHead(404).end('not found');
      return;
    }
    res.writeHead(200, {
      'content-type': TYPES[extname(file)] ?? 'application/octet-stream',
      'cache-control': 'no-store',
    });
    createReadStream(file).pipe(res);
  });
  server.keepAliveTimeout = 1000;
  await new Promise((done) => server.listen(0, '127.0.0.1', done));
  const { port } = server.address();
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise((done) => {
        server.closeAllConnections?.();
        server.close(() => done());
      }),
  };
}

/** The shared page corpus (fidelity rows), next to the repository. */
export const CORPUS = resolve(REPO, '../shared/pages');

/** Only these trees are served: the bench pages, rrweb's browser build for the naive pages, and the corpus at /shared/pages/. */
const ALLOWED = ['bench/pages/', 'node_modules/rrweb/dist/'];

export function startSite() {
  return serveFiles((path) => {
    if (path.startsWith('/shared/pages/')) {
      const file = normalize(join(CORPUS, path.slice('/shared/pages/'.length)));
      return file.startsWith(CORPUS + '/') ? file : undefined;
    }
    const file = normalize(join(REPO, path.replace(/^\/+/, '')));
    return file.startsWith(REPO + '/') && ALLOWED.some((prefix) => file.startsWith(join(REPO, prefix)))
      ? file
      : undefined;
  });
}
