/** Entry of `recorder-deflate.js`, the script-tag build's compressor (see `compressor-lazy.ts`). */
export { HistoryCompressor } from '@cobrowse/protocol/compress';
