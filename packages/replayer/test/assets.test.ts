import { expect, test } from '@playwright/test';
import type { eventWithTime } from '@rrweb/types';
import { AssetStore, rewriteSrcset } from '../src/assets.js';
import { sanitizeEvent } from '../src/sanitize.js';
import { el, fullSnapshot } from './fixtures.js';

const PAGE = 'https://shop.example/account/page.html';
const png = new Uint8Array([0x89, 0x50, 0x4e, 0x47]);

function store(): AssetStore {
  const assets = new AssetStore();
  assets.base = PAGE;
  // (An SVG copy is cleaned with the browser's XML parser, which Node lacks: stored as PNG here; see e2e/hostile.spec.ts.)
  for (const name of ['logo.png', 'bg.png', 'r2.png', 'sprite.svg'])
    assets.add(`https://shop.example/private/${name}`, 'image/png', png);
  assets.add('https://shop.example/private/font.woff2', 'font/woff2', png);
  return assets;
}

test.describe('captured assets in the replay', () => {
  test('only image, font and stylesheet types are kept, once per URL', () => {
    const assets = new AssetStore();
    expect(assets.add('https://shop.example/a.png', 'image/png', png)).toEqual(['https://shop.example/a.png']);
    expect(assets.add('https://shop.example/a.png', 'image/png', png)).toEqual([]);
    for (const mime of [
      'text/html',
      'text/javascript',
      'application/javascript',
      'application/xhtml+xml',
      'text/xml',
      'application/pdf',
    ]) {
      expect(assets.add(`https://shop.example/x-${mime.replace('/', '-')}`, mime, png), mime).toEqual([]);
    }
    expect(assets.add('javascript:alert(1)', 'image/png', png)).toEqual([]);
    expect(assets.add('https://shop.example/empty.png', 'image/png', new Uint8Array())).toEqual([]);
    expect(assets.lookup('https://shop.example/a.png')).toMatch(/^blob:/);
    assets.revoke();
    expect(assets.lookup('https://shop.example/a.png')).toBeUndefined();
    expect(assets.add('https://shop.example/b.png', 'image/png', png)).toEqual([]);
  });

  test('a snapshot points images, backgrounds, fonts and sprites at the copies; links, frames and objects keep their URLs', () => {
    const assets = store();
    const copy = (name: string) => assets.lookup(`https://shop.example/private/${name}`)!;
    const snapshot = fullSnapshot(
      el('html', {}, [
        el('head', {}, [
          el('style', {
            _cssText:
              '@font-face{font-family:F;src:url("https://shop.example/private/font.woff2")}.h{background:url(../private/bg.png)}',
          }),
        ]),
        el('body', { style: 'background-image: url("/private/bg.png")' }, [
          el('img', { src: 'https://shop.example/private/logo.png' }),
          el('img', {
            src: 'https://shop.example/private/r1.png',
            srcset: 'https://shop.example/private/r1.png 1x, https://shop.example/private/r2.png 2x',
          }),
          el('img', { src: 'https://shop.example/private/logo.png', srcset: 'https://shop.example/private/hi.png 2x' }),
          el('svg', {}, [
            el('use', { href: '/private/sprite.svg#cart' }),
            el('image', { 'xlink:href': 'https://shop.example/private/logo.png' }),
          ]),
          el('a', { href: 'https://shop.example/private/logo.png' }),
          el('iframe', { src: 'https://shop.example/private/logo.png' }),
          el('object', { data: 'https://shop.example/private/logo.png' }),
          el('link', { rel: 'prefetch', href: 'https://shop.example/private/logo.png' }),
          el('p', {}, [{ type: 3, textContent: 'see url(/private/bg.png)' }]),
        ]),
      ]),
    );
    const clean = sanitizeEvent(snapshot, () => undefined, { assets: (ref) => assets.lookup(ref) }) as any;
    const [html] = clean.data.node.childNodes;
    const [head, body] = html.childNodes;
    expect(head.childNodes[0].attributes._cssText).toBe(
      `@font-face{font-family:F;src:url(${JSON.stringify(copy('font.woff2'))})}.h{background:url(${JSON.stringify(copy('bg.png'))})}`,
    );
    expect(body.attributes.style).toBe(`background-image: url(${JSON.stringify(copy('bg.png'))})`);
    const [logo, responsive, fallback, svg, a, iframe, object, link, p] = body.childNodes;
    expect(logo.attributes.src).toBe(copy('logo.png'));
    // Only the candidate captured (the one the customer's browser showed) is left to choose.
    expect(responsive.attributes.srcset).toBe(`${copy('r2.png')} 2x`);
    expect(responsive.attributes.src).toBe('https://shop.example/private/r1.png');
    // The customer's browser showed src: the srcset it did not use goes.
    expect(fallback.attributes.src).toBe(copy('logo.png'));
    expect(fallback.attributes.srcset).toBeUndefined();
    expect(svg.childNodes[0].attributes.href).toBe(`${copy('sprite.svg')}#cart`);
    expect(svg.childNodes[1].attributes['xlink:href']).toBe(copy('logo.png'));
    for (const node of [a, iframe, object, link]) expect(JSON.stringify(node.attributes)).not.toContain('blob:');
    expect(p.childNodes[0].textContent).toBe('see url(/private/bg.png)');
  });

  test('mutations, inserted rules, style changes and adopted sheets are rewritten too', () => {
    const assets = store();
    const copy = (name: string) => JSON.stringify(assets.lookup(`https://shop.example/private/${name}`)!);
    const lookup = { assets: (ref: string) => assets.lookup(ref), styleText: (id: number) => id === 7 };
    const mutation = sanitizeEvent(
      {
        type: 3,
        timestamp: 1,
        data: {
          source: 0,
          texts: [
            { id: 7, value: '.t{background:url(/private/bg.png)}' },
            { id: 8, value: 'see url(/private/bg.png)' },
          ],
          removes: [],
          adds: [{ parentId: 1, nextId: null, node: el('div', { style: 'background:url(/private/bg.png)' }) }],
          attributes: [
            { id: 5, attributes: { src: '/private/logo.png' } },
            {
              id: 6,
              attributes: {
                style: {
                  'background-image': 'url(/private/bg.png)',
                  'mask-image': ['url(/private/logo.png)', 'important'],
                  color: false,
                },
              },
            },
          ],
        },
      } as unknown as eventWithTime,
      (id) => (id === 5 ? 'img' : 'div'),
      lookup,
    ) as any;
    expect(mutation.data.adds[0].node.attributes.style).toBe(`background:url(${copy('bg.png')})`);
    // A stylesheet's text is CSS; a paragraph's is what the customer reads.
    expect(mutation.data.texts.map((t: { value: string }) => t.value)).toEqual([
      `.t{background:url(${copy('bg.png')})}`,
      'see url(/private/bg.png)',
    ]);
    expect(mutation.data.attributes[0].attributes.src).toBe(JSON.parse(copy('logo.png')));
    expect(mutation.data.attributes[1].attributes.style).toEqual({
      'background-image': `url(${copy('bg.png')})`,
      'mask-image': [`url(${copy('logo.png')})`, 'important'],
      color: false,
    });
    const rule = sanitizeEvent(
      {
        type: 3,
        timestamp: 1,
        data: { source: 8, id: 3, adds: [{ rule: '.x{background:url(../private/bg.png)}', index: 0 }] },
      } as unknown as eventWithTime,
      () => undefined,
      lookup,
    ) as any;
    expect(rule.data.adds[0].rule).toBe(`.x{background:url(${copy('bg.png')})}`);
    const declaration = sanitizeEvent(
      {
        type: 3,
        timestamp: 1,
        data: { source: 13, id: 3, index: [0], set: { property: 'background', value: 'url(/private/logo.png)' } },
      } as unknown as eventWithTime,
      () => undefined,
      lookup,
    ) as any;
    expect(declaration.data.set.value).toBe(`url(${copy('logo.png')})`);
    const adopted = sanitizeEvent(
      {
        type: 3,
        timestamp: 1,
        data: {
          source: 15,
          id: 1,
          styleIds: [1],
          styles: [{ styleId: 1, rules: [{ rule: '.y{background:url("/private/bg.png")}' }] }],
        },
      } as unknown as eventWithTime,
      () => undefined,
      lookup,
    ) as any;
    expect(adopted.data.styles[0].rules[0].rule).toBe(`.y{background:url(${copy('bg.png')})}`);
  });

  test('a stylesheet asset points at the copies of what it refers to, and is remade when they arrive later', async () => {
    const assets = new AssetStore();
    assets.base = PAGE;
    const css =
      '@import url("https://shop.example/private/more.css");\n.a{background:url("https://shop.example/private/a.png")}';
    expect(assets.add('https://shop.example/private/main.css', 'text/css', new TextEncoder().encode(css))).toEqual([
      'https://shop.example/private/main.css',
    ]);
    const first = assets.lookup('https://shop.example/private/main.css')!;
    expect(await (await fetch(first)).text()).toBe(css);
    // The image it uses arrives: the stylesheet gets a new copy that uses the image's copy.
    expect(assets.add('https://shop.example/private/a.png', 'image/png', png)).toEqual([
      'https://shop.example/private/a.png',
      'https://shop.example/private/main.css',
    ]);
    const second = assets.lookup('https://shop.example/private/main.css')!;
    expect(second).not.toBe(first);
    expect(await (await fetch(second)).text()).toContain(
      `url(${JSON.stringify(assets.lookup('https://shop.example/private/a.png'))})`,
    );
    // An element still on the old copy is moved to the new one.
    expect(assets.lookup(first)).toBe(second);
    // The imported sheet arrives: the importing one is remade too.
    assets.add('https://shop.example/private/more.css', 'text/css', new TextEncoder().encode('.m{color:red}'));
    expect(await (await fetch(assets.lookup('https://shop.example/private/main.css')!)).text()).toContain(
      `@import url(${JSON.stringify(assets.lookup('https://shop.example/private/more.css'))})`,
    );
    assets.revoke();
  });

  test('srcset with no captured candidate is left alone', () => {
    expect(rewriteSrcset('a.png 1x, b.png 2x', () => undefined)).toBeUndefined();
  });
});
