#!/usr/bin/env node
// The single binary's check (run by .ci/run after npm test; not part of npm test): build
// dist/spfperf-linux-x64 (npm run binary), then run test/scripts/build-binary.test.ts, which runs it
// from an empty directory (vitest.binary.config.ts). Any other arguments go to vitest (.ci/run
// passes its JSON reporter). Exits non-zero when the build or a test fails; a failed build prints
// why (the build's own error) and runs no test.
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';

const build = spawnSync(npm, ['run', 'binary'], { cwd: ROOT, stdio: 'inherit' });
if (build.status !== 0) {
  process.stderr.write(`check-binary: npm run binary failed (exit ${build.status ?? build.signal}): no binary to test\n`);
  process.exit(1);
}
const vitest = join(ROOT, 'node_modules', 'vitest', 'vitest.mjs');
const test = spawnSync(process.execPath, [vitest, 'run', '--config', 'vitest.binary.config.ts', ...process.argv.slice(2)], { cwd: ROOT, stdio: 'inherit' });
process.exit(test.status ?? 1);
