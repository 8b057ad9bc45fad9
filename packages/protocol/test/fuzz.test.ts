import { expect, test } from '@playwright/test';
import fc from 'fast-check';
import {
  ProtocolError,
  decodeBytes,
  decodeText,
  encodeBinary,
  encodeText,
  validateMessage,
  type Message,
} from '../src/index.js';

/** Whatever arrives, the decoders either return a valid message or throw a ProtocolError — nothing else. */
function decodesOrRefuses(run: () => unknown): void {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(ProtocolError);
  }
}

const message: fc.Arbitrary<Message> = fc.oneof(
  fc.record({
    type: fc.constant('hello' as const),
    v: fc.constant(1),
    epoch: fc.option(fc.string({ minLength: 1, maxLength: 64 }), { nil: undefined }),
  }),
  fc.record({
    type: fc.constant('events' as const),
    epoch: fc.string({ minLength: 1, maxLength: 64 }),
    seq: fc.nat(),
    snap: fc.option(fc.boolean(), { nil: undefined }),
  }),
  fc.record({
    type: fc.constant('asset' as const),
    url: fc.webUrl({ withQueryParameters: true }).filter((u) => u.length <= 1600 && !/[\s#]/.test(u)),
    mime: fc.constantFrom('image/png', 'image/svg+xml', 'font/woff2', 'text/css'),
  }),
  fc.record({
    type: fc.constant('request-snapshot' as const),
    reason: fc.option(fc.string({ maxLength: 100 }), { nil: undefined }),
  }),
  fc.record({ type: fc.constant('ack' as const), seq: fc.nat() }),
  fc.record({
    type: fc.constant('bye' as const),
    reason: fc.option(fc.string({ maxLength: 100 }), { nil: undefined }),
  }),
);

test.describe('decoder fuzz (fast-check)', () => {
  test('random text frames', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 3000 }), (text) => decodesOrRefuses(() => decodeText(text))),
      { numRuns: 2000 },
    );
  });

  test('random bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 3000 }), (bytes) => decodesOrRefuses(() => decodeBytes(bytes))),
      { numRuns: 2000 },
    );
  });

  test('random JSON values as headers', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (value) => decodesOrRefuses(() => validateMessage(value))),
      { numRuns: 2000 },
    );
  });

  test('valid messages with a random payload round-trip', () => {
    fc.assert(
      fc.property(message, fc.option(fc.string(), { nil: undefined }), (m, payload) => {
        const clean = JSON.parse(JSON.stringify(m));
        const decoded = decodeText(encodeText(clean, payload));
        expect(decoded.message).toEqual(clean);
        expect(decoded.payload).toBe(payload);
      }),
      { numRuns: 1000 },
    );
  });

  test('asset frames with random bytes round-trip as binary frames', () => {
    fc.assert(
      fc.property(message, fc.uint8Array({ maxLength: 2000 }), (m, bytes) => {
        const clean = JSON.parse(JSON.stringify(m));
        const decoded = decodeBytes(encodeBinary(clean, bytes));
        expect(decoded.message).toEqual(clean);
        expect([...decoded.payload!]).toEqual([...bytes]);
      }),
      { numRuns: 500 },
    );
  });

  test('valid messages with one field mutated are accepted or refused, never crash', () => {
    fc.assert(
      fc.property(message, fc.string({ maxLength: 10 }), fc.jsonValue(), (m, key, value) => {
        decodesOrRefuses(() => validateMessage({ ...JSON.parse(JSON.stringify(m)), [key || 'seq']: value }));
      }),
      { numRuns: 2000 },
    );
  });
});
