/**
 * scripts/validate.js as a process (it runs the built dist/), on the small cases of
 * fixtures/validate-cases: the same output with -j 1 (every run in this process, one after
 * another) and -j 2 (the worker pool).
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { ROOT } from '../helpers/golden.js';

const validate = (...args: string[]) => spawnSync(process.execPath, [join(ROOT, 'scripts', 'validate.js'), '--cases', 'fixtures/validate-cases', ...args], { cwd: ROOT, encoding: 'utf8' });
/** The output without its wall times. */
const timeless = (s: string) => s.replace(/\(\d+\.\d s\)/g, '(T s)').replace(/ in \d+\.\d s/g, ' in T s');

describe('validate -j', () => {
  test('the same table with -j 1 and -j 2, a failing run included', () => {
    const serial = validate('-j', '1');
    const pooled = validate('-j', '2');
    expect(serial.stdout).toMatch(/│ T1 +│ faults per page, base │ structural │ +1\.000 │ +1\.000 │ +0\.0% │ 1-1 +│ pass/);
    // T2's second run fails at run time: its check is an error row with the run's message.
    expect(serial.stdout).toMatch(/│ T2 +│ elapsed broken\/ok +│ fidelity +│ +1\.000 │ +- │ +- │ 0-10 +│ error: fixtures\/workloads\/runtime-error\.spf:6:3: mprotect failed: ENOMEM │/);
    expect(serial.status).toBe(1);
    expect(timeless(pooled.stdout)).toBe(timeless(serial.stdout));
    expect(pooled.status).toBe(serial.status);
  });

  test('--sensitivity: three passes at once give the same tables', () => {
    const serial = validate('--sensitivity', 'JITTER', 'T1', '-j', '1');
    const pooled = validate('--sensitivity', 'JITTER', 'T1', '-j', '2');
    expect(serial.stdout).toMatch(/JITTER \(estimated; src\/sim\/run\.ts\)\n.*\n.*\n.*\n│ T1 +│ ops\/s spf\/base/);
    expect(timeless(pooled.stdout)).toBe(timeless(serial.stdout));
    expect(pooled.status).toBe(serial.status);
    expect(pooled.stderr).toMatch(/^sensitivity: \[1\/3\] .* done .*\nsensitivity: \[2\/3\] .* done .*\nsensitivity: \[3\/3\] .* done /);
  });

  test('a bad -j is a one-line error, exit 2', () => {
    const r = validate('-j', '0');
    expect(r.status).toBe(2);
    expect(r.stderr).toBe("validate: -j takes a whole number >= 1, not '0'\n");
  });
});
