/**
 * Per-NUMA-node zones and LRU locks (src/mm/page.ts): each socket's CPUs allocate from their
 * node's free list under its zone->lock and add to its lruvec under its lru_lock; a node whose
 * free list and the fresh frames have run out falls back to another node's free pages.
 */
import { describe, expect, test } from 'vitest';
import { getArch } from '../../src/config/arch.js';
import { SIGKILL } from '../../src/mm/types.js';
import { Engine, type Code, type Task } from '../../src/engine/engine.js';
import { Topology } from '../../src/engine/topology.js';
import type { Thread } from '../../src/mm/kernel.js';
import { PageAllocator, PageDb } from '../../src/mm/page.js';
import { runWorkload } from '../../src/sim/run.js';
import { mainThread, mmOptions, proc, RecordingSink, runMm } from './helpers.js';

const x86 = getArch('x86');

/** Every thread of one process, pinned one per CPU, maps, writes and unmaps 1 MiB. */
const FAULT_ON_EVERY_CPU = proc('threads $ncpus pin {', '  a = mmap 1M', '  touch a write', '  munmap a', '}');

function kernelOf(source: string, o: Parameters<typeof mmOptions>[1]) {
  const sink = new RecordingSink();
  const r = runMm(source, { ...o, sinks: [sink] });
  return { r, k: mainThread(sink).k };
}

describe('zone and LRU locks per node', () => {
  test('2 sockets (x86-2s8c), threads on both: each node\'s zone and lru locks are taken', () => {
    const { r, k } = kernelOf(FAULT_ON_EVERY_CPU, { machine: 'x86-2s8c', ncpus: 8 });
    expect(r.signals).toEqual([]);
    expect(k.alloc.zoneLocks.map((l) => l.name)).toEqual(['zone->lock(node0)', 'zone->lock(node1)']);
    expect(k.lru.locks.map((l) => l.name)).toEqual(['lruvec->lru_lock(node0)', 'lruvec->lru_lock(node1)']);
    for (const l of [...k.alloc.zoneLocks, ...k.lru.locks]) expect(l.stats.acquired, l.name).toBeGreaterThan(0);
    // The node-0 getters still name node 0's locks.
    expect(k.alloc.zoneLock).toBe(k.alloc.zoneLocks[0]);
    expect(k.lru.lock).toBe(k.lru.locks[0]);
    // Each node's lock is shared by its four CPUs only: roughly half of the acquisitions each.
    const [z0, z1] = k.alloc.zoneLocks.map((l) => l.stats.acquired);
    expect(Math.abs(z0! - z1!)).toBeLessThanOrEqual(Math.max(z0!, z1!) / 4);
  });

  test('threads only on socket 0 never take node 1\'s locks', () => {
    // x86-2s8c limited to its first 4 CPUs: all on socket 0, but the machine keeps 2 nodes.
    const { r, k } = kernelOf(FAULT_ON_EVERY_CPU, { machine: 'x86-2s8c', ncpus: 4 });
    expect(r.signals).toEqual([]);
    expect(k.alloc.zoneLocks).toHaveLength(2);
    expect(k.lru.locks).toHaveLength(2);
    expect(k.alloc.zoneLocks[0]!.stats.acquired).toBeGreaterThan(0);
    expect(k.lru.locks[0]!.stats.acquired).toBeGreaterThan(0);
    expect(k.alloc.zoneLocks[1]!.stats.acquired).toBe(0);
    expect(k.lru.locks[1]!.stats.acquired).toBe(0);
  });

  test('socket-1 CPUs that compute while socket-0 CPUs fault leave node 1\'s locks alone', () => {
    const src = proc('threads 8 pin {', '  if $tid < 4 {', '    a = mmap 1M', '    touch a write', '    munmap a', '  } else {', '    compute 100us', '  }', '}');
    const { r, k } = kernelOf(src, { machine: 'x86-2s8c', ncpus: 8 });
    expect(r.signals).toEqual([]);
    expect(k.alloc.zoneLocks[0]!.stats.acquired).toBeGreaterThan(0);
    expect(k.lru.locks[0]!.stats.acquired).toBeGreaterThan(0);
    expect(k.alloc.zoneLocks[1]!.stats.acquired).toBe(0);
    expect(k.lru.locks[1]!.stats.acquired).toBe(0);
  });

  test('siblingsLast machine (e5-2690v3 with 48 CPUs): CPUs 0-11 and 24-35 share node 0\'s locks', () => {
    // Threads pinned to CPUs 24..35 only (second threads of socket 0's cores).
    const src = proc('threads 36 pin {', '  if $tid >= 24 {', '    a = mmap 256K', '    touch a write', '    munmap a', '  }', '}');
    const { r, k } = kernelOf(src, { machine: 'e5-2690v3', ncpus: 48 });
    expect(r.signals).toEqual([]);
    expect(k.alloc.zoneLocks[0]!.stats.acquired).toBeGreaterThan(0);
    expect(k.lru.locks[0]!.stats.acquired).toBeGreaterThan(0);
    expect(k.alloc.zoneLocks[1]!.stats.acquired).toBe(0);
    expect(k.lru.locks[1]!.stats.acquired).toBe(0);
  });

  test('a one-socket machine has exactly one of each, with the plain names', () => {
    const { r, k } = kernelOf(FAULT_ON_EVERY_CPU, { ncpus: 4 });
    expect(r.signals).toEqual([]);
    expect(k.eng.topo.sockets).toBe(1);
    expect(k.alloc.zoneLocks.map((l) => l.name)).toEqual(['zone->lock']);
    expect(k.lru.locks.map((l) => l.name)).toEqual(['lruvec->lru_lock']);
    expect(k.alloc.zoneLock).toBe(k.alloc.zoneLocks[0]);
    expect(k.lru.lock).toBe(k.lru.locks[0]);
    expect(k.alloc.zoneLock.stats.acquired).toBeGreaterThan(0);
    expect(k.lru.lock.stats.acquired).toBeGreaterThan(0);
  });
});

