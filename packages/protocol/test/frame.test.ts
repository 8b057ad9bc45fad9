import { expect, test } from '@playwright/test';
import {
  ErrorCode,
  ProtocolError,
  decodeBytes,
  decodeText,
  encodeBinary,
  encodeText,
  validateMessage,
  MAX_ASSET_URL_LENGTH,
  MAX_HEADER_BYTES,
} from '../src/index.js';

test.describe('frames', () => {
  test('a text frame carries a header and a payload apart', () => {
    const frame = encodeText({ type: 'events', epoch: 'e1', seq: 3, snap: true }, '[{"type":4,"data":{"a":"x\\ny"}}]');
    const decoded = decodeText(frame);
    expect(decoded.message).toEqual({ type: 'events', epoch: 'e1', seq: 3, snap: true });
    expect(JSON.parse(decoded.payload!)).toEqual([{ type: 4, data: { a: 'x\ny' } }]);
  });

  test('a binary frame keeps payload bytes intact and decodes from bytes', () => {
    const payload = new Uint8Array([0, 10, 255, 10, 1]);
    const frame = encodeBinary({ type: 'events', epoch: 'e1', seq: 1, z: 1 }, payload);
    const decoded = decodeBytes(frame);
    expect(decoded.message).toEqual({ type: 'events', epoch: 'e1', seq: 1, z: 1 });
    expect([...decoded.payload!]).toEqual([...payload]);
    // A header-only text frame decodes from bytes too (the relay sees bytes).
    expect(decodeBytes(new TextEncoder().encode(encodeText({ type: 'bye' }))).message).toEqual({ type: 'bye' });
  });

  const refused: [string, unknown, ErrorCode][] = [
    ['not an object', [1, 2], ErrorCode.BadFrame],
    ['no type', { seq: 1 }, ErrorCode.UnknownType],
    ['unknown type', { type: 'drop-tables' }, ErrorCode.UnknownType],
    ['prototype key as type', { type: 'constructor' }, ErrorCode.UnknownType],
    ['events without seq', { type: 'events', epoch: 'e' }, ErrorCode.BadField],
    ['negative seq', { type: 'events', epoch: 'e', seq: -1 }, ErrorCode.BadField],
    ['fractional seq', { type: 'events', epoch: 'e', seq: 1.5 }, ErrorCode.BadField],
    ['bad z', { type: 'events', epoch: 'e', seq: 1, z: 3 }, ErrorCode.BadField],
    ['hello without v', { type: 'hello' }, ErrorCode.BadField],
    ['agent op unknown', { type: 'agent', op: 999 }, ErrorCode.BadField],
    ['agent op as text', { type: 'agent', op: '400' }, ErrorCode.BadField],
    ['agent x infinite', { type: 'agent', op: 100, x: Infinity, y: 0 }, ErrorCode.BadField],
    ['agent x NaN', { type: 'agent', op: 100, x: NaN, y: 0 }, ErrorCode.BadField],
    ['agent x far away', { type: 'agent', op: 100, x: 1e9, y: 0 }, ErrorCode.BadField],
    ['agent negative width', { type: 'agent', op: 200, x: 0, y: 0, w: -1, h: 1 }, ErrorCode.BadField],
    ['agent fractional id', { type: 'agent', op: 400, id: 1.5 }, ErrorCode.BadField],
    ['agent value too long', { type: 'agent', op: 401, id: 1, value: 'x'.repeat(1001) }, ErrorCode.BadField],
    ['control unknown state', { type: 'control', state: 'stolen', agent: 'a' }, ErrorCode.BadField],
    ['control without agent', { type: 'control', state: 'granted' }, ErrorCode.BadField],
    ['refused without op', { type: 'refused', agent: 'a' }, ErrorCode.BadField],
    ['hello from the future', { type: 'hello', v: 99 }, ErrorCode.UnsupportedVersion],
    ['bad resume', { type: 'hello', v: 1, resume: { epoch: 'e', seq: 'x' } }, ErrorCode.BadField],
    ['asset without url', { type: 'asset', mime: 'image/png' }, ErrorCode.BadField],
    ['asset without mime', { type: 'asset', url: 'https://shop.example/a.png' }, ErrorCode.BadField],
    ['asset that is a page', { type: 'asset', url: 'https://shop.example/a', mime: 'text/html' }, ErrorCode.BadField],
    [
      'asset that is a script',
      { type: 'asset', url: 'https://shop.example/a.js', mime: 'text/javascript' },
      ErrorCode.BadField,
    ],
    [
      'asset that is XML',
      { type: 'asset', url: 'https://shop.example/a.xml', mime: 'application/xml' },
      ErrorCode.BadField,
    ],
    [
      'asset mime with parameters',
      { type: 'asset', url: 'https://shop.example/a.css', mime: 'text/css; charset=utf-8' },
      ErrorCode.BadField,
    ],
    [
      'asset with a javascript: url',
      { type: 'asset', url: 'javascript:alert(1)', mime: 'image/png' },
      ErrorCode.BadField,
    ],
    [
      'asset with a data: url',
      { type: 'asset', url: 'data:image/png;base64,AAAA', mime: 'image/png' },
      ErrorCode.BadField,
    ],
    ['asset with a relative url', { type: 'asset', url: '/a.png', mime: 'image/png' }, ErrorCode.BadField],
    [
      'asset url with a fragment',
      { type: 'asset', url: 'https://shop.example/s.svg#icon', mime: 'image/svg+xml' },
      ErrorCode.BadField,
    ],
    [
      'asset url with a space',
      { type: 'asset', url: 'https://shop.example/a b.png', mime: 'image/png' },
      ErrorCode.BadField,
    ],
    [
      'asset url too long',
      { type: 'asset', url: `https://shop.example/${'a'.repeat(MAX_ASSET_URL_LENGTH)}`, mime: 'image/png' },
      ErrorCode.BadField,
    ],
  ];
  for (const [name, value, code] of refused) {
    test(`refuses ${name} with ${code}`, () => {
      let error: unknown;
      try {
        validateMessage(value);
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(ProtocolError);
      expect((error as ProtocolError).code).toBe(code);
    });
  }

  test('an asset travels as a binary frame: the header names it, the payload is its bytes', () => {
    const bytes = new Uint8Array([0x89, 0x50, 0x4e, 0x47, 10, 0, 255]);
    const header = { type: 'asset', url: 'https://shop.example/private/logo.png?v=2', mime: 'image/png' } as const;
    const decoded = decodeBytes(encodeBinary(header, bytes));
    expect(decoded.message).toEqual(header);
    expect([...decoded.payload!]).toEqual([...bytes]);
    // A blob: URL of the page (an image the page made itself) is an asset too.
    expect(
      validateMessage({
        type: 'asset',
        url: 'blob:https://shop.example/6f1c0b1e-6a0e-4d3c-9f5e-0c1d2e3f4a5b',
        mime: 'image/webp',
      }),
    ).toBeTruthy();
    // The longest URL allowed still fits a header.
    const longest = {
      type: 'asset',
      url: `https://shop.example/${'a'.repeat(MAX_ASSET_URL_LENGTH - 21)}`,
      mime: 'application/vnd.ms-fontobject',
    } as const;
    expect(JSON.stringify(longest).length).toBeLessThanOrEqual(MAX_HEADER_BYTES);
    expect(decodeBytes(encodeBinary(longest, bytes)).message).toEqual(longest);
  });

  test('refuses bad JSON and oversize headers', () => {
    expect(() => decodeText('{"type":')).toThrow(/not valid JSON/);
    expect(() => decodeText(`{"type":"bye","reason":"${'x'.repeat(MAX_HEADER_BYTES)}"}`)).toThrow(/too long/);
    expect(() => decodeBytes(new Uint8Array(MAX_HEADER_BYTES + 10).fill(0x20))).toThrow(/too long/);
  });
});
