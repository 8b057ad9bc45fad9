// One definition of how Debian's Chromium is launched, shared with the benchmarks.
export { CHROMIUM_ARGS, chromiumPath } from '../../test-support/browser.mjs';
