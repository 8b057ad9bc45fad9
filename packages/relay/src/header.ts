import { ErrorCode, MAX_HEADER_BYTES, type Message, ProtocolError, parseHeader } from '@cobrowse/protocol';

const NEWLINE = 0x0a;

/**
 * A frame's header, read straight from the socket's buffer: the relay routes on headers and never
 * looks at payloads, so unlike `decodeBytes` this makes no views of the frame and no payload.
 */
export function decodeHeader(data: Buffer): Message {
  const nl = data.indexOf(NEWLINE);
  const end = nl === -1 ? data.length : nl;
  if (end > MAX_HEADER_BYTES) throw new ProtocolError(ErrorCode.BadFrame, 'frame header too long');
  return parseHeader(data.toString('utf8', 0, end));
}
