import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync, statSync } from 'node:fs';
import { type Server, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { extname, join, normalize } from 'node:path';
import { type Page, expect, test } from '@playwright/test';
import { REPO, type RelayProcess, startRelay } from './support/processes.js';

/**
 * The docs run as pasted. Every fenced snippet whose info string says `runnable:<role>` in the
 * README and the integration guides is run here against a real `cobrowse-relay --dev`:
 *
 * - ```` ```html runnable:customer ```` / ```` ```js runnable:customer ````: put into a customer's page
 *   (HTML as is, JS as a module); its first button is pressed, as a person would; then an agent
 *   joining the snippet's room must see that page.
 * - ```` ```html runnable:agent ```` / ```` ```js runnable:agent ````: put into an agent's page with a
 *   `#screen` element while a customer shares in the snippet's room; the replay must show the customer's page.
 * - ```` ```sh runnable:relay ````: run in a shell; the relay it starts must answer.
 *
 * Snippets name the relay as `http://127.0.0.1:8787` (what `npx cobrowse-relay --dev` listens on);
 * the test's relay listens on a free port, and that address is the only thing changed.
 */
const DOCS = ['README.md', 'docs/integrate-customer-site.md', 'docs/integrate-agent-console.md'];
const DOC_RELAY = 'http://127.0.0.1:8787';
const FENCE = /^```(\w+) runnable:(\w+)[^\n]*\n([\s\S]*?)^```\s*$/gm;

interface Snippet {
  file: string;
  line: number;
  lang: string;
  role: string;
  code: string;
}

function snippets(): Snippet[] {
  const found: Snippet[] = [];
  for (const file of DOCS) {
    const text = readFileSync(join(REPO, file), 'utf8');
    for (const match of text.matchAll(FENCE)) {
      const line = text.slice(0, match.index).split('\n').length;
      found.push({ file, line, lang: match[1]!, role: match[2]!, code: match[3]! });
    }
  }
  return found;
}

/** The room a snippet meets in (`roomId: '…'`). */
function roomOf(code: string): string {
  return /roomId:\s*'([^']+)'/.exec(code)?.[1] ?? 'call-42';
}

/**
 * The import map a page without a bundler needs for the ESM packages: the demo agent console's
 * (kept working by examples.spec.ts), plus what the recorder's ESM build imports.
 */
function importMap(): string {
  const html = readFileSync(join(REPO, 'examples/agent-console/index.html'), 'utf8');
  const map = JSON.parse(/<script type="importmap">([\s\S]*?)<\/script>/.exec(html)![1]!) as {
    imports: Record<string, string>;
  };
  map.imports['@cobrowse/recorder'] ??= '/vendor/@cobrowse/recorder/dist/index.js';
  map.imports['@cobrowse/protocol/compress'] ??= '/vendor/@cobrowse/protocol/dist/compress.js';
  return `<script type="importmap">${JSON.stringify(map)}</script>`;
}

const TYPES: Record<string, string> = { '.js': 'text/javascript', '.mjs': 'text/javascript', '.css': 'text/css' };

