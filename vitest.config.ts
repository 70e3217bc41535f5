import { defineConfig } from 'vitest/config';

/**
 * Measured on the 2-core machine (whole-suite CPU seconds, user + sys, one run each while the
 * machine was shared; wall time followed when it was not):
 *   vitest's defaults (forks, isolate, maxWorkers = cores - 1 = 1)   ~83 s
 *   maxWorkers 2                                                        ~87 s
 *   maxWorkers 2, pool threads (and the cwd tests cannot chdir)        ~61 s
 *   maxWorkers 2, isolate false                                         ~34 s
 * Most of the cost was loading the modules again for each of the ~70 files; with isolate false
 * a worker loads them once. Files that share a worker share module state, so the test files that
 * need a fresh one stay isolated in their own project: test/ui (and report-tty) loads ink, which decides once,
 * when first loaded, whether it runs under CI (and then draws nothing until it exits); the ksym
 * test registers made-up kernel functions in the one process-wide text table.
 */
const ISOLATED = ['test/ui/**/*.test.ts', 'test/commands/report-tty.test.ts', 'test/events/ksym.test.ts'];
/** The single binary's test: run by scripts/check-binary.mjs after it builds the binary (vitest.binary.config.ts). */
export const BINARY_TESTS = ['test/scripts/build-binary.test.ts'];

export default defineConfig({
  test: {
    // Before any file: list the design files as the build does (src/mm/spf/designs.gen.ts).
    globalSetup: ['test/global-setup.ts'],
    // Every engine a test builds checks the sync rule.
    setupFiles: ['test/setup.ts'],
    testTimeout: 60_000,
    // Both cores (the default leaves one idle for a watcher).
    maxWorkers: 2,
    projects: [
      { extends: true, test: { name: 'isolated', include: ISOLATED, exclude: BINARY_TESTS, isolate: true } },
      { extends: true, test: { name: 'shared', include: ['test/**/*.test.ts'], exclude: [...ISOLATED, ...BINARY_TESTS], isolate: false } },
    ],
  },
});
