import { describe, expect, it } from 'vitest';
import { chainOf, IDLE_CHAIN, type CpuSample } from '../../src/trace/cpu-clock.js';
import { framesOf, KERNEL_CALLER } from '../../src/trace/lock-contention.js';
import { designCallers } from '../../src/commands/lock-record.js';
import { runWorkload, type RunResult } from '../../src/sim/run.js';
import { prepareRun, runOptionsOf } from '../../src/sim/setup.js';
import { FaultLog } from '../helpers/fault-log.js';
import { LockContentionSink } from '../../src/trace/lock-contention.js';
import { LCB_F_READ } from '../../src/engine/lockstat.js';

const NAMES = new Map([...KERNEL_CALLER, ...designCallers()]);

/** A V8 stack in text, innermost first, as the sampler reads it (files decide engine/model/user). */
function stack(...frames: string[]): ReturnType<typeof framesOf> {
  return framesOf(['Error', ...frames.map((f) => `    at ${f}`)].join('\n'));
}

describe('chainOf: a stack as a kernel call chain', () => {
  it('names the model as lock contention does, the lock primitives as the kernel, and adds the fault entry', () => {
    const frames = stack(
      'CpuClockSampler.charge (/x/src/trace/cpu-clock.ts:1:1)',
      'Task.cost (/x/src/engine/task.ts:1:1)',
      'clearPage (/x/src/mm/fault.ts:1:1)',
      'doAnonymousPage (/x/src/mm/fault.ts:1:1)',
      'doAnonymousPage.next (<anonymous>)',
      'doUserAddrFault (/x/src/mm/access.ts:1:1)',
      'Runner.threadMain (/x/src/sim/interp.ts:1:1)',
      'Engine.resume (/x/src/engine/engine.ts:1:1)',
    );
    // do_user_addr_fault -> handle_mm_fault -> __handle_mm_fault: the model's fault entry runs the
    // common case itself.
    expect(chainOf(frames, NAMES, true)).toEqual(['clear_page_erms', 'do_anonymous_page', '__handle_mm_fault', 'handle_mm_fault', 'do_user_addr_fault', 'exc_page_fault', 'asm_exc_page_fault']);
  });

  it('a lock wait: the rwsem\'s functions are frames; a syscall enters through do_syscall_64', () => {
    const frames = stack(
      'Task.stall (/x/src/engine/task.ts:1:1)',
      'RwSemaphore.downWriteSlowpath (/x/src/engine/rwsem.ts:1:1)',
      'RwSemaphore.downWrite (/x/src/engine/rwsem.ts:1:1)',
      'mmapWriteLock (/x/src/mm/mmap.ts:1:1)',
      'sysMunmap (/x/src/mm/mmap.ts:1:1)',
      'Runner.leaf (/x/src/sim/interp.ts:1:1)',
    );
    expect(chainOf(frames, NAMES, true)).toEqual(['rwsem_down_write_slowpath', 'down_write', '__vm_munmap', '__x64_sys_munmap', 'do_syscall_64', 'entry_SYSCALL_64_after_hwframe']);
  });

  it('a kernel thread ends in kthread and ret_from_fork; a design\'s fault attempt is do_user_addr_fault\'s code', () => {
    const kthread = stack('Task.cost (/x/src/engine/task.ts:1:1)', 'scanMm (/x/src/mm/khugepaged.ts:1:1)', 'khugepaged (/x/src/mm/khugepaged.ts:1:1)', 'Engine.resume (/x/src/engine/engine.ts:1:1)');
    expect(chainOf(kthread, NAMES, false)).toEqual(['khugepaged_scan_mm_slot', 'khugepaged', 'kthread', 'ret_from_fork', 'ret_from_fork_asm']);
    const vma = stack(
      'Task.stall (/x/src/engine/task.ts:1:1)',
      'RwSemaphore.downReadTrylock (/x/src/engine/rwsem.ts:1:1)',
      'PerVmaLockStrategy.faultWithoutMmapLock (/x/src/mm/spf/per-vma-lock.ts:1:1)',
      'doUserAddrFault (/x/src/mm/access.ts:1:1)',
      'Runner.threadMain (/x/src/sim/interp.ts:1:1)',
    );
    expect(chainOf(vma, NAMES, true)).toEqual(['down_read_trylock', 'do_user_addr_fault', 'exc_page_fault', 'asm_exc_page_fault']);
  });
});

const PERIOD = 50_000;

function pf1(config: string, sampled: boolean, threads = 4, period = PERIOD): { r: RunResult; faults: number[]; samples: CpuSample[]; ncpus: number } {
  const prep = prepareRun('page_fault1', [`threads=${threads}`, 'size=2M', 'seconds=0.002s'], { cpus: String(threads), config: config.split(' ') });
  const log = new FaultLog();
  const samples: CpuSample[] = [];
  const cpuClock = { periodNs: period, callchain: true, offCpu: true, callers: designCallers(), onSample: (s: CpuSample): number => samples.push(s) };
  const r = runWorkload({ ...runOptionsOf(prep), sinks: [log], ...(sampled ? { cpuClock } : {}) });
  return { r, faults: log.faults, samples, ncpus: prep.ncpus };
}

