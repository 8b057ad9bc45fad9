import { expect, test } from '@playwright/test';
import type { eventWithTime } from '@rrweb/types';
import { INERT_TAG, sanitizeEvent, unsafeAttribute } from '../src/sanitize.js';
import { el, fullSnapshot } from './fixtures.js';

test('strips what could run, navigate or submit; keeps what the page looks like', () => {
  const snapshot = fullSnapshot(
    el('html', {}, [
      el('head', {}, [
        el('meta', { 'http-equiv': 'refresh', content: '0;url=https://evil.example' }),
        el('base', { href: 'https://evil.example/' }),
        el('script', { src: 'https://evil.example/x.js' }, [{ type: 3, textContent: 'alert(1)' }]),
      ]),
      el('body', { onload: 'alert(1)', class: 'page' }, [
        el('a', { href: 'javascript:alert(1)', target: '_top', title: 'ok' }),
        el('a', { href: 'https://shop.example/help' }),
        el('img', { src: 'https://shop.example/logo.png', onerror: 'alert(1)' }),
        el('iframe', { srcdoc: '<script>alert(1)</script>', src: ' javascript:alert(1)' }),
        el('form', { action: 'https://evil.example/steal' }, [el('button', { formaction: 'https://evil.example' })]),
        el('svg', { onload: 'alert(1)' }, [el('a', { 'xlink:href': 'javascript:alert(1)' })]),
        el('object', { data: 'data:text/html,<script>alert(1)</script>' }),
      ]),
    ]),
  );
  const json = JSON.stringify(sanitizeEvent(snapshot, () => undefined));
  for (const bad of [
    'http-equiv',
    'evil.example/',
    'evil.example/steal',
    'x.js',
    'alert(1)',
    'javascript:',
    'onload',
    'onerror',
    'srcdoc',
    'formaction',
    '_top',
  ]) {
    expect(json, bad).not.toContain(bad);
  }
  for (const good of ['https://shop.example/help', 'https://shop.example/logo.png', '"class":"page"', '"title":"ok"'])
    expect(json).toContain(good);
});

test('attribute changes and added nodes are cleaned too', () => {
  const mutation = {
    type: 3,
    timestamp: 1,
    data: {
      source: 0,
      texts: [],
      removes: [],
      adds: [{ parentId: 1, nextId: null, node: el('div', { onclick: 'x()', id: 'kept' }) }],
      attributes: [
        { id: 5, attributes: { href: 'javascript:x()', onmouseover: 'x()', class: 'fine' } },
        { id: 6, attributes: { href: 'https://evil.example/' } },
      ],
    },
  } as unknown as eventWithTime;
  const clean = sanitizeEvent(mutation, (id) => (id === 6 ? 'base' : 'a')) as any;
  expect(clean.data.adds[0].node.attributes).toEqual({ id: 'kept' });
  expect(clean.data.attributes[0].attributes).toEqual({ class: 'fine' });
  expect(clean.data.attributes[1].attributes).toEqual({});
});

test('URL tricks are read as a browser reads them: tabs, newlines, controls, case, character references', () => {
  const js = 'alert(1)';
  const bad = [
    `java\tscript:${js}`,
    `java\nscript:${js}`,
    `java\rscript:${js}`,
    `\u0001\u0002 javascript:${js}`,
    `JaVaScRiPt:${js}`,
    `&#106;avascript:${js}`,
    `&#x6A;avascript:${js}`,
    `javascript&colon;${js}`,
    `vbscript:${js}`,
    'data:text/html,<script>alert(1)</script>',
    'data:text/xml,<x/>',
    ' DATA:text/html;base64,PHNjcmlwdD4=',
    'file:///etc/passwd',
  ];
  for (const href of bad) {
    expect(unsafeAttribute('a', 'href', href), href).toBe(true);
    expect(unsafeAttribute('img', 'src', href), href).toBe(true);
  }
  for (const href of ['https://shop.example/', '/relative', 'page.html#x', 'mailto:a@b.example', 'tel:+123'])
    expect(unsafeAttribute('a', 'href', href), href).toBe(false);
  // Images may be data: images, links may not.
  expect(unsafeAttribute('img', 'src', 'data:image/png;base64,AAAA')).toBe(false);
  expect(unsafeAttribute('a', 'href', 'data:image/png;base64,AAAA')).toBe(true);
  expect(unsafeAttribute('img', 'srcset', 'https://a.example/1.png 1x, javascript:x 2x')).toBe(true);
});

test('the final state decides: an attribute set in the same mutation as its node, and a reused id', () => {
  const mutation = {
    type: 3,
    timestamp: 1,
    data: {
      source: 0,
      texts: [],
      removes: [{ parentId: 1, id: 9 }],
      adds: [
        { parentId: 1, nextId: null, node: { ...el('base', {}), id: 8 } },
        { parentId: 1, nextId: null, node: { ...el('iframe', {}), id: 9 } },
        { parentId: 1, nextId: null, node: { ...el('script', {}), id: 10 } },
      ],
      attributes: [
        { id: 8, attributes: { href: 'https://evil.example/' } },
        { id: 9, attributes: { src: 'https://evil.example/', srcdoc: '<script>x</script>' } },
        { id: 10, attributes: { src: 'https://evil.example/x.js' } },
        // Unknown to anyone: the worst case is assumed.
        { id: 11, attributes: { src: 'https://evil.example/', data: 'x', class: 'kept' } },
      ],
    },
  } as unknown as eventWithTime;
  // The mirror still holds an <img> under id 9 and knows nothing of 8 and 10.
  const clean = sanitizeEvent(mutation, (id) => (id === 9 ? 'img' : undefined)) as any;
  expect(clean.data.adds[0].node.tagName).toBe(INERT_TAG);
  for (const change of clean.data.attributes.slice(0, 3)) expect(change.attributes).toEqual({});
  expect(clean.data.attributes[3].attributes).toEqual({ class: 'kept' });
});

test('SVG animations may not animate a link or a handler; <meta>, <base>, <object>, <embed> become inert', () => {
  const snapshot = fullSnapshot(
    el('html', {}, [
      el('head', {}, [el('meta', { name: 'referrer', content: 'unsafe-url' }), el('base', { href: '/x/' })]),
      el('body', {}, [
        el('svg', {}, [
          el('a', {}, [
            el('set', { attributeName: 'href', to: 'javascript:alert(1)' }),
            el('animate', { attributeName: 'xlink:href', values: 'https://a.example/;javascript:alert(1)' }),
            el('animate', { attributeName: 'opacity', values: '0;1' }),
            el('set', { attributeName: 'onclick', to: 'alert(1)' }),
          ]),
        ]),
        el('object', { data: 'https://evil.example/x.swf', width: '10' }),
        el('embed', { src: 'https://evil.example/x.swf' }),
      ]),
    ]),
  );
  const json = JSON.stringify(sanitizeEvent(snapshot, () => undefined));
  for (const bad of [
    'javascript:',
    'unsafe-url',
    '"href"',
    'xlink:href',
    'onclick',
    'evil.example',
    '"object"',
    '"embed"',
  ])
    expect(json, bad).not.toContain(bad);
  expect(json).toContain('"attributeName":"opacity"');
  expect(json).toContain('"width":"10"');
});
