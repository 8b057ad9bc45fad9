import type { IncomingMessage, ServerResponse } from 'node:http';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';

interface Asset {
  body: Buffer;
  gzip: Buffer;
  etag: string;
  type: string;
}

/**
 * Where the browser bundles are by default: `sdk/` in this package, filled by `npm run build`
 * (build/copy-sdk.mjs copies the recorder's and replayer's script-tag builds there). Resolved from
 * this module, which sits one level down in both `src/` and `dist/`.
 */
export const DEFAULT_SDK_DIR = fileURLToPath(new URL('../sdk/', import.meta.url));

const JS = 'text/javascript; charset=utf-8';
const MAP = 'application/json; charset=utf-8';

/**
 * The names served under /sdk/ → the file that holds each (in `sdkDir`). Each bundle's last line
 * names its source map (`//# sourceMappingURL=recorder.iife.js.map`), which devtools resolves
 * beside the script, so the maps are served under their own names. Nothing else is served.
 */
const FILES: ReadonlyMap<string, { file: string; type: string }> = new Map([
  ['recorder.js', { file: 'recorder.iife.js', type: JS }],
  ['recorder.iife.js.map', { file: 'recorder.iife.js.map', type: MAP }],
  /** Loaded by recorder.js when a share starts (the compressor). */
  ['recorder-deflate.js', { file: 'recorder-deflate.iife.js', type: JS }],
  ['recorder-deflate.iife.js.map', { file: 'recorder-deflate.iife.js.map', type: MAP }],
  ['replayer.js', { file: 'replayer.iife.js', type: JS }],
  ['replayer.iife.js.map', { file: 'replayer.iife.js.map', type: MAP }],
]);

/**
 * Serves the script-tag bundles with ETag revalidation and gzip, each read once and kept in
 * memory. A bundle that is missing is looked for again on the next request (a build may add it).
 */
export class StaticSdk {
  private readonly cache = new Map<string, Asset>();
  private readonly dir: string;

  constructor(sdkDir: string | undefined) {
    this.dir = sdkDir ?? DEFAULT_SDK_DIR;
  }

  private load(name: string): Asset | undefined {
    const cached = this.cache.get(name);
    if (cached) return cached;
    const entry = FILES.get(name);
    if (!entry) return undefined;
    let body: Buffer;
    try {
      body = readFileSync(join(this.dir, entry.file));
    } catch {
      return undefined;
    }
    const asset = {
      body,
      gzip: gzipSync(body, { level: 9 }),
      etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 22)}"`,
      type: entry.type,
    };
    this.cache.set(name, asset);
    return asset;
  }

  /** Answers GET /sdk/<name>. */
  serve(name: string, req: IncomingMessage, res: ServerResponse): void {
    const asset = this.load(name);
    if (!asset) {
      res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' });
      res.end(FILES.has(name) ? `${name} is not built: run npm run build\n` : 'not found\n');
      return;
    }
    const headers: Record<string, string> = {
      'content-type': asset.type,
      'cache-control': 'public, max-age=300, must-revalidate',
      etag: asset.etag,
      vary: 'Accept-Encoding',
      'access-control-allow-origin': '*',
      'cross-origin-resource-policy': 'cross-origin',
    };
    if (req.headers['if-none-match'] === asset.etag) {
      res.writeHead(304, headers);
      res.end();
      return;
    }
    const gzip = /\bgzip\b/.test(String(req.headers['accept-encoding'] ?? ''));
    const body = gzip ? asset.gzip : asset.body;
    res.writeHead(200, {
      ...headers,
      'content-length': String(body.length),
      ...(gzip ? { 'content-encoding': 'gzip' } : {}),
    });
    res.end(req.method === 'HEAD' ? undefined : body);
  }
}
