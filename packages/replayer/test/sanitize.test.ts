import { expect, test } from '@playwright/test';
import type { eventWithTime } from '@rrweb/types';
import { sanitizeEvent } from '../src/sanitize.js';
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
