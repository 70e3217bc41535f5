import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setInvariantCheckDefault, setSyncCheckDefault } from '../src/engine/engine.js';

// Every engine the suite builds checks the sync rule: a forgotten `yield SYNC` fails the test.
setSyncCheckDefault(true);
// And every run checks the model's invariants (src/mm/debug_vm.ts): a broken one fails the test.
setInvariantCheckDefault(true);

// No test reads the developer's own cache (~/.cache/spfperf): host costs measured there by a real
// `spfperf calibrate` would change what `--machine host` runs on, in whichever test came first.
// Tests that want a cache give their own SPFPERF_CACHE_DIR.
process.env.SPFPERF_CACHE_DIR = mkdtempSync(join(tmpdir(), 'spfperf-test-cache-'));
