import { expect, test } from '@playwright/test';
import {
  ErrorCode,
  ProtocolError,
  RECORDER_SENDS,
  REPLAYER_SENDS,
  RecordingReason,
  decodeText,
  encodeText,
  validateMessage,
} from '../src/index.js';

test.describe('recording message', () => {
  test('round-trips with its explicit reason codes', () => {
    expect(RecordingReason).toEqual({ Policy: 1, Requested: 2, Stopped: 3, Unavailable: 4 });
    for (const message of [
      { type: 'recording', on: true, reason: RecordingReason.Policy },
      { type: 'recording', on: false },
    ] as const)
      expect(decodeText(encodeText(message)).message).toEqual(message);
  });

  test('malformed ones are refused with a stable code', () => {
    for (const bad of [
      { type: 'recording' },
      { type: 'recording', on: 'yes' },
      { type: 'recording', on: 1 },
      { type: 'recording', on: true, reason: 0 },
      { type: 'recording', on: true, reason: 9 },
      { type: 'recording', on: true, reason: '1' },
    ]) {
      let error: unknown;
      try {
        validateMessage(bad);
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(ProtocolError);
      expect((error as ProtocolError).code).toBe(ErrorCode.BadField);
    }
  });

  test('agents may ask for it; customers may not', () => {
    expect(REPLAYER_SENDS.has('recording')).toBe(true);
    expect(RECORDER_SENDS.has('recording')).toBe(false);
  });
});