/**
 * The allocator alone on a 2-socket machine of one CPU per socket (CPU 0: node 0, CPU 1: node 1),
 * with a PageDb of `frames` frames (pfn 0 is the zero page) and a stand-in Thread per task.
 */
function allocatorRig(frames: number) {
  const topo = new Topology({ sockets: 2, coresPerSocket: 1, threadsPerCore: 1 }, x86.lineLatencies);
  const eng = new Engine(topo, { contextSwitchNs: 0, wakeupNs: 0, timesliceNs: 1e6, jitter: 0 }, 1);
  const db = new PageDb(frames);
  const alloc = new PageAllocator(eng, db, x86.costs);
  const k = { em: { count() {} } };
  const thread = (t: Task) => ({ t, k }) as unknown as Thread;
  /** Run `body` as a task pinned to `cpu`, starting at `at`. */
  const on = (cpu: number, at: number, body: (th: Thread) => Code) => eng.spawn(100 + cpu + at, 1, `cpu${cpu}`, at, (t) => body(thread(t)), cpu);
  /** Allocate up to n pages (stopping at the first failure): the pfns, and whether one failed. */
  function* take(th: Thread, n: number, out: number[]): Code<boolean> {
    for (let i = 0; i < n; i++) {
      const pfn = yield* alloc.allocPage(th);
      if (pfn < 0) return false;
      out.push(pfn);
    }
    return true;
  }
  /** Free pfns to this CPU's list, then drain the list to the node's zone. */
  function* give(th: Thread, pfns: readonly number[]): Code {
    for (const pfn of pfns) alloc.freePageFast(th, pfn);
    for (let i = 0; i < Math.ceil(pfns.length / alloc.batch); i++) yield* alloc.drainPcp(th);
  }
  return { eng, db, alloc, on, take, give };
}

