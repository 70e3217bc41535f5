// The entry of the single binary's bundle (scripts/build-binary.mjs bundles it, all of dist/ and
// the packages it imports into dist/spfperf.mjs and its chunks beside it, in the tree the binary
// unpacks; see docs/binary.md). It registers the chunks' tables of modules by line, which frames
// of the model are told apart by (src/trace/bundle-frames.ts), and names the program's entries:
// the CLI, and the pool's worker thread, whose file in the tree (dist/pool/worker.js) runs it.
import { readFileSync } from 'node:fs';
import { setBundleModules } from '../../dist/trace/bundle-frames.js';

setBundleModules(new URL('./', import.meta.url).href, () => JSON.parse(readFileSync(new URL('./spfperf.modules.json', import.meta.url), 'utf8')));

export const ENTRIES = {
  'dist/main.js': () => import('../../dist/main.js'),
  'dist/pool/worker.js': () => import('../../dist/pool/worker.js'),
};
