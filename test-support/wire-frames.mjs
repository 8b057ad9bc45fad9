// The recorder's frames decoded as a replayer would (resends dropped, the z: 2 history reset at
// snapshots): shared by bench/wire.mjs, e2e/bandwidth.spec.ts and the recorder's wire test.
import { inflateRawSync } from 'node:zlib';
import { decodeBytes } from '@cobrowse/protocol';
import { HistoryDecompressor } from '@cobrowse/protocol/decompress';

/**
 * @param {(string | Uint8Array)[]} payloads the WebSocket messages the page sent, in order
 * @returns {{ seq: number, snap: boolean, z: number, wire: number, json: string }[]} one per batch:
 *   `wire` is the message's bytes (header line + payload), `json` the batch's JSON text
 */
export function decodeFrames(payloads) {
  const history = new HistoryDecompressor();
  const out = [];
  let last = 0;
  for (const raw of payloads) {
    const bytes = typeof raw === 'string' ? Buffer.from(raw) : raw;
    const { message, payload } = decodeBytes(bytes);
    if (message.type !== 'events' || !payload) continue;
    if (!message.snap && message.seq <= last) continue;
    last = message.seq;
    if (message.snap) history.reset();
    const z = message.z ?? 0;
    const json =
      z === 2
        ? history.decompress(payload)
        : z === 1
          ? inflateRawSync(payload).toString()
          : Buffer.from(payload).toString();
    out.push({ seq: message.seq, snap: message.snap === true, z, wire: bytes.length, json });
  }
  return out;
}

/**
 * Decodes one batch at a time as a replayer does, from the protocol alone (so a package's tests
 * need not import another package's sources). Give it every batch in `seq` order from a snapshot
 * batch on: `z: 2` batches are compressed against the ones before them.
 */
export class WireDecoder {
  history = new HistoryDecompressor();

  /**
   * @param {{ snap?: boolean, z?: number }} header the batch's `events` header
   * @param {string | Uint8Array | undefined} payload
   * @returns {unknown[]} the batch's events
   */
  decode(header, payload) {
    if (header.snap) this.history.reset();
    if (payload === undefined) throw new Error('events frame has no payload');
    const z = header.z ?? 0;
    const text =
      z === 2
        ? this.history.decompress(/** @type {Uint8Array} */ (payload))
        : z === 1
          ? inflateRawSync(/** @type {Uint8Array} */ (payload)).toString()
          : typeof payload === 'string'
            ? payload
            : Buffer.from(payload).toString();
    const events = JSON.parse(text);
    if (!Array.isArray(events)) throw new Error('events payload is not an array');
    return events;
  }
}