/** A loopback site: the pages this test writes, and /vendor/ → node_modules for the import map. */
async function startPages(pages: Record<string, string>): Promise<{ url: string; server: Server }> {
  const modules = join(REPO, 'node_modules');
  const server = createServer((req, res) => {
    const path = decodeURIComponent((req.url ?? '/').split('?')[0]!);
    if (path === '/favicon.ico') return void res.writeHead(204).end();
    if (pages[path] !== undefined) {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(pages[path]);
      return;
    }
    const file = normalize(join(modules, path.replace(/^\/vendor\//, '')));
    if (!path.startsWith('/vendor/') || !file.startsWith(modules)) return void res.writeHead(404).end();
    try {
      if (!statSync(file).isFile()) throw new Error('not a file');
      res
        .writeHead(200, { 'content-type': TYPES[extname(file)] ?? 'application/octet-stream' })
        .end(readFileSync(file));
    } catch {
      res.writeHead(404).end();
    }
  });
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server };
}

function page(title: string, body: string, head = ''): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${title}</title>${head}</head><body>${body}</body></html>`;
}

/** The snippet as a page's markup: HTML as it is, JS as a module script. */
function embed(snippet: Snippet, relay: RelayProcess): string {
  const code = snippet.code.replaceAll(DOC_RELAY, relay.url);
  return snippet.lang === 'html' ? code : `<script type="module">\n${code}\n</script>`;
}

/** Collects what the page reports as broken: uncaught errors and console errors. */
function watchErrors(p: Page): string[] {
  const errors: string[] = [];
  p.on('pageerror', (error) => errors.push(`pageerror: ${error.message}`));
  p.on('console', (message) => {
    if (message.type() === 'error') errors.push(`console: ${message.text()}`);
  });
  return errors;
}

const CUSTOMER_BODY = '<h1 id="title">Checkout</h1><p>Order 1234: one bicycle.</p>';
const replayTitle = (p: Page) =>
  p.evaluate(
    () =>
      (document.querySelector('#screen iframe') as HTMLIFrameElement | null)?.contentDocument?.querySelector('#title')
        ?.textContent ?? null,
  );

const all = snippets();

test('the README and the integration guides have runnable snippets for each kind of user', () => {
  const readme = all.filter((s) => s.file === 'README.md').map((s) => s.role);
  expect(readme).toEqual(expect.arrayContaining(['customer', 'agent', 'relay']));
  for (const file of DOCS.slice(1)) expect(all.filter((s) => s.file === file).length).toBeGreaterThan(0);
  for (const s of all) expect(['customer', 'agent', 'relay'], `${s.file}:${s.line}`).toContain(s.role);
});

for (const snippet of all) {
  test(`${snippet.file}:${snippet.line} (${snippet.lang}, ${snippet.role}) runs as pasted`, async ({ browser }) => {
    if (snippet.role === 'relay') return runRelaySnippet(snippet);
    const relay = await startRelay(['--dev']);
    const room = roomOf(snippet.code);
    const customerRef = page(
      'Shop',
      `${CUSTOMER_BODY}<script src="${relay.url}/sdk/recorder.js"></script><script>
        CobrowseRecorder.start({ server: ${JSON.stringify(relay.url)}, roomId: ${JSON.stringify(room)},
          headers: { 'ccmessaging-token': 'dev' } }).then((s) => (window.cobrowse = s));</script>`,
    );
    const agentRef = page(
      'Agent',
      `<div id="screen" style="height: 600px"></div><script src="${relay.url}/sdk/replayer.js"></script><script>
        CobrowseReplayer.join({ server: ${JSON.stringify(relay.url)}, roomId: ${JSON.stringify(room)},
          container: '#screen', headers: { 'ccmessaging-token': 'dev' } }).then((s) => (window.agent = s));</script>`,
    );
    const snippetPage =
      snippet.role === 'customer'
        ? page('Shop', `${CUSTOMER_BODY}\n${embed(snippet, relay)}`, importMap())
        : page(
            'Agent console',
            `${snippet.code.includes('id="screen"') ? '' : '<div id="screen" style="height: 600px"></div>'}\n${embed(snippet, relay)}`,
            importMap(),
          );
    const site = await startPages({
      '/snippet.html': snippetPage,
      '/customer.html': customerRef,
      '/agent.html': agentRef,
    });
    const context = await browser.newContext();
    try {
      if (snippet.role === 'customer') {
        const customer = await context.newPage();
        const errors = watchErrors(customer);
        await customer.goto(`${site.url}/snippet.html`);
        // The snippet's own button, if it has one (not the SDK's badge, which a share started at load shows).
        const button = customer
          .locator('button')
          .filter({ hasNotText: /Stop sharing|Take back control|Allow|Deny/ })
          .first();
        if (await button.count()) await button.click();
        const agent = await context.newPage();
        await agent.goto(`${site.url}/agent.html`);
        await expect
          .poll(() => replayTitle(agent), {
            message: `the agent sees the page the snippet shares ${errors.join('\n')}`,
            timeout: 20_000,
          })
          .toBe('Checkout');
        expect(errors).toEqual([]);
      } else {
        const customer = await context.newPage();
        await customer.goto(`${site.url}/customer.html`);
        await expect.poll(() => customer.evaluate(() => (window as any).cobrowse?.status)).toBe('live');
        const agent = await context.newPage();
        const errors = watchErrors(agent);
        await agent.goto(`${site.url}/snippet.html`);
        await expect
          .poll(() => replayTitle(agent), {
            message: "the snippet's replay shows the customer's page",
            timeout: 20_000,
          })
          .toBe('Checkout');
        expect(errors).toEqual([]);
      }
    } finally {
      await context.close();
      site.server.close();
      await relay.stop();
    }
  });
}

/** Runs a shell snippet that starts the relay (on a free port instead of 8787), and checks that it answers. */
async function runRelaySnippet(snippet: Snippet): Promise<void> {
  const command = snippet.code.trim().replace(/--port\s+8787/, '--port 0');
  const child: ChildProcess = spawn('sh', ['-c', command], {
    cwd: REPO,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout!.on('data', (chunk) => (output += chunk));
  child.stderr!.on('data', (chunk) => (output += chunk));
  try {
    await expect.poll(() => /listening on (http:\/\/\S+)/.exec(output)?.[1], { timeout: 20_000 }).toBeTruthy();
    const url = /listening on (http:\/\/\S+)/.exec(output)![1]!;
    expect((await fetch(`${url}/cobrowse/health`)).status).toBe(200);
    expect((await fetch(`${url}/sdk/recorder.js`)).status).toBe(200);
    if (/--dev\b/.test(command)) expect(output).toContain('DEV MODE');
  } finally {
    // The snippet's process group: npx, the shell script and node.
    if (child.pid) process.kill(-child.pid, 'SIGTERM');
  }
}
