import { crc32 } from 'node:zlib';

/**
 * The recording file format (version 1): append-only, one record per thing the relay saw, each
 * length-prefixed and checksummed, so a file cut short by a crash (kill -9, a full disk) reads
 * cleanly up to its last complete record.
 *
 *   file    = MAGIC record*
 *   record  = length:u32be crc:u32be body        (crc = CRC-32 of body, length = body's bytes)
 *   body    = kind:u8 time:f64be data            (time = relay wall clock at arrival, ms)
 *
 * Kinds and their data:
 *   1 START     JSON {v, id, roomId, tenant?, dialect?, policy, startedAt}
 *   2 RECORDER  binary:u8 frame                  the customer's frame exactly as received
 *                                                 (header + newline + still-compressed payload)
 *   3 ASSET     frame                            an `asset` frame exactly as received
 *   4 AGENT     userLength:u16be user-JSON binary:u8 frame
 *                                                 a frame an agent sent, and who sent it
 *   5 NOTE      JSON {note: 'join'|'leave'|'recording'|…, …}   who joined and left, state changes
 *   6 END       JSON {reason}
 */
export const MAGIC = Buffer.from('CBREC1\n', 'latin1');

export const RecordKind = {
  Start: 1,
  Recorder: 2,
  Asset: 3,
  Agent: 4,
  Note: 5,
  End: 6,
} as const;
export type RecordKind = (typeof RecordKind)[keyof typeof RecordKind];

/** Bytes before a record's body: length and checksum. */
export const RECORD_PREFIX = 8;
/** Bytes of a body before its data: kind and time. */
export const BODY_PREFIX = 9;
/** Largest body a reader accepts: a frame (≤ the relay's 16 MiB default) plus room to spare. */
export const MAX_RECORD_BYTES = 64 * 1024 * 1024;

/** Encodes one record. `parts` are concatenated as its data. */
export function encodeRecord(kind: RecordKind, time: number, parts: readonly Uint8Array[]): Buffer {
  let dataLength = 0;
  for (const part of parts) dataLength += part.length;
  const out = Buffer.allocUnsafe(RECORD_PREFIX + BODY_PREFIX + dataLength);
  out.writeUInt32BE(BODY_PREFIX + dataLength, 0);
  out.writeUInt8(kind, RECORD_PREFIX);
  out.writeDoubleBE(time, RECORD_PREFIX + 1);
  let offset = RECORD_PREFIX + BODY_PREFIX;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  out.writeUInt32BE(crc32(out.subarray(RECORD_PREFIX)), 4);
  return out;
}

export function jsonRecord(kind: RecordKind, time: number, value: unknown): Buffer {
  return encodeRecord(kind, time, [Buffer.from(JSON.stringify(value), 'utf8')]);
}

export interface FileRecord {
  readonly kind: number;
  readonly time: number;
  readonly data: Buffer;
  /** Offset of the record in the file. */
  readonly offset: number;
}

/** Why a file's reading stopped before its end. */
export interface Damage {
  readonly reason: string;
  /** Offset in the file of the first byte not read. */
  readonly offset: number;
  /** The file simply ends inside a record (cut short, or still being written), rather than holding bad bytes. */
  readonly incomplete?: boolean;
}

/**
 * Reads records from a file's bytes as they stream in. Stops at the first damaged or incomplete
 * record and says so in `damage`; never throws on the file's content.
 */
export async function* readRecords(
  chunks: AsyncIterable<Uint8Array>,
  onDamage: (damage: Damage) => void,
): AsyncGenerator<FileRecord> {
  let buffer = Buffer.alloc(0);
  let offset = 0; // file offset of buffer[0]
  let magicChecked = false;
  for await (const chunk of chunks) {
    buffer = buffer.length === 0 ? Buffer.from(chunk) : Buffer.concat([buffer, chunk]);
    if (!magicChecked) {
      if (buffer.length < MAGIC.length) continue;
      if (!buffer.subarray(0, MAGIC.length).equals(MAGIC))
        return onDamage({ reason: 'not a recording file', offset: 0 });
      buffer = buffer.subarray(MAGIC.length);
      offset = MAGIC.length;
      magicChecked = true;
    }
    for (;;) {
      if (buffer.length < RECORD_PREFIX) break;
      const length = buffer.readUInt32BE(0);
      if (length < BODY_PREFIX || length > MAX_RECORD_BYTES)
        return onDamage({ reason: `record length ${length} is out of bounds`, offset });
      if (buffer.length < RECORD_PREFIX + length) break;
      const body = buffer.subarray(RECORD_PREFIX, RECORD_PREFIX + length);
      if (crc32(body) !== buffer.readUInt32BE(4)) return onDamage({ reason: 'record checksum mismatch', offset });
      const time = body.readDoubleBE(1);
      if (!Number.isFinite(time)) return onDamage({ reason: 'record time is not a number', offset });
      yield { kind: body[0]!, time, data: body.subarray(BODY_PREFIX), offset };
      buffer = buffer.subarray(RECORD_PREFIX + length);
      offset += RECORD_PREFIX + length;
    }
  }
  if (!magicChecked) return onDamage({ reason: 'file is shorter than its header', offset: 0 });
  if (buffer.length > 0) onDamage({ reason: 'the last record is incomplete (cut short)', offset, incomplete: true });
}
