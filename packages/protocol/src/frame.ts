import { ErrorCode } from './codes.js';
import { type Message, ProtocolError, validateMessage } from './messages.js';

/** Separates a frame's JSON header from its payload. JSON.stringify never emits a raw newline. */
const NEWLINE = 0x0a;
const encoder = /* @__PURE__ */ new TextEncoder();
const decoder = /* @__PURE__ */ new TextDecoder();

/** Largest header the decoders accept, in bytes. Headers are routing metadata only. */
export const MAX_HEADER_BYTES = 2048;

export interface DecodedFrame<P = string | Uint8Array> {
  readonly message: Message;
  /** What follows the header: text for a text frame, bytes for a binary one; undefined when there is none. */
  readonly payload: P | undefined;
}

/** Encodes a header alone, or a header and a text payload, as a text frame. */
export function encodeText(message: Message, payload?: string): string {
  const header = JSON.stringify(message);
  return payload === undefined ? header : `${header}\n${payload}`;
}

/** Encodes a header and a binary payload (e.g. compressed events) as a binary frame. */
export function encodeBinary(message: Message, payload: Uint8Array): Uint8Array {
  const header = encoder.encode(JSON.stringify(message));
  const out = new Uint8Array(header.length + 1 + payload.length);
  out.set(header, 0);
  out[header.length] = NEWLINE;
  out.set(payload, header.length + 1);
  return out;
}

/** Parses and validates a frame header given as text. */
export function parseHeader(text: string): Message {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new ProtocolError(ErrorCode.BadFrame, 'frame header is not valid JSON');
  }
  return validateMessage(parsed);
}

/** Decodes a text frame. */
export function decodeText(frame: string): DecodedFrame<string> {
  const nl = frame.indexOf('\n');
  const headerEnd = nl === -1 ? frame.length : nl;
  if (headerEnd > MAX_HEADER_BYTES) throw new ProtocolError(ErrorCode.BadFrame, 'frame header too long');
  return {
    message: parseHeader(frame.slice(0, headerEnd)),
    payload: nl === -1 ? undefined : frame.slice(nl + 1),
  };
}

/** Decodes a binary frame (or the bytes of a text frame). Only the header is parsed. */
export function decodeBytes(frame: Uint8Array): DecodedFrame<Uint8Array> {
  const limit = Math.min(frame.length, MAX_HEADER_BYTES + 1);
  let nl = -1;
  for (let i = 0; i < limit; i++) {
    if (frame[i] === NEWLINE) {
      nl = i;
      break;
    }
  }
  if (nl === -1 && frame.length > MAX_HEADER_BYTES)
    throw new ProtocolError(ErrorCode.BadFrame, 'frame header too long');
  const headerEnd = nl === -1 ? frame.length : nl;
  return {
    message: parseHeader(decoder.decode(frame.subarray(0, headerEnd))),
    payload: nl === -1 ? undefined : frame.subarray(nl + 1),
  };
}
