/**
 * Capture of the images, fonts and stylesheets a recording refers to, in modules named for what
 * they do: the option (asset-options.ts), finding references in the events (asset-scan.ts),
 * fetching one (asset-fetch.ts), deciding its type (asset-type.ts), and queueing and sending
 * (asset-capture.ts).
 */
export { type AssetOptions, type ResolvedAssetOptions, resolveAssetOptions } from './asset-options.js';
export { assetMime, sniff } from './asset-type.js';
export { AssetCapture, type AssetIo } from './asset-capture.js';
