import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, test } from '@playwright/test';
import { relayFor } from './helpers.js';

/** The browser bundles under /sdk/: from the relay package's sdk/ (filled by the build) or config sdkDir. */

test('serves the bundles the build copied into the relay package, each with its source map beside it', async () => {
  const relay = await relayFor();
  try {
    for (const [name, map] of [
      ['recorder.js', 'recorder.iife.js.map'],
      ['recorder-deflate.js', 'recorder-deflate.iife.js.map'],
      ['replayer.js', 'replayer.iife.js.map'],
    ] as const) {
      const script = await fetch(`${relay.base}/sdk/${name}`);
      expect(script.status, name).toBe(200);
      expect(script.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
      const text = await script.text();
      // devtools resolves the map beside the script: /sdk/<map>
      expect(text.trimEnd().endsWith(`//# sourceMappingURL=${map}`), name).toBe(true);
      const source = await fetch(new URL(map, `${relay.base}/sdk/${name}`));
      expect(source.status, map).toBe(200);
      expect(source.headers.get('content-type')).toBe('application/json; charset=utf-8');
      const json = (await source.json()) as { version: number; sources: string[] };
      expect(json.version).toBe(3);
      expect(json.sources.length).toBeGreaterThan(0);
    }
  } finally {
    await relay.close();
  }
});

test('names that are not bundles are 404, including object-prototype names and the files themselves', async () => {
  const relay = await relayFor();
  try {
    for (const name of ['__proto__', 'constructor', 'hasOwnProperty', 'toString', 'recorder.iife.js', 'x.js', '.map'])
      expect((await fetch(`${relay.base}/sdk/${name}`)).status, name).toBe(404);
  } finally {
    await relay.close();
  }
});

test('sdkDir serves another directory; a bundle missing there is looked for again, not remembered as missing', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'cobrowse-sdk-'));
  const relay = await relayFor({ sdkDir: dir });
  try {
    const missing = await fetch(`${relay.base}/sdk/recorder.js`);
    expect(missing.status).toBe(404);
    expect(await missing.text()).toContain('not built');
    writeFileSync(join(dir, 'recorder.iife.js'), 'window.pinned = 1;\n');
    const found = await fetch(`${relay.base}/sdk/recorder.js`);
    expect(found.status).toBe(200);
    expect(await found.text()).toBe('window.pinned = 1;\n');
    const again = await fetch(`${relay.base}/sdk/recorder.js`, {
      headers: { 'if-none-match': found.headers.get('etag')! },
    });
    expect(again.status).toBe(304);
  } finally {
    await relay.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
