// The entry of the single binary's bundle (scripts/build-binary.mjs bundles it, all of dist/ and
// the packages it imports into dist/spfperf.mjs of the tree the binary unpacks; see
// docs/binary.md). It registers the bundle's table of modules by line, which frames of the model
// are told apart by (src/trace/bundle-frames.ts), and names the program's entries: the CLI, and the
// pool's worker thread, whose file beside the bundle (dist/pool/worker.js) runs its entry.
import { readFileSync } from 'node:fs';
import { setBundleModules } from '../../dist/trace/bundle-frames.js';

setBundleModules(import.meta.url, () => JSON.parse(readFileSync(new URL('./spfperf.modules.json', import.meta.url), 'utf8')));

export const ENTRIES = {
  'dist/main.js': () => import('../../dist/main.js'),
  'dist/pool/worker.js': () => import('../../dist/pool/worker.js'),
};
