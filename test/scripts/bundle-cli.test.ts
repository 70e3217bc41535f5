/**
 * The start-up bundle (scripts/bundle-cli.mjs -> dist/spfperf.cjs, which bin/spfperf.js runs): it
 * prints what the sources print, the verbs' modules throw the same error classes that its command
 * table tells exit statuses by, and a listing or a help loads no file and no Node module it does not
 * use. Runs the built dist/ (test/global-setup.ts rebuilds the bundle when it is stale).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { ROOT } from '../helpers/golden.js';
import { spfperf } from '../helpers/cli.js';

const BIN = join(ROOT, 'bin', 'spfperf.js');
const env = { ...process.env, SPFPERF_DEBUG: '' };
const run = (args: readonly string[]) => spawnSync(process.execPath, [BIN, ...args], { cwd: ROOT, encoding: 'utf8', env });

// A preload that writes, at exit, the Node modules the process loaded and the files it required
// (require() of an ES module included) to file descriptor 3.
const TMP = mkdtempSync(join(tmpdir(), 'spfperf-bundle-'));
const PRELOAD = join(TMP, 'loaded.cjs');
writeFileSync(PRELOAD, "process.on('exit', () => require('node:fs').writeSync(3, JSON.stringify({ builtins: process.moduleLoadList, files: Object.keys(require.cache) })));\n");
afterAll(() => rmSync(TMP, { recursive: true, force: true }));

/** What `node <script> ARGS` loads, stdout and stderr on pipes and stdin on /dev/null as the bench runs it. */
function loaded(script: string, args: readonly string[] = []): { builtins: string[]; files: string[] } {
  const r = spawnSync(process.execPath, ['-r', PRELOAD, script, ...args], { cwd: ROOT, encoding: 'utf8', env, stdio: ['ignore', 'pipe', 'pipe', 'pipe'] });
  expect(r.status, r.stderr).toBe(0);
  const got = JSON.parse(r.output[3] as string) as { builtins: string[]; files: string[] };
  return { builtins: got.builtins, files: got.files.filter((f) => f !== PRELOAD).map((f) => relative(ROOT, f)) };
}

describe('the start-up bundle', () => {
  test('prints what the sources print, byte for byte, with the same exit status', async () => {
    for (const args of [['list'], ['list', '--json'], ['list', 'sw'], ['--help'], ['stat', '--help'], ['check', '--help'], ['--version'], ['list', 'sw', '--configs'], ['stat', '--bogus']]) {
      const inProcess = await spfperf(args);
      const bundled = run(args);
      expect({ status: bundled.status, stdout: bundled.stdout, stderr: bundled.stderr }, args.join(' ')).toEqual(inProcess);
    }
  });

  test('a Node without require() of ES modules runs the unbundled dist/main.js, with the same output', () => {
    const args = ['--no-experimental-require-module', BIN, 'list', '--json'];
    const r = spawnSync(process.execPath, args, { cwd: ROOT, encoding: 'utf8', env });
    expect({ status: r.status, stdout: r.stdout, stderr: r.stderr }).toEqual({ status: 0, stdout: run(['list', '--json']).stdout, stderr: '' });
  });

  test("an error thrown in a verb's own module keeps its class, and so its exit status", () => {
    // errors.js and check/violation.js are not copied into the bundle: one class each in the process.
    expect(run(['stat', 'no-such-workload']).status).toBe(1); // UsageError
    expect(run(['stat', 'fixtures/workloads/bad-syntax.spf']).status).toBe(2); // WorkloadSyntaxError
    expect(run(['stat', 'fixtures/workloads/runtime-error.spf']).status).toBe(3); // SimulationError
    expect(run(['stat', 'fixtures/workloads/wrong-expect.spf']).status).toBe(4); // ViolationError
  });

  test('list and --help load the bundle and the two modules it shares, and none of the Node modules they do not use', () => {
    const empty = join(TMP, 'empty.cjs');
    writeFileSync(empty, "process.stdout.write('');\n");
    const node = new Set(loaded(empty).builtins);
    // Started by an ES-module entry, an import(), an `import` of node:fs or process.stdin; or, for
    // child_process, by commander unless the bundle defers it (scripts/bundle-cli.mjs).
    const unused = ['NativeModule internal/fs/promises', 'NativeModule internal/readline/interface', 'NativeModule internal/fs/streams', 'NativeModule child_process'];
    for (const args of [['list'], ['--help'], ['stat', '--help']]) {
      const { builtins, files } = loaded(BIN, args);
      expect(files, args.join(' ')).toEqual(['bin/spfperf.js', 'dist/spfperf.cjs', 'dist/errors.js', 'dist/check/violation.js', 'package.json']);
      expect(builtins.filter((m) => !node.has(m) && unused.includes(m)), args.join(' ')).toEqual([]);
    }
  });
});
