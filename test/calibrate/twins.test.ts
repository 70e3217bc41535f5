/**
 * The real twins: built with the system C compiler (skipped cleanly without one), a tiny run's
 * report line, and the exact fault count of its rounds.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { buildTwins, compilerOf, compilerProblem, parseTwinLine, runTwin, tmpfsDir, TWINS } from '../../src/calibrate/twins.js';

const noCc = compilerProblem(compilerOf(process.env));
const cache = mkdtempSync(join(tmpdir(), 'spfperf-twins-'));
const env = { ...process.env, SPFPERF_CACHE_DIR: cache };
afterAll(() => rmSync(cache, { recursive: true, force: true }));

test('every twin names a shipped workload and its mode', () => {
  expect(TWINS.map((t) => t.name)).toContain('page_fault3_processes');
  for (const t of TWINS) expect(t.fixed).toContain(`mode=${t.name.endsWith('_threads') ? 'threads' : 'processes'}`);
});

test('a compiler that is not there is a sentence, not a crash', () => {
  expect(compilerProblem('/nonexistent/spfperf-cc')).toMatch(/no C compiler: '\/nonexistent\/spfperf-cc' cannot be run/);
});

test('the report line is read as key=value fields', () => {
  const f = parseTwinLine('noise\ntwin=page_fault1 mode=threads ops=8 loop_faults=8 elapsed_ns=5\n');
  expect(f.get('ops')).toBe('8');
  expect(f.get('mode')).toBe('threads');
  expect(() => parseTwinLine('nothing here')).toThrow(/no report line/);
});

describe.skipIf(noCc !== null)('built twins (a C compiler is here)', () => {
  test('page_fault1..3 build into the cache dir, once', () => {
    const dir = buildTwins(['page_fault1', 'page_fault2', 'page_fault3'], env);
    expect(dir.startsWith(cache)).toBe(true);
    expect(buildTwins(['page_fault1'], env)).toBe(dir);
  });

  // getrusage here (no perf): the fallback must stand on its own.
  test.each([
    ['page_fault1', 'threads'],
    ['page_fault2', 'processes'],
    ['page_fault3', 'threads'],
  ])('%s mode=%s: a tiny run faults once per page in its rounds, exactly', (src, mode) => {
    const dir = buildTwins([src], env);
    const shm = tmpfsDir() ?? tmpdir();
    const args = ['threads=2', `mode=${mode}`, 'size=256K', `dir=${shm}`];
    const r = runTwin(join(dir, src), [...args, 'iterations=3'], false);
    expect(r.source).toBe('getrusage');
    expect(r.ops).toBe(2 * 3 * 64);
    expect(r.loopFaults).toBe(2 * 3 * 64);
    const empty = runTwin(join(dir, src), [...args, 'iterations=0'], false);
    expect(empty.ops).toBe(0);
    expect(empty.loopFaults).toBe(0);
    // The whole run counts its start-up too: at least the rounds' faults more than the empty run's
    // lower bound (start-up varies by a few faults from run to run).
    expect(r.faults).toBeGreaterThan(2 * 3 * 64);
    expect(r.elapsedNs).toBeGreaterThan(0);
  });
});
