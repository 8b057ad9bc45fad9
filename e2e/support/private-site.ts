import { existsSync, readFileSync } from 'node:fs';
import { createServer, type IncomingMessage } from 'node:http';
import { join } from 'node:path';
import { PNG } from 'pngjs';
import { REPO } from './processes.js';

/**
 * A customer site whose images, fonts and stylesheets sit behind its login cookie: `/login` sets
 * the cookie; `/private/…` answers 403 without it (and `no-store`, so every fetch reaches the
 * server). The agent's browser, in another context without the cookie, cannot load them.
 */
export interface PrivateSite {
  url: string;
  /** Requests for /private/… so far: path, whether the cookie came, and what asked (`sec-fetch-dest`). */
  requests: { path: string; cookie: boolean; dest: string }[];
  /** Bytes of each private asset, by path. */
  sizes: Record<string, number>;
  close(): Promise<void>;
}

const COOKIE = 'shop_session=signed-in';

function png(width: number, height: number, paint: (x: number, y: number) => [number, number, number]): Buffer {
  const image = new PNG({ width, height });
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const [r, g, b] = paint(x, y);
      const i = (y * width + x) * 4;
      image.data[i] = r;
      image.data[i + 1] = g;
      image.data[i + 2] = b;
      image.data[i + 3] = 255;
    }
  }
  return PNG.sync.write(image);
}

/** A TrueType font from the system (Debian's Chromium pulls in DejaVu): distinct from the serif fallback. */
function systemFont(): Buffer {
  const candidates = [
    '/usr/share/fonts/truetype/dejavu/DejaVuSansMono-Bold.ttf',
    '/usr/share/fonts/truetype/dejavu/DejaVuSansMono.ttf',
    '/usr/share/fonts/truetype/liberation/LiberationMono-Bold.ttf',
    '/usr/share/fonts/truetype/liberation/LiberationMono-Regular.ttf',
  ];
  const found = candidates.find((path) => existsSync(path));
  if (!found) throw new Error(`no TrueType font found for the test (looked for ${candidates.join(', ')})`);
  return readFileSync(found);
}

function assets(): Record<string, [string, Buffer]> {
  const stripes = (x: number, y: number): [number, number, number] => [
    (x * 7) % 256,
    (y * 11) % 256,
    x % 40 < 20 ? 200 : 40,
  ];
  return {
    'logo.png': ['image/png', png(240, 80, stripes)],
    'bg.png': ['image/png', png(24, 24, (x, y) => (((x >> 3) + (y >> 3)) % 2 ? [255, 214, 102] : [70, 130, 180]))],
    'tile.png': ['image/png', png(30, 30, (x, y) => [x * 8, 255 - y * 8, 128])],
    'panel.png': ['image/png', png(60, 30, (x, y) => [255 - x * 4, 60 + y * 5, x * 4])],
    'imported.png': ['image/png', png(20, 20, (x, y) => [(x + y) * 6, 90, 200 - x * 5])],
    'r1.png': ['image/png', png(120, 90, (x, y) => [200, x * 2, y * 2])],
    'r2.png': ['image/png', png(240, 180, (x, y) => [20, x, y])],
    'later.png': ['image/png', png(50, 50, (x, y) => [x * 5, y * 5, 250])],
    'rule.png': ['image/png', png(16, 16, (x, y) => [250, x * 15, y * 15])],
    'secret.png': ['image/png', png(60, 60, () => [200, 0, 0])],
    'masked.png': ['image/png', png(60, 60, () => [0, 200, 0])],
    'icon.svg': [
      'image/svg+xml',
      Buffer.from(
        '<svg xmlns="http://www.w3.org/2000/svg" width="80" height="80" viewBox="0 0 80 80">' +
          '<rect width="80" height="80" rx="12" fill="#2a9d8f"/><circle cx="40" cy="40" r="24" fill="#e9c46a"/>' +
          '<path d="M20 60 L60 20" stroke="#264653" stroke-width="8"/></svg>',
      ),
    ],
    'font.ttf': ['font/ttf', systemFont()],
    'theme.css': [
      'text/css',
      Buffer.from(
        '@import url(extra.css);\n' +
          '@font-face { font-family: PrivateFont; src: url(font.ttf) format("truetype"); }\n' +
          '.panel { width: 180px; height: 90px; background: url(panel.png) 0 0 / 100% 100% no-repeat; }\n',
      ),
    ],
    'extra.css': [
      'text/css',
      Buffer.from('.imported { width: 80px; height: 80px; background: url("imported.png"); }\n'),
    ],
  };
}

export async function startPrivateSite(): Promise<PrivateSite> {
  const files = assets();
  const page = readFileSync(join(REPO, 'e2e/pages/private-assets.html'));
  const harness = readFileSync(join(REPO, 'e2e/pages/harness.js'));
  const requests: PrivateSite['requests'] = [];
  const signedIn = (req: IncomingMessage) => (req.headers.cookie ?? '').split(/;\s*/).includes(COOKIE);
  const server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0]!;
    if (path === '/login') {
      res
        .writeHead(200, { 'set-cookie': `${COOKIE}; Path=/; HttpOnly; SameSite=Lax`, 'content-type': 'text/plain' })
        .end('signed in');
    } else if (path === '/assets.html') {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' }).end(page);
    } else if (path === '/harness.js') {
      res
        .writeHead(200, { 'content-type': 'text/javascript; charset=utf-8', 'cache-control': 'no-store' })
        .end(harness);
    } else if (path.startsWith('/private/') && files[path.slice(9)]) {
      requests.push({ path, cookie: signedIn(req), dest: String(req.headers['sec-fetch-dest'] ?? '') });
      if (!signedIn(req)) {
        res.writeHead(403, { 'content-type': 'text/plain', 'cache-control': 'no-store' }).end('sign in first');
        return;
      }
      const [type, body] = files[path.slice(9)]!;
      res
        .writeHead(200, { 'content-type': type, 'content-length': body.length, 'cache-control': 'private, no-store' })
        .end(body);
    } else {
      res.writeHead(404).end('not found');
    }
  });
  server.keepAliveTimeout = 1000;
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  const { port } = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    sizes: Object.fromEntries(Object.entries(files).map(([name, [, body]]) => [`/private/${name}`, body.length])),
    close: () =>
      new Promise((done) => {
        server.closeAllConnections?.();
        server.close(() => done());
      }),
  };
}
