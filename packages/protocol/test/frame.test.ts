import { expect, test } from '@playwright/test';
import { ErrorCode, ProtocolError, decodeBytes, decodeText, encodeBinary, encodeText, validateMessage, MAX_HEADER_BYTES } from '../src/index.js';

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
    ['hello from the future', { type: 'hello', v: 99 }, ErrorCode.UnsupportedVersion],
    ['bad resume', { type: 'hello', v: 1, resume: { epoch: 'e', seq: 'x' } }, ErrorCode.BadField],
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

  test('refuses bad JSON and oversize headers', () => {
    expect(() => decodeText('{"type":')).toThrow(/not valid JSON/);
    expect(() => decodeText(`{"type":"bye","reason":"${'x'.repeat(MAX_HEADER_BYTES)}"}`)).toThrow(/too long/);
    expect(() => decodeBytes(new Uint8Array(MAX_HEADER_BYTES + 10).fill(0x20))).toThrow(/too long/);
  });
});
