import { readFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { fileURLToPath } from 'node:url';
import { expect, test } from '@playwright/test';

const bundle = readFileSync(fileURLToPath(new URL('../dist/recorder.iife.js', import.meta.url)));

test('the recorder script tag costs the page at most 45 KB gzipped', () => {
  const gzipped = gzipSync(bundle, { level: 9 }).length;
  expect(gzipped).toBeLessThanOrEqual(45 * 1024);
});

test('the script tag bundle leaves out replay-only code (postcss, the Replayer)', () => {
  const text = bundle.toString('utf8');
  expect(text).not.toContain('CssSyntaxError');
  expect(text).not.toContain('replayer-wrapper'); // rrweb's Replayer builds this
  expect(text).toContain('CobrowseRecorder');
});

test('the script tag adds one global and survives a page whose own globals have short names', async ({ page }) => {
  await page.setContent('<script>const A = 1; let rl = 2, sl = 3; var e = 4, t = 5;</script>');
  const before = await page.evaluate(() => Object.keys(window).length);
  await page.addScriptTag({ content: bundle.toString('utf8') });
  expect(await page.evaluate(() => typeof (window as any).CobrowseRecorder?.start)).toBe('function');
  expect(await page.evaluate(() => Object.keys(window).length)).toBe(before + 1);
});

test('the ES module build, as an app bundler minifies it, costs at most 56 KB gzipped (the script-tag build plus the compressor it loads later) and carries no postcss', async () => {
  const { build } = await import('esbuild');
  const result = await build({
    stdin: {
      contents: "import { start } from '@cobrowse/recorder'; globalThis.start = start;",
      resolveDir: process.cwd(),
    },
    bundle: true,
    minify: true,
    format: 'esm',
    write: false,
    logLevel: 'silent',
  });
  const code = result.outputFiles[0]!.contents;
  expect(Buffer.from(code).toString('utf8')).not.toContain('CssSyntaxError');
  expect(gzipSync(code, { level: 9 }).length).toBeLessThanOrEqual(56 * 1024);
});
