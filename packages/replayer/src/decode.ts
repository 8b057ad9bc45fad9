import type { eventWithTime } from '@rrweb/types';

const decoder = new TextDecoder();

async function inflate(bytes: Uint8Array): Promise<string> {
  const stream = new Blob([bytes as Uint8Array<ArrayBuffer>]).stream().pipeThrough(new DecompressionStream('deflate-raw'));
  return new Response(stream).text();
}

/** Parses and checks a batch payload: a JSON array of rrweb events. Throws on anything else. */
export function parseEvents(text: string): eventWithTime[] {
  const events: unknown = JSON.parse(text);
  if (!Array.isArray(events)) throw new Error('events payload is not an array');
  for (const event of events) {
    if (typeof event !== 'object' || event === null || typeof (event as eventWithTime).type !== 'number' || typeof (event as eventWithTime).timestamp !== 'number') {
      throw new Error('events payload holds something that is not an rrweb event');
    }
  }
  return events as eventWithTime[];
}

/** Decodes a batch payload; synchronous for text, a promise for compressed bytes. */
export function decodePayload(payload: string | Uint8Array | undefined, compressed: boolean): eventWithTime[] | Promise<eventWithTime[]> {
  if (payload === undefined) throw new Error('events frame has no payload');
  if (compressed) {
    if (typeof payload === 'string') throw new Error('compressed payload in a text frame');
    return inflate(payload).then(parseEvents);
  }
  return parseEvents(typeof payload === 'string' ? payload : decoder.decode(payload));
}
