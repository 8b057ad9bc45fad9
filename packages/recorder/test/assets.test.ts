import { expect, test } from '@playwright/test';
import { assetMime, resolveAssetOptions, sniff } from '../src/assets.js';

const bytes = (...values: (number | string)[]) =>
  new Uint8Array(values.flatMap((v) => (typeof v === 'number' ? [v] : [...v].map((c) => c.charCodeAt(0)))));
const text = (s: string) => new TextEncoder().encode(s);

test.describe('asset capture (recorder)', () => {
  test("sniffs images and fonts; a document in an asset's place is refused", () => {
    expect(sniff(bytes(0x89, 'PNG', 13, 10))).toBe('image/png');
    expect(sniff(bytes(0xff, 0xd8, 0xff, 0xe0))).toBe('image/jpeg');
    expect(sniff(bytes('GIF89a'))).toBe('image/gif');
    expect(sniff(bytes('RIFF', 0, 0, 0, 0, 'WEBPVP8 '))).toBe('image/webp');
    expect(sniff(bytes('wOF2', 0, 1))).toBe('font/woff2');
    expect(sniff(bytes(0, 1, 0, 0, 0, 12))).toBe('font/ttf');
    expect(sniff(text('<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"/>'))).toBe('image/svg+xml');
    expect(sniff(text('\uFEFF  <!DOCTYPE html><html><body>Sign in</body></html>'))).toBe('html');
    expect(sniff(text('body { color: red }'))).toBeUndefined();
  });

  test("the type: the server's when it is an asset type, else what the bytes are; never a page or a script", () => {
    const png = bytes(0x89, 'PNG', 13, 10);
    expect(assetMime('image/png', png, 'https://s.example/a.png', 'image')).toBe('image/png');
    expect(assetMime('image/jpg', bytes(0xff, 0xd8, 0xff), 'https://s.example/a.jpg', 'image')).toBe('image/jpeg');
    expect(assetMime('application/octet-stream', png, 'https://s.example/a', 'image')).toBe('image/png');
    expect(assetMime('application/octet-stream', bytes(1, 2, 3), 'https://s.example/f.woff2?v=3', 'font')).toBe(
      'font/woff2',
    );
    expect(assetMime('application/font-woff', bytes('wOFF'), 'https://s.example/f', 'font')).toBe('font/woff');
    expect(assetMime('text/css; charset=utf-8', text('.a{}'), 'https://s.example/a.css', 'css')).toBe('text/css');
    expect(assetMime('text/css', text('.a{}'), 'https://s.example/a.css', 'image')).toBeUndefined();
    // A login page served in the image's place (200, HTML), whatever it claims.
    expect(
      assetMime('text/html', text('<!doctype html><p>Sign in'), 'https://s.example/a.png', 'image'),
    ).toBeUndefined();
    expect(
      assetMime('image/png', text('<html><script>x()</script>'), 'https://s.example/a.png', 'image'),
    ).toBeUndefined();
    expect(assetMime('text/javascript', text('alert(1)'), 'https://s.example/a.js', 'any')).toBeUndefined();
    expect(assetMime('application/octet-stream', bytes(1, 2, 3), 'https://s.example/a.bin', 'any')).toBeUndefined();
  });

  test('options: the page\'s origin always, more by name or "*", sizes bounded', () => {
    const defaults = resolveAssetOptions(undefined, 'https://shop.example');
    expect([...defaults.origins]).toEqual(['https://shop.example']);
    expect(defaults.anyOrigin).toBe(false);
    expect(defaults.maxAssetBytes).toBe(2 * 1024 * 1024);
    expect(defaults.maxTotalBytes).toBe(8 * 1024 * 1024);
    const custom = resolveAssetOptions(
      { origins: ['https://cdn.intranet.example/path', 'not a url', '*'], maxAssetBytes: 1e9, maxTotalBytes: 1000 },
      'https://shop.example',
    );
    expect([...custom.origins]).toEqual(['https://shop.example', 'https://cdn.intranet.example']);
    expect(custom.anyOrigin).toBe(true);
    expect(custom.maxAssetBytes).toBe(8 * 1024 * 1024);
    expect(custom.maxTotalBytes).toBe(1000);
  });
});
