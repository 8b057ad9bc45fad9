// The recorder's frames decoded as a replayer would (resends dropped, the z: 2 history reset at
// snapshots): shared by bench/wire.mjs and e2e/bandwidth.spec.ts.
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
