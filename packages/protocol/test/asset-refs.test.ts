import { expect, test } from '@playwright/test';
import { cssRefs, parseSrcset, replaceCssRefs, serializeSrcset } from '../src/index.js';

test.describe('asset references', () => {
  test('CSS: url() in every quoting, @import strings, nothing else', () => {
    const css = `
      @import "theme.css"; @import url('print.css') print;
      .a { background: url(/private/bg.png) no-repeat, URL( "x y.png" ); }
      @font-face { font-family: F; src: url('fonts/f.woff2') format("woff2"), url(data:font/woff2;base64,AAAA) }
      .b::after { content: "url(not-a-ref)"; mask: url(#clip); }
      .c { background: url("esc\\"aped.png") }`;
    expect(cssRefs(css)).toEqual([
      'theme.css',
      'print.css',
      '/private/bg.png',
      'x y.png',
      'fonts/f.woff2',
      'data:font/woff2;base64,AAAA',
      'not-a-ref',
      '#clip',
      'esc"aped.png',
    ]);
    expect(cssRefs('.plain { color: red }')).toEqual([]);
  });

  test('CSS: replacing keeps everything around the references', () => {
    const css = `@import 'a.css'; .x{background:url(b.png) 0 0/cover}.y{src:url("c.woff")}`;
    const out = replaceCssRefs(css, (ref) =>
      ref === 'a.css' || ref === 'b.png' ? `blob:http://agent/${ref}` : undefined,
    );
    expect(out).toBe(
      `@import "blob:http://agent/a.css"; .x{background:url("blob:http://agent/b.png") 0 0/cover}.y{src:url("c.woff")}`,
    );
    expect(replaceCssRefs(css, () => undefined)).toBe(css);
  });

  test('srcset: URLs with commas, descriptors, odd spacing', () => {
    const value = ' a.png 1x,b.png  2x , https://x.example/c,d.png 640w,e.png,';
    expect(parseSrcset(value)).toEqual([
      { url: 'a.png', descriptor: '1x' },
      { url: 'b.png', descriptor: '2x' },
      { url: 'https://x.example/c,d.png', descriptor: '640w' },
      { url: 'e.png', descriptor: '' },
    ]);
    expect(serializeSrcset(parseSrcset('a.png 1x, b.png 2x'))).toBe('a.png 1x, b.png 2x');
    expect(parseSrcset('')).toEqual([]);
  });
});
