import type { IncomingMessage, ServerResponse } from 'node:http';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';

interface Asset {
  body: Buffer;
  gzip: Buffer;
  etag: string;
}

/** Browser bundles served under /sdk/: name → package export that holds the IIFE. */
const BUNDLES: Record<string, { pkg: string; file: string }> = {
  'recorder.js': { pkg: '@cobrowse/recorder/iife', file: 'recorder.iife.js' },
  /** Loaded by recorder.js when a share starts (the compressor). */
  'recorder-deflate.js': { pkg: '@cobrowse/recorder/iife-deflate', file: 'recorder-deflate.iife.js' },
  'replayer.js': { pkg: '@cobrowse/replayer/iife', file: 'replayer.iife.js' },
};

/** Serves the script-tag bundles with ETag revalidation and gzip, read once and kept in memory. */
export class StaticSdk {
  private readonly cache = new Map<string, Asset | null>();
  private readonly require = createRequire(import.meta.url);

  constructor(private readonly sdkDir: string | undefined) {}

  private load(name: string): Asset | null {
    if (this.cache.has(name)) return this.cache.get(name)!;
    const bundle = BUNDLES[name];
    let asset: Asset | null = null;
    if (bundle) {
      try {
        const path = this.sdkDir ? join(this.sdkDir, bundle.file) : this.require.resolve(bundle.pkg);
        const body = readFileSync(path);
        asset = {
          body,
          gzip: gzipSync(body, { level: 9 }),
          etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 22)}"`,
        };
      } catch {
        asset = null;
      }
    }
    this.cache.set(name, asset);
    return asset;
  }

  /** Answers GET /sdk/<name>. */
  serve(name: string, req: IncomingMessage, res: ServerResponse): void {
    const asset = this.load(name);
    if (!asset) {
      res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' });
      res.end(BUNDLES[name] ? `${name} is not built: run npm run build\n` : 'not found\n');
      return;
    }
    const headers: Record<string, string> = {
      'content-type': 'text/javascript; charset=utf-8',
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
