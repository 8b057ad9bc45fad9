/**
 * The `z: 2` compressor (pako's DEFLATE with a history). The ES module build imports it directly;
 * the script-tag build swaps this module for `compressor-lazy.ts`, which loads it beside the
 * recorder script once a share starts, so pages that never share do not pay for it.
 */
export { HistoryCompressor } from '@cobrowse/protocol/compress';

/** Makes the compressor available (already is, in this build). */
export function loadCompressor(): Promise<void> {
  return Promise.resolve();
}
