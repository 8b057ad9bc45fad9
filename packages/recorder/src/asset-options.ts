/** The recorder's `assets` option: which origins' images, fonts and stylesheets are captured, within which sizes. */

export interface AssetOptions {
  /**
   * Origins whose assets are captured besides the page's own, e.g. `https://cdn.intranet.example`
   * (they must allow this page by CORS, with credentials); `'*'`: any origin that does.
   */
  origins?: string[];
  /** Largest asset captured, bytes (larger ones are left to the agent's browser). Default 2 MiB, at most 8 MiB. */
  maxAssetBytes?: number;
  /** Asset bytes captured per page at most. Default 8 MiB. */
  maxTotalBytes?: number;
}

export interface ResolvedAssetOptions {
  origins: Set<string>;
  anyOrigin: boolean;
  maxAssetBytes: number;
  maxTotalBytes: number;
}

const MiB = 1024 * 1024;
/** Frames must stay well under the relay's frame limit (16 MiB by default). */
const HARD_MAX_ASSET_BYTES = 8 * MiB;

export function resolveAssetOptions(
  options: AssetOptions | true | undefined,
  pageOrigin: string,
): ResolvedAssetOptions {
  const o = options === true || options === undefined ? {} : options;
  const origins = new Set<string>([pageOrigin]);
  let anyOrigin = false;
  for (const origin of o.origins ?? []) {
    if (origin === '*') anyOrigin = true;
    else {
      try {
        origins.add(new URL(origin).origin);
      } catch {
        // not an origin: ignored
      }
    }
  }
  const positive = (value: number | undefined, fallback: number) =>
    typeof value === 'number' && value >= 0 ? value : fallback;
  return {
    origins,
    anyOrigin,
    maxAssetBytes: Math.min(positive(o.maxAssetBytes, 2 * MiB), HARD_MAX_ASSET_BYTES),
    maxTotalBytes: positive(o.maxTotalBytes, 8 * MiB),
  };
}
