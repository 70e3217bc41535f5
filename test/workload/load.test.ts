import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { UsageError, WorkloadSyntaxError } from '../../src/errors.js';
import type { Stmt } from '../../src/workload/ir.js';
import { listShippedWorkloads, loadWorkload, shippedWorkloadNames, shippedWorkloadsDir } from '../../src/workload/load.js';
import { internWord } from '../../src/workload/expr.js';
import { resolveParams } from '../../src/workload/params.js';

const dir = mkdtempSync(join(tmpdir(), 'spfperf-load-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function thrown(f: () => unknown): unknown {
  try {
    f();
  } catch (e) {
    return e;
  }
  throw new Error('expected an exception');
}

/** All statements of a body, depth first. */
function flatten(body: readonly Stmt[]): Stmt[] {
  return body.flatMap((s) => {
    switch (s.k) {
      case 'threads':
      case 'loop':
      case 'fork':
        return [s, ...flatten(s.body)];
      case 'if':
        return [s, ...flatten(s.then), ...flatten(s.else ?? [])];
      default:
        return [s];
    }
  });
}

describe('shipped workloads', () => {
  test('the shipped directory is found relative to the module', () => {
    expect(shippedWorkloadsDir().replace(/\\/g, '/')).toMatch(/\/workloads\/$/);
    expect(shippedWorkloadNames()).toEqual(expect.arrayContaining(['ebizzy', 'page_fault1']));
  });

  test('page_fault1 parses, checks and has the documented shape', () => {
    const w = loadWorkload('page_fault1');
    expect(w.name).toBe('page_fault1');
    expect(w.file).toBe('workloads/page_fault1.spf');
    expect(w.description.split('\n')[0]).toBe('will-it-scale page_fault1: anonymous memory page faults (threads or processes).');
    expect(w.params.map((p) => p.name)).toEqual(['threads', 'mode', 'iterations', 'seconds', 'size']);
    expect(w.params[1]!.value).toMatchObject({ k: 'str', s: 'threads' });
    expect(w.metrics).toEqual([expect.objectContaining({ name: 'ops/s', value: expect.objectContaining({ k: 'bin', op: '/' }) })]);
    expect(w.processes).toHaveLength(1);
    const all = flatten(w.processes[0]!.body);
    // let limit; if iterations > 0 { let limit }; if $mode == "processes" { fork } else { threads pin }
    expect(all.map((s) => s.k)).toEqual(['let', 'if', 'let', 'if', 'fork', 'loop', 'mmap', 'touch', 'munmap', 'threads', 'loop', 'mmap', 'touch', 'munmap']);
    expect(all[3]).toMatchObject({ k: 'if', cond: { k: 'bin', op: '==', a: { k: 'param', name: 'mode' }, b: { k: 'str', s: 'processes' } } });
    expect(all[4]).toMatchObject({ k: 'fork', count: { k: 'param', name: 'threads' } });
    expect(all[9]).toMatchObject({ k: 'threads', pin: true, count: { k: 'param', name: 'threads' } });
    for (const l of all.filter((s) => s.k === 'loop')) {
      if (l.k !== 'loop') throw new Error();
      expect(l).toMatchObject({ times: { k: 'param', name: 'iterations' }, duration: { k: 'var', name: 'limit' } });
      expect(l.body.map((s) => s.k)).toEqual(['mmap', 'touch', 'munmap']);
      expect(l.body[0]).toMatchObject({ prot: { read: true, write: true, exec: false }, shared: false, size: { k: 'param', name: 'size' } });
      expect(l.body[0]).not.toHaveProperty('file');
      expect(l.body[1]).toMatchObject({ access: 'write', pattern: 'seq', counter: 'ops' });
    }
    const v = resolveParams(w, [], { ncpus: 4, seed: 1 });
    expect(Object.fromEntries(v)).toEqual({
      ncpus: 4, seed: 1, threads: 4, mode: internWord('threads'), iterations: 0, seconds: 1e8, size: 128 * 1024 * 1024,
    });
    expect(resolveParams(w, ['mode=processes'], { ncpus: 4, seed: 1 }).get('mode')).toBe(internWord('processes'));
  });

  test('ebizzy parses, checks and has the documented shape', () => {
    const w = loadWorkload('ebizzy.spf');
    expect(w.name).toBe('ebizzy');
    expect(w.description).toContain('`ebizzy -mTt <ncpus>`');
    expect(w.description).toContain('every "random" pick is 0');
    expect(w.params.map((p) => p.name)).toEqual([
      'threads', 'chunks', 'chunk_size', 'seconds', 'iterations', 'mmap', 'touch', 'random_size', 'permissions', 'memcpy_rate',
    ]);
    expect(w.metrics.map((m) => m.name)).toEqual(['records/s']);
    const all = flatten(w.processes[0]!.body);
    const threads = all.find((s) => s.k === 'threads');
    expect(threads).toMatchObject({ pin: false, count: { k: 'param', name: 'threads' } });
    if (threads?.k !== 'threads') throw new Error();
    const loop = threads.body.find((s) => s.k === 'loop');
    // `loop $iterations for limit`: limit is $seconds unless iterations > 0 (calibrate's fixed work).
    expect(loop).toMatchObject({ times: { k: 'param', name: 'iterations' }, duration: { k: 'var', name: 'limit' } });
    if (loop?.k !== 'loop') throw new Error();
    expect(loop.body.map((s) => s.k)).toEqual(['if', 'count']);
    expect(loop.body[1]).toMatchObject({ counter: 'records', by: { k: 'num', v: 1 } });
    const v = resolveParams(w, ['threads=16', 'seconds=2'], { ncpus: 4, seed: 1 });
    expect(Object.fromEntries(v)).toEqual({
      ncpus: 4, seed: 1, threads: 16, chunks: 10, chunk_size: 512 * 1024, seconds: 2e9,
      iterations: 0, mmap: 1, touch: 1, random_size: 0, permissions: 0, memcpy_rate: 10,
    });
  });

  test('listShippedWorkloads', () => {
    const list = listShippedWorkloads();
    expect(list.map((x) => x.name)).toEqual([...list.map((x) => x.name)].sort());
    const pf = list.find((x) => x.name === 'page_fault1')!;
    expect(pf.description).toMatch(/^will-it-scale page_fault1/);
    expect(pf.params.map((p) => [p.name, p.defaultText, p.doc])).toEqual([
      ['threads', '$ncpus', 'tasks (will-it-scale -t): threads or processes, per `mode`'],
      ['mode', '"threads"', 'threads (page_fault1_threads) or processes (page_fault1_processes)'],
      ['iterations', '0', 'mmap/touch/munmap rounds per task; 0 = run for `seconds`'],
      ['seconds', '0.1s', 'simulated run time per task when iterations is 0'],
      ['size', '128M', 'bytes mapped per round (MEMSIZE in page_fault1.c)'],
    ]);
    for (const x of list) {
      expect(x.description.length).toBeGreaterThan(0);
      for (const p of x.params) {
        expect(p.defaultText).not.toBe('');
        expect(p.doc).toBeTruthy();
      }
    }
  });
});

describe('loading by path and errors', () => {
  test('a file path is read, and errors name it', () => {
    const ok = join(dir, 'mine.spf');
    writeFileSync(ok, '\uFEFF# Mine.\nprocess {\n  compute 1us\n}\n');
    const w = loadWorkload(ok);
    expect(w.name).toBe('mine');
    expect(w.file).toBe(ok);
    expect(w.description).toBe('Mine.');

    const bad = join(dir, 'bad.spf');
    writeFileSync(bad, 'process {\n  mmapp x\n}\n');
    const e = thrown(() => loadWorkload(bad));
    expect(e).toBeInstanceOf(WorkloadSyntaxError);
    expect((e as Error).message).toBe(`${bad}:2:3: unknown statement 'mmapp'; did you mean 'mmap'?`);

    const unchecked = join(dir, 'unchecked.spf');
    writeFileSync(unchecked, 'process {\n  barrier\n}\n');
    expect((thrown(() => loadWorkload(unchecked)) as Error).message).toBe(
      `${unchecked}:2:3: 'barrier' outside a 'threads' block (a barrier waits for the threads of its group)`,
    );
  });

  test('unknown names', () => {
    const shipped = shippedWorkloadNames().join(', ');
    for (const name of ['foo', 'no/such/file.spf', dir, '../workloads/ebizzy']) {
      const e = thrown(() => loadWorkload(name));
      expect(e).toBeInstanceOf(UsageError);
      expect((e as Error).message).toBe(`workload '${name}' not found: not a file, and not a shipped workload (shipped: ${shipped})`);
    }
    expect(shipped).toContain('ebizzy, ');
  });
});
