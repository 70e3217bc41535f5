import { defineConfig } from 'vitest/config';
import { BINARY_TESTS } from './vitest.config.ts';

/**
 * The single binary's test alone (test/scripts/build-binary.test.ts), run by
 * scripts/check-binary.mjs once it has built dist/spfperf-linux-x64; not part of `npm test`.
 */
export default defineConfig({
  test: {
    include: BINARY_TESTS,
    testTimeout: 120_000,
    hookTimeout: 60_000,
    // One file: one worker; its commands are processes of their own.
    maxWorkers: 1,
  },
});