describe('allocation falls back to another node when memory is nearly exhausted', () => {
  test('node 1 gets the pages node 0 freed once the fresh frames are gone', () => {
    const { eng, alloc, on, take, give } = allocatorRig(1 + 62); // 62 frames: two batches of 31
    const first: number[] = [];
    const second: number[] = [];
    let firstFull = true;
    let secondFull = false;
    let oneMore = 0;
    let node0AfterFree = -1;
    on(0, 0, function* (th) {
      firstFull = yield* take(th, 62, first);
      // Nothing is left anywhere: the 63rd page fails.
      oneMore = yield* alloc.allocPage(th);
      yield* give(th, first);
      node0AfterFree = alloc.zoneLocks[0]!.stats.acquired;
    });
    on(1, 1_000_000, function* (th) {
      secondFull = yield* take(th, 62, second);
    });
    eng.run();
    expect(firstFull).toBe(true);
    expect(oneMore).toBe(-1);
    expect(alloc.zoneLocks[1]!.stats.acquired).toBeGreaterThan(0);
    // Node 1 took its own zone lock; node 0's lock saw nothing more after the frees.
    expect(alloc.zoneLocks[0]!.stats.acquired).toBe(node0AfterFree);
    expect(secondFull).toBe(true);
    expect([...second].sort((a, b) => a - b)).toEqual([...first].sort((a, b) => a - b));
    expect(alloc.inUse).toBe(62);
  });

  test('while fresh frames last, a node takes those rather than another node\'s free pages', () => {
    const { eng, alloc, on, take, give } = allocatorRig(1000);
    const freed: number[] = [];
    const remote: number[] = [];
    const local: number[] = [];
    on(0, 0, function* (th) {
      yield* take(th, 31, freed);
      yield* give(th, freed);
    });
    on(1, 1_000_000, function* (th) {
      yield* take(th, 31, remote);
    });
    on(0, 2_000_000, function* (th) {
      yield* take(th, 31, local);
    });
    eng.run();
    // Node 1 took fresh frames, none of node 0's freed ones.
    expect(remote).toHaveLength(31);
    for (const pfn of remote) expect(freed).not.toContain(pfn);
    // Node 0 took back its own free pages before any fresh frame.
    expect([...local].sort((a, b) => a - b)).toEqual([...freed].sort((a, b) => a - b));
  });

  test('huge allocations fall back too', () => {
    const { eng, alloc, on, take, give } = allocatorRig(1 + 62);
    let huge: number[] | null = null;
    let tooBig: number[] | null = [];
    on(0, 0, function* (th) {
      const got: number[] = [];
      yield* take(th, 62, got);
      yield* give(th, got);
    });
    on(1, 1_000_000, function* (th) {
      huge = yield* alloc.allocHuge(th, 32);
      tooBig = yield* alloc.allocHuge(th, 31); // 30 pages left in all
    });
    eng.run();
    expect(huge).not.toBeNull();
    expect(huge!).toHaveLength(32);
    expect(tooBig).toBeNull();
  });

  test('through a workload: a 2-socket machine with little memory reuses the other node\'s pages', () => {
    // Thread 0 (socket 0) writes and unmaps 4 MiB; then thread 4 (socket 1) writes 3 MiB. The
    // machine has room for the first 4 MiB and a little more: the second needs node 0's pages.
    const src = proc(
      'threads 8 pin {',
      '  if $tid == 0 {',
      '    a = mmap 4M',
      '    touch a write',
      '    munmap a',
      '  }',
      '  barrier',
      '  if $tid == 4 {',
      '    b = mmap 3M',
      '    touch b write count done',
      '  }',
      '}',
    );
    const sink = new RecordingSink();
    const o = mmOptions(src, { machine: 'x86-2s8c', ncpus: 8, sinks: [sink] });
    const frames = 1024 + 64;
    const r = runWorkload({ ...o, machine: { ...o.machine, memoryBytes: frames * 4096 } });
    expect(r.signals).toEqual([]);
    expect(r.counters.get('done')).toBe(768);
    const k = mainThread(sink).k;
    expect(k.pages.highWater).toBeLessThanOrEqual(frames);
    expect(k.alloc.zoneLocks[1]!.stats.acquired).toBeGreaterThan(0);

    // The same with one node's worth of memory too few for the second touch and nothing to
    // reuse: the model's OOM (SIGKILL) still happens.
    const tight = proc('threads 8 pin {', '  if $tid == 4 {', '    b = mmap 8M', '    touch b write', '  }', '}');
    const o2 = mmOptions(tight, { machine: 'x86-2s8c', ncpus: 8 });
    const r2 = runWorkload({ ...o2, machine: { ...o2.machine, memoryBytes: frames * 4096 } });
    expect(r2.signals.map((s) => s.signal)).toEqual([SIGKILL]);
  });
});
