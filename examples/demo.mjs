#!/usr/bin/env node
// `npm run demo`: the relay (dev mode) plus the example customer site and agent console.
import { spawn } from 'node:child_process';
import { createReadStream, readFileSync, statSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { dirname, extname, join, normalize, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const HERE = dirname(fileURLToPath(import.meta.url));
const REPO = resolve(HERE, '..');
const EXAMPLE_RELAY = '127.0.0.1:8787';
const TYPES = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
};
/** Packages the agent console's import map may load. */
const VENDOR = [
  '@cobrowse/replayer/dist/',
  '@cobrowse/client/dist/',
  '@cobrowse/protocol/dist/',
  'reconnecting-websocket/dist/',
  'pako/dist/',
];

/** Starts the relay CLI as a child process and resolves with its URL. */
function startRelay(port) {
  // The demo records every session (the console's Recordings tab), into a directory of the system's temp dir.
  const recordings = process.env.COBROWSE_RECORDINGS_DIR ?? join(tmpdir(), 'cobrowse-demo-recordings');
  const args = [join(REPO, 'packages/relay/dist/cli.js'), '--port', String(port), '--dev', '--recordings', recordings];
  const child = spawn(process.execPath, args, {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  return new Promise((resolveUrl, reject) => {
    let out = '';
    child.stdout.on('data', (chunk) => {
      out += chunk;
      process.stdout.write(chunk);
      const match = /listening on (http:\/\/\S+)/.exec(out);
      if (match) resolveUrl({ url: match[1], child });
    });
    child.once('exit', (code) => reject(new Error(`relay exited with code ${code}`)));
  });
}

/** Serves examples/ (and /vendor/ for the agent console), pointing the pages (and the console's CSP) at `relayUrl`. */
function startSite(port, relayUrl) {
  const server = createServer((req, res) => {
    let path = decodeURIComponent((req.url ?? '/').split('?')[0]);
    if (path === '/') {
      res.writeHead(302, { location: '/customer-site/' }).end();
      return;
    }
    if (path.endsWith('/')) path += 'index.html';
    let file;
    if (path.startsWith('/vendor/')) {
      const rest = path.slice('/vendor/'.length);
      if (!VENDOR.some((prefix) => rest.startsWith(prefix))) return res.writeHead(404).end();
      file = normalize(join(REPO, 'node_modules', rest));
      if (!file.startsWith(join(REPO, 'node_modules'))) return res.writeHead(403).end();
    } else {
      file = normalize(join(HERE, path));
      if (!file.startsWith(HERE) || file.endsWith('.mjs')) return res.writeHead(403).end();
    }
    try {
      if (!statSync(file).isFile()) throw new Error();
    } catch {
      return res.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
    }
    const type = TYPES[extname(file)] ?? 'application/octet-stream';
    if ((type.startsWith('text/html') || type.startsWith('text/javascript')) && !path.startsWith('/vendor/')) {
      const text = readFileSync(file, 'utf8').replaceAll(EXAMPLE_RELAY, new URL(relayUrl).host);
      res.writeHead(200, { 'content-type': type, 'cache-control': 'no-store' }).end(text);
      return;
    }
    res.writeHead(200, { 'content-type': type, 'cache-control': 'no-store' });
    createReadStream(file).pipe(res);
  });
  return new Promise((done, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => done(server));
  });
}

/** Starts all three pieces; used by `npm run demo` and by the examples' e2e test. */
export async function startDemo({ relayPort = 8787, sitePort = 8080 } = {}) {
  const relay = await startRelay(relayPort);
  const server = await startSite(sitePort, relay.url);
  const site = `http://127.0.0.1:${server.address().port}`;
  return {
    relayUrl: relay.url,
    customerUrl: `${site}/customer-site/`,
    agentUrl: `${site}/agent-console/`,
    async stop() {
      server.close();
      relay.child.kill('SIGTERM');
    },
  };
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const demo = await startDemo({
    relayPort: Number(process.env.RELAY_PORT ?? 8787),
    sitePort: Number(process.env.SITE_PORT ?? 8080),
  }).catch((error) => {
    console.error(
      `demo: ${error.message} (is port ${process.env.RELAY_PORT ?? 8787} or ${process.env.SITE_PORT ?? 8080} taken? set RELAY_PORT / SITE_PORT)`,
    );
    process.exit(1);
  });
  console.log(`
  Co-browse demo is running.
    Customer site:  ${demo.customerUrl}   (press "Share my screen", note the code)
    Agent console:  ${demo.agentUrl}   (type the code, press Join)
    Relay:          ${demo.relayUrl}
  Open both in two tabs of your browser. Ctrl+C stops everything.
`);
  if (process.env.DISPLAY || process.platform === 'darwin') {
    const opener = process.platform === 'darwin' ? 'open' : 'xdg-open';
    for (const url of [demo.customerUrl, demo.agentUrl])
      spawn(opener, [url], { stdio: 'ignore', detached: true })
        .on('error', () => undefined)
        .unref();
  }
  const stop = () => demo.stop().then(() => process.exit(0));
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}