describe('cpu-clock sampling on a run of the model', () => {
  for (const config of ['base', 'per-vma-lock', 'base kernel=2.6.32']) {
    it(`${config}: sampling with call chains changes neither the counts nor the schedule`, () => {
      const on = pf1(config, true);
      const off = pf1(config, false);
      expect(on.faults.length).toBeGreaterThan(0);
      expect(on.faults).toEqual(off.faults);
      expect(JSON.stringify(on.r)).toBe(JSON.stringify(off.r));
      expect(on.samples.length).toBeGreaterThan(0);
    });
  }

  it('samples every CPU once per period up to the end of the run: the task on it, or the idle task', () => {
    const { r, samples: all, ncpus } = pf1('base', true);
    const samples = all.filter((s) => s.offNs === undefined);
    const perCpu = Array.from({ length: ncpus }, () => new Set<number>());
    for (const s of samples) {
      expect(perCpu[s.cpu].has(s.time)).toBe(false);
      perCpu[s.cpu].add(s.time);
    }
    for (const times of perCpu) {
      expect(times.size).toBe(Math.ceil(r.elapsedNs / PERIOD) - 1);
      expect([...times].every((t) => t % PERIOD === 0 && t > 0 && t < r.elapsedNs)).toBe(true);
    }
    const idle = samples.filter((s) => s.pid === 0);
    expect(idle.every((s) => s.comm === 'swapper' && s.tid === 0 && s.userIp === 0 && s.chain === IDLE_CHAIN)).toBe(true);
    // The workload's threads' samples: each has its statement (the user frame).
    const busy = samples.filter((s) => s.pid !== 0);
    expect(busy.length).toBeGreaterThan(0);
    expect(busy.every((s) => s.comm === 'page_fault1' && s.userIp > 0)).toBe(true);
  });

  it('where the time goes comes from the model: clearing pages, the mmap lock\'s line, spins as frames of their own', () => {
    const { samples } = pf1('base', true);
    const stacks = samples.filter((s) => s.pid !== 0 && s.offNs === undefined).map((s) => s.chain!.join(';'));
    expect(stacks.some((c) => c.startsWith('clear_page_erms;do_anonymous_page;__handle_mm_fault;handle_mm_fault;do_user_addr_fault;exc_page_fault;asm_exc_page_fault'))).toBe(true);
    expect(stacks.some((c) => /^cacheline\(mmap_lock\);(down_read|up_read);do_user_addr_fault;/.test(c))).toBe(true);
    expect(stacks.some((c) => c.includes(';__x64_sys_munmap;do_syscall_64;entry_SYSCALL_64_after_hwframe'))).toBe(true);
    // Every chain of a user thread in the kernel ends in an entry.
    for (const c of stacks) if (c !== '') expect(c).toMatch(/(asm_exc_page_fault|entry_SYSCALL_64_after_hwframe)$/);
    // No model helper leaks out under its JavaScript name.
    for (const c of stacks) expect(c.replace('entry_SYSCALL_64', '')).not.toMatch(/[A-Z]|fault_without_mmap_lock|charge_walk/);
    // A run's line waits (each stall that paid exactly a line's transfer) name the line.
    expect(stacks.some((c) => /^cacheline\((zone->lock|lruvec->lru_lock)\);_raw_spin_lock;(rmqueue_bulk|__pagevec_lru_add);do_anonymous_page;/.test(c))).toBe(true);
  });

  it('a spin is sampled in its own frames, above the lock function and its caller', () => {
    const { samples } = pf1('base', true, 8, 10_000);
    const stacks = new Set(samples.filter((s) => s.pid !== 0 && s.offNs === undefined).map((s) => s.chain!.join(';')));
    const spins = [...stacks].filter((c) => /^(native_queued_spin_lock_slowpath|rwsem_spin_on_owner);/.test(c));
    // The queued spinlock's slow path over spin_lock() in the function that took the lock, and the
    // rwsem writer's optimistic spin over down_write() in the syscall that took the mmap lock.
    expect(spins.some((c) => /^native_queued_spin_lock_slowpath;_raw_spin_lock;(rmqueue_bulk|__pagevec_lru_add|release_pages);/.test(c))).toBe(true);
    expect(spins.some((c) => /^rwsem_spin_on_owner;rwsem_optimistic_spin;rwsem_down_write_slowpath;down_write;(__vm_munmap|vm_mmap_pgoff);__x64_sys_/.test(c))).toBe(true);
  });

  it('--off-cpu: a sample per sleep, its length as the period, where it slept: the mmap lock\'s readers wait as lock contention counts them', () => {
    const { samples } = pf1('base', true, 8, 10_000);
    const off = samples.filter((s) => s.offNs !== undefined);
    expect(off.length).toBeGreaterThan(0);
    expect(off.every((s) => s.offNs! > 0 && s.chain![0] === '__schedule' && s.chain![1] === 'schedule')).toBe(true);
    const readers = off.filter((s) => s.chain!.join(';').startsWith('__schedule;schedule;rwsem_down_read_slowpath;down_read;do_user_addr_fault;'));
    const slept = readers.reduce((a, s) => a + s.offNs!, 0);
    const prep = prepareRun('page_fault1', ['threads=8', 'size=2M', 'seconds=0.002s'], { cpus: '8', config: ['base'] });
    const sink = new LockContentionSink();
    runWorkload({ ...runOptionsOf(prep), contention: sink });
    const waited = sink.result().byCaller.find((c) => c.name === 'do_user_addr_fault' && c.flags === LCB_F_READ)!.totalNs;
    // A reader's wait ends when it has the lock, its sleep when it has a CPU again: the same here
    // (CPUs are free), but for the wake-up's latency.
    expect(slept).toBeGreaterThan(0);
    expect(Math.abs(slept - waited) / waited).toBeLessThan(0.05);
  });
});
