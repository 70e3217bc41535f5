/**
 * Dufour's speculative fault as a step function (src/mm/spf/dufour-fault.ts: FaultWithoutMmapLock
 * and pte_map_lock()'s pteMapLockStep): run as a frame called from the engine (several CPUs) and
 * as its generator where calls are off (the same machine with lock contention's tracer, which
 * reads call chains off the JS stack), `spfperf stat` counts the same; and the abort sites of its
 * AT table that test/mm/spf/dufour.test.ts does not make sure of are reached by small scenarios.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { EV, eventById } from '../../../src/events/catalog.js';
import { ksymName } from '../../../src/events/ksym.js';
import { SIGSEGV } from '../../../src/mm/types.js';
import { AT } from '../../../src/mm/spf/dufour-fault.js';
import { runWorkload, type RunResult } from '../../../src/sim/run.js';
import { prepareRun, runOptionsOf } from '../../../src/sim/setup.js';
import { LockContentionSink } from '../../../src/trace/lock-contention.js';
import { spfperf } from '../../helpers/cli.js';
import { FaultLog } from '../../helpers/fault-log.js';
import { inside, MiB, PAGEFAULT_TPS, proc, SpfSink, total, W, workerTotal } from './helpers.js';

const VERSIONS = ['dufour-v9', 'dufour-v11', 'dufour-srcu'] as const;

/**
 * A zapper thread drops the first page of a prepared 1 MiB VMA with MADV_DONTNEED every 500 ns
 * (unmap_page_range() is inside vm_write_begin/end: the VMA's sequence count moves, its bounds
 * do not), while 3 threads write the rest of it, page by page, interleaved in one PTE table.
 */
const ZAP = proc(
  'buf = mmap 1M',
  'touch buf write length 4K',
  'threads 4 {',
  '  barrier',
  '  if $tid == 0 {',
  '    loop 300 {',
  '      madvise buf dontneed length 4K',
  '      compute 500ns',
  '    }',
  '  } else {',
  '    touch buf write offset 4K + $tid * 4K stride ($nthreads - 1) * 4K length 1M - 8K - $tid * 4K',
  '  }',
  '}',
);

/** The counts `spfperf stat -e speculative-faults,page-faults,minor-faults,pagefault:*` shows. */
const STAT_EVENTS = [EV.SPF, EV.PAGE_FAULTS, EV.MINOR_FAULTS, ...PAGEFAULT_TPS];

interface Ran {
  readonly r: RunResult;
  readonly calls: boolean;
  readonly log: number[];
}

/** Run a workload file the way `spfperf stat --config <design> --cpus <n>` does; `callsOff`: with lock contention's tracer. */
function statRun(file: string, design: string, cpus: number, callsOff: boolean): Ran {
  const p = prepareRun(file, [], { cpus: String(cpus), config: [design] });
  const log = new FaultLog();
  let calls = false;
  const r = runWorkload({
    ...runOptionsOf(p),
    sinks: [log],
    ...(callsOff ? { contention: new LockContentionSink() } : {}),
    testHook: (k) => (calls = k.eng.calls),
  });
  return { r, calls, log: log.faults };
}

const dir = mkdtempSync(join(tmpdir(), 'spfperf-dufour-fault-'));
const fileOf = (name: string, source: string): string => {
  const f = join(dir, `${name}.spf`);
  writeFileSync(f, source);
  return f;
};

describe('handle_speculative_fault() as a frame and as its generator: the same counts', () => {
  const files = { zap: fileOf('zap', ZAP), samePteTable: fileOf('same', W.samePteTable(4)), useAfterMunmap: fileOf('uam', W.useAfterMunmap()) };

  for (const design of VERSIONS) {
    test(`${design}: spfperf stat (calls on) counts what the same run with calls off counts, fault for fault`, async () => {
      let spf = 0;
      for (const [name, file] of Object.entries(files)) {
        const on = statRun(file, design, 4, false);
        const off = statRun(file, design, 4, true);
        // The paths the test means: the frame called from the engine, then its generator.
        expect([on.calls, off.calls], name).toEqual([true, false]);
        expect(off.r.counts.snapshot(), name).toEqual(on.r.counts.snapshot());
        expect(off.log, name).toEqual(on.log);
        spf += total(on.r, EV.SPF);
        if (name !== 'zap') continue;
        // What `spfperf stat` prints for the calls-on run, against the calls-off run's counts.
        const st = await spfperf(['stat', '-x,', '-e', 'speculative-faults,page-faults,minor-faults,pagefault:*', '--config', design, '--cpus', '4', file]);
        expect(st.status, st.stderr).toBe(0);
        // perf stat prints its counts on stderr.
        const printed = new Map(st.stderr.trim().split('\n').map((l) => l.split(',')).map((f) => [f[2]!, Number(f[0])]));
        expect(Object.fromEntries(printed), name).toEqual(Object.fromEntries(STAT_EVENTS.map((id) => [eventById(id).name, total(off.r, id)])));
        expect(printed.get('pagefault:spf_vma_changed'), name).toBeGreaterThan(0);
        expect(printed.get('pagefault:spf_vma_changed')).toBeGreaterThan(0);
      }
      expect(spf).toBeGreaterThan(0);
    });
  }
});

