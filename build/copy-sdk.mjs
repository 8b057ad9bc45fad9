// Copies the browser bundles (script-tag builds and their source maps) into packages/relay/sdk/,
// which the relay serves under /sdk/ and ships in its npm package, so the relay needs neither the
// SDK packages nor rrweb at run time. Run by `npm run build` after rollup; fails on a missing file.
import { copyFileSync, mkdirSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const target = join(root, 'packages/relay/sdk');
const bundles = {
  recorder: ['recorder.iife.js', 'recorder-deflate.iife.js'],
  replayer: ['replayer.iife.js'],
};

rmSync(target, { recursive: true, force: true });
mkdirSync(target, { recursive: true });
for (const [pkg, files] of Object.entries(bundles)) {
  for (const file of files.flatMap((f) => [f, `${f}.map`])) {
    copyFileSync(join(root, 'packages', pkg, 'dist', file), join(target, file));
  }
}
