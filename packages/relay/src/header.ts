import { ErrorCode, MAX_HEADER_BYTES, type Message, ProtocolError, parseHeader } from '@cobrowse/protocol';

const NEWLINE = 0x0a;
const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COMMA = 0x2c;
const CLOSE_BRACE = 0x7d;
const ZERO = 0x30;
const NINE = 0x39;

/**
 * A frame's header, read straight from the socket's buffer: the relay routes on headers and never
 * looks at payloads, so unlike `decodeBytes` this makes no views of the frame and no payload.
 */
export function decodeHeader(data: Buffer): Message {
  const events = eventsHeader(data);
  if (events) return events;
  const nl = data.indexOf(NEWLINE);
  const end = nl === -1 ? data.length : nl;
  if (end > MAX_HEADER_BYTES) throw new ProtocolError(ErrorCode.BadFrame, 'frame header too long');
  return parseHeader(data.toString('utf8', 0, end));
}

const bytes = (text: string) => Buffer.from(text, 'latin1');
const EVENTS_PREFIX = bytes('{"type":"events","epoch":"');
const SEQ_KEY = bytes('","seq":');
const SNAP_TRUE = bytes(',"snap":true');
const SNAP_FALSE = bytes(',"snap":false');
const Z_KEY = bytes(',"z":');
/** Longest epoch the schema takes (`events.epoch`: 1..64 characters). */
const MAX_EPOCH = 64;
/** Digits of a seq read here: any 15-digit number is a safe integer. Longer ones take the full parser. */
const MAX_SEQ_DIGITS = 15;

function matches(data: Buffer, at: number, literal: Buffer): boolean {
  if (at + literal.length > data.length) return false;
  for (let i = 0; i < literal.length; i++) if (data[at + i] !== literal[i]) return false;
  return true;
}

/**
 * The header of a recorder batch in the exact form the recorder writes it
 * (`{"type":"events","epoch":"…","seq":N[,"snap":true|false][,"z":0|1|2]}`, no whitespace, an
 * ASCII epoch without escapes), read byte by byte: tens of thousands arrive every second and
 * `JSON.parse` plus the schema walk was the relay's costliest step after the socket writes.
 * Anything else (other messages, other key orders, escapes, whitespace, extra keys, a number
 * JSON would read differently) returns undefined and takes the full parser, so what is accepted
 * and how it reads are the same either way.
 */
function eventsHeader(data: Buffer): Message | undefined {
  if (!matches(data, 0, EVENTS_PREFIX)) return undefined;
  const epochStart = EVENTS_PREFIX.length;
  let i = epochStart;
  const epochLimit = Math.min(data.length, epochStart + MAX_EPOCH + 1);
  while (i < epochLimit) {
    const c = data[i]!;
    if (c === QUOTE) break;
    if (c < 0x20 || c > 0x7e || c === BACKSLASH) return undefined;
    i++;
  }
  if (i === epochStart || i === epochLimit) return undefined;
  const epochEnd = i;
  if (!matches(data, i, SEQ_KEY)) return undefined;
  i += SEQ_KEY.length;
  const seqStart = i;
  let seq = 0;
  while (i < data.length && i - seqStart <= MAX_SEQ_DIGITS) {
    const c = data[i]!;
    if (c < ZERO || c > NINE) break;
    seq = seq * 10 + (c - ZERO);
    i++;
  }
  const digits = i - seqStart;
  // JSON has no leading zeros; fractions, exponents and long numbers are the full parser's.
  if (digits === 0 || digits > MAX_SEQ_DIGITS || (digits > 1 && data[seqStart] === ZERO)) return undefined;
  if (data[i] !== COMMA && data[i] !== CLOSE_BRACE) return undefined;
  let snap: boolean | undefined;
  if (matches(data, i, SNAP_TRUE)) {
    snap = true;
    i += SNAP_TRUE.length;
  } else if (matches(data, i, SNAP_FALSE)) {
    snap = false;
    i += SNAP_FALSE.length;
  }
  let z: 0 | 1 | 2 | undefined;
  if (matches(data, i, Z_KEY)) {
    const c = data[i + Z_KEY.length];
    if (c !== ZERO && c !== ZERO + 1 && c !== ZERO + 2) return undefined;
    z = (c - ZERO) as 0 | 1 | 2;
    i += Z_KEY.length + 1;
  }
  if (data[i] !== CLOSE_BRACE) return undefined;
  if (i + 1 !== data.length && data[i + 1] !== NEWLINE) return undefined;
  const message: { type: 'events'; epoch: string; seq: number; snap?: boolean; z?: 0 | 1 | 2 } = {
    type: 'events',
    epoch: data.toString('latin1', epochStart, epochEnd),
    seq,
  };
  if (snap !== undefined) message.snap = snap;
  if (z !== undefined) message.z = z;
  return message;
}