describe('handle_speculative_fault(): every abort site is reached', () => {
  const site = (addr: number): string => ksymName(addr)!;

  test('the AT table has these sites, each reached by a scenario (here, dufour.test.ts or khugepaged.test.ts)', () => {
    // A new site fails this test until a scenario reaches it.
    expect(Object.fromEntries(Object.entries(AT).map(([k, v]) => [k, site(v.ip)]))).toEqual({
      seqOdd: '__handle_speculative_fault+0x5c', // dufour.test.ts: spf_vma_changed (mprotect writer)
      notsup: '__handle_speculative_fault+0x9a', // dufour.test.ts: spf_vma_notsup (fresh mapping, file-backed)
      bounds: '__handle_speculative_fault+0xd4', // here
      access: '__handle_speculative_fault+0x112', // dufour.test.ts: spf_vma_access
      walk: '__handle_speculative_fault+0x1a0', // dufour.test.ts: a PTE table not there yet
      seqRetry: '__handle_speculative_fault+0x1f8', // here
      lockChanged: 'pte_map_lock+0x4c', // dufour.test.ts: spf_vma_changed (mprotect writer)
      lockPmd: 'pte_map_lock+0x8e', // khugepaged.test.ts: a collapse under the fault
      lockTry: 'pte_map_lock+0xc0', // dufour.test.ts: spf_pte_lock (v9)
      lockAfter: 'pte_map_lock+0xf2', // here
    });
  });

  test('+0xd4: the VMA found lies above the address (find_vma() of a hole): spf_vma_changed, then the classic path\'s SIGSEGV', () => {
    for (const design of VERSIONS) {
      const s = new SpfSink();
      const { r } = statRunInline(W.useAfterMunmap(), design, 2, s);
      expect(s.sites(), design).toEqual({ '__handle_speculative_fault+0xd4': 1 });
      const [x] = s.of(EV.SPF_VMA_CHANGED);
      // The VMA reported is the one above the hole (`keep`, 1 MiB), not one holding the address.
      expect(inside(x!), design).toBe(false);
      expect(x!.vmStart, design).toBeGreaterThan(x!.address);
      expect(x!.vmEnd - x!.vmStart, design).toBe(MiB);
      // A fallback, not a speculative fault: the mmap-lock path finds no VMA and signals.
      expect(r.signals.map((g) => g.signal), design).toEqual([SIGSEGV]);
      expect(workerTotal(r, EV.PAGE_FAULTS) - total(r, EV.SPF), design).toBe(1);
    }
  });

  test('+0x1f8 and pte_map_lock+0xf2: the sequence count moved during the walk, or while the PTE lock was taken', () => {
    const hits: Record<string, Record<string, number>> = {};
    for (const design of VERSIONS) {
      for (const seed of [1, 2, 3]) {
        const s = new SpfSink();
        const { r } = statRunInline(ZAP, design, 4, s, seed);
        expect(r.signals).toEqual([]);
        const changed = s.of(EV.SPF_VMA_CHANGED);
        // The zapper never moves the VMA's bounds: every abort names the one VMA, at an address in it.
        for (const x of changed) {
          expect(inside(x), x.site).toBe(true);
          expect(x.vmEnd - x.vmStart).toBe(MiB);
        }
        for (const [k, n] of Object.entries(s.sites(EV.SPF_VMA_CHANGED))) (hits[design] ??= {})[k] = (hits[design]?.[k] ?? 0) + n;
        // No fault is lost: each one that aborted completed on the mmap-lock path.
        expect(total(r, EV.PAGE_FAULTS) - total(r, EV.SPF)).toBeGreaterThanOrEqual(changed.length);
      }
    }
    for (const design of VERSIONS) expect(hits[design]!['__handle_speculative_fault+0x1f8'], design).toBeGreaterThan(0);
    const after = VERSIONS.reduce((n, d) => n + (hits[d]!['pte_map_lock+0xf2'] ?? 0), 0);
    expect(after, JSON.stringify(hits)).toBeGreaterThan(0);
  });
});

/** Run an inline source as `spfperf stat --config <design> --cpus <n>` would run its file (calls on). */
function statRunInline(source: string, design: string, cpus: number, sink: SpfSink, seed = 1): { r: RunResult } {
  const p = prepareRun(fileOf(`inline-${design}-${cpus}`, source), [], { cpus: String(cpus), config: [design], seed: String(seed) });
  return { r: runWorkload({ ...runOptionsOf(p), sinks: [sink] }) };
}
