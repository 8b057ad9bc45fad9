import { expect, test } from '@playwright/test';
import { ErrorCode, ProtocolError, parseHeader } from '@cobrowse/protocol';
import { decodeHeader } from '../src/header.js';

/** What the full parser makes of a header: the message, or the error code it refuses it with. */
function viaFullParser(header: string): unknown {
  try {
    return { message: parseHeader(header) };
  } catch (error) {
    return { error: (error as ProtocolError).code };
  }
}

function viaRelay(frame: Buffer): unknown {
  try {
    return { message: decodeHeader(frame) };
  } catch (error) {
    return { error: (error as ProtocolError).code };
  }
}

const epoch64 = 'e'.repeat(64);
const HEADERS = [
  // What the recorder writes.
  '{"type":"events","epoch":"k3j2h1","seq":1,"snap":true}',
  '{"type":"events","epoch":"k3j2h1","seq":2}',
  '{"type":"events","epoch":"k3j2h1","seq":0}',
  '{"type":"events","epoch":"k3j2h1","seq":17,"z":2}',
  '{"type":"events","epoch":"k3j2h1","seq":17,"snap":true,"z":1}',
  '{"type":"events","epoch":"k3j2h1","seq":17,"snap":false,"z":0}',
  `{"type":"events","epoch":"${epoch64}","seq":999999999999999}`,
  // Valid, but not in the recorder's form: the full parser reads them.
  '{"type":"events","epoch":"a\\"b","seq":3}',
  '{"type":"events","epoch":"a\\u0041","seq":3}',
  '{"type":"events","epoch":"é","seq":3}',
  '{"type":"events", "epoch":"a","seq":3}',
  '{"type":"events","epoch":"a","seq":3 }',
  '{"type":"events","epoch":"a","seq":1.0}',
  '{"type":"events","epoch":"a","seq":1e3}',
  '{"type":"events","epoch":"a","seq":3,"x":1}',
  '{"type":"events","epoch":"a","seq":3,"seq":4}',
  '{"type":"events","epoch":"a","seq":3,"z":2,"snap":true}',
  '{"epoch":"a","type":"events","seq":3}',
  '{"type":"events","epoch":"a","seq":9007199254740991}',
  // Refused, by either path, with the same code.
  '{"type":"events","epoch":"","seq":3}',
  `{"type":"events","epoch":"${epoch64}x","seq":3}`,
  '{"type":"events","epoch":"a","seq":-1}',
  '{"type":"events","epoch":"a","seq":01}',
  '{"type":"events","epoch":"a","seq":1.5}',
  '{"type":"events","epoch":"a","seq":9007199254740993}',
  '{"type":"events","epoch":"a","seq":"3"}',
  '{"type":"events","epoch":"a","seq":3,"z":3}',
  '{"type":"events","epoch":"a","seq":3,"z":10}',
  '{"type":"events","epoch":"a","seq":3,"snap":"true"}',
  '{"type":"events","epoch":"a","seq":3',
  '{"type":"events","epoch":"a","seq":3}x',
  '{"type":"events","epoch":"a\u0001","seq":3}',
  '{"type":"events","epoch":"a","seq":}',
  '{"type":"events","epoch":"a"}',
  '{"type":"events","epoch":"a',
  '{"type":"events","epoch":"',
  '{"type":"events"',
  '{"type":"hello","v":2}',
  '',
];

test('every events header reads as the full parser reads it, and is refused with the same code', () => {
  for (const header of HEADERS) {
    const expected = viaFullParser(header);
    expect(viaRelay(Buffer.from(header)), header).toEqual(expected);
    // With a payload after the header, text or binary.
    expect(viaRelay(Buffer.from(`${header}\n[{"t":1},"x"]`)), header).toEqual(expected);
    expect(viaRelay(Buffer.concat([Buffer.from(`${header}\n`), Buffer.from([0, 0xff, 0x7d, 0x0a])])), header).toEqual(
      expected,
    );
  }
});

test('a batch header reads to the message the relay routes on', () => {
  expect(decodeHeader(Buffer.from('{"type":"events","epoch":"ep","seq":12,"snap":true,"z":2}\n\u0000'))).toEqual({
    type: 'events',
    epoch: 'ep',
    seq: 12,
    snap: true,
    z: 2,
  });
  expect(decodeHeader(Buffer.from('{"type":"events","epoch":"ep","seq":12}'))).toEqual({
    type: 'events',
    epoch: 'ep',
    seq: 12,
  });
});

test('a header over the size limit is refused whatever it starts with', () => {
  const long = `{"type":"events","epoch":"a","seq":3,"pad":"${'x'.repeat(3000)}"}\n`;
  expect(viaRelay(Buffer.from(long))).toEqual({ error: ErrorCode.BadFrame });
  expect(viaRelay(Buffer.from(`{"type":"events","epoch":"${'a'.repeat(3000)}","seq":3}`))).toEqual({
    error: ErrorCode.BadFrame,
  });
});
