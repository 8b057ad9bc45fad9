import type { HistoryCompressor as Loaded } from '@cobrowse/protocol/compress';

/**
 * Script-tag build of `compressor.ts`: the compressor (~9 KB gzipped) is a separate script,
 * `recorder-deflate.js` beside `recorder.js`, loaded when a share starts rather than on every page
 * that carries the tag. Until it has loaded (or if it cannot load, e.g. a strict CSP) batches go out
 * uncompressed; the compression history then starts with the first batch after it arrives, which
 * a replayer follows since it only ever inflates from the start of a history.
 */
const GLOBAL = 'CobrowseDeflate';

interface CompressorModule {
  HistoryCompressor: new () => Loaded;
}

/** Where this script came from, read while it runs: the compressor sits beside it. */
const thisScript = typeof document !== 'undefined' ? (document.currentScript as HTMLScriptElement | null) : null;
const scriptUrl = thisScript?.src || undefined;
/** A page whose CSP allows scripts by nonce gave this one a nonce: the compressor carries it too. */
const nonce = thisScript?.nonce || undefined;
let loaded: CompressorModule | undefined;
let loading: Promise<void> | undefined;

const fromGlobal = () => (globalThis as unknown as Record<string, CompressorModule | undefined>)[GLOBAL];

export function loadCompressor(): Promise<void> {
  loading ??= new Promise<void>((resolve) => {
    loaded = fromGlobal();
    if (loaded || !scriptUrl) return resolve();
    const script = document.createElement('script');
    script.src = new URL('recorder-deflate.js', scriptUrl).href;
    script.async = true;
    if (nonce) script.nonce = nonce;
    script.onload = script.onerror = () => {
      loaded = fromGlobal();
      script.remove();
      resolve();
    };
    (document.head ?? document.documentElement).appendChild(script);
  });
  return loading;
}

/** Same surface as the real one; compresses once the real one has loaded, throws before. */
export class HistoryCompressor {
  private real: Loaded | undefined;

  reset(): void {
    this.real?.reset();
  }

  compress(json: Uint8Array): Uint8Array {
    if (!this.real) {
      if (!loaded) throw new Error('the compressor has not loaded (yet)');
      this.real = new loaded.HistoryCompressor();
    }
    return this.real.compress(json);
  }
}
