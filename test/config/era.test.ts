/**
 * Kernel eras (src/config/era.ts) and `--config kernel=X.Y` (src/config/kconfig.ts): the era
 * keys' values on each side of every release they change at, version strings as kernels and
 * cover letters write them, and kernel= applying as a preset does (later items win).
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ERA_CHANGES, ERA_KEYS, eraSettings, kernelRelease } from '../../src/config/era.js';
import { CONFIG_KEYS, resolveConfig } from '../../src/config/kconfig.js';
import { ConfigError } from '../../src/errors.js';
import { prepareRun, runOptionsOf } from '../../src/sim/setup.js';

/** Each era key's value by release, written out by hand from the commits cited in era.ts. */
const OLD = { CONFIG_RWSEM_GENERIC_SPINLOCK: 'y', rwsem_writer_steal: 'n', vmacache: 'mm', CONFIG_RWSEM_SPIN_ON_OWNER: 'n', spinlock: 'ticket', lazy_tlb: 'ipi', munmap_downgrade: 'n', rwsem_reader_wake: 'head', rwsem_reader_optimistic: 'none', rwsem_spin_on_readers: 'n', rwsem_handoff: 'n', fault_completed: 'n', thp_anon_align: 'none', vma_lock_anon_vma: 'inval', vma_lock: 'rwsem' };
const R2_6_34 = { ...OLD, CONFIG_RWSEM_GENERIC_SPINLOCK: 'n' };
const R3_9 = { ...R2_6_34, rwsem_writer_steal: 'y' };
const R3_15 = { ...R3_9, vmacache: 'task' };
const R3_16 = { ...R3_15, CONFIG_RWSEM_SPIN_ON_OWNER: 'y' };
const R4_2 = { ...R3_16, spinlock: 'queued' };
const R4_20 = { ...R4_2, lazy_tlb: 'skip', munmap_downgrade: 'y' };
const R5_3 = { ...R4_20, rwsem_reader_wake: 'all', rwsem_reader_optimistic: 'spin', rwsem_spin_on_readers: 'y', rwsem_handoff: 'y' };
const R5_11 = { ...R5_3, rwsem_reader_optimistic: 'steal' };
const R6_0 = { ...R5_11, fault_completed: 'y' };
const EXPECTED: Readonly<Record<string, Record<string, string>>> = {
  '2.6.33': OLD,
  '2.6.34': R2_6_34,
  '3.8': R2_6_34,
  '3.9': R3_9,
  '3.14': R3_9,
  '3.15': R3_15,
  '3.16': R3_16,
  '4.1': R3_16,
  '4.2': R4_2,
  '4.19': R4_2,
  '4.20': R4_20,
  '5.2': R4_20,
  '5.3': R5_3,
  '5.10': R5_3,
  '5.11': R5_11,
  '5.19': R5_11,
  '6.0': R6_0,
  '6.1': { ...R6_0, vmacache: 'none' },
  '6.6': { ...R6_0, vmacache: 'none' },
  '6.7': { ...R6_0, vmacache: 'none', thp_anon_align: 'any' },
  '6.9': { ...R6_0, vmacache: 'none', thp_anon_align: 'any' },
  '6.10': { ...R6_0, vmacache: 'none', thp_anon_align: 'any', vma_lock_anon_vma: 'trylock' },
  '6.11': { ...R6_0, vmacache: 'none', thp_anon_align: 'any', vma_lock_anon_vma: 'trylock' },
  '6.12': { ...R6_0, vmacache: 'none', thp_anon_align: 'pmd', vma_lock_anon_vma: 'trylock' },
  '6.14': { ...R6_0, vmacache: 'none', thp_anon_align: 'pmd', vma_lock_anon_vma: 'trylock' },
  '6.15': { ...R6_0, vmacache: 'none', thp_anon_align: 'pmd', vma_lock_anon_vma: 'trylock', vma_lock: 'refcount' },
};

describe('eraSettings: each era key on both sides of the release it changes at', () => {
  for (const [version, want] of Object.entries(EXPECTED)) {
    it(version, () => {
      expect(eraSettings(version)).toEqual(want);
    });
  }

  it('EXPECTED covers every change in the table, with the release just before it', () => {
    const justBefore: Record<string, string> = { '2.6.34': '2.6.33', '3.9': '3.8', '3.15': '3.14', '3.16': '3.15', '4.2': '4.1', '4.20': '4.19', '5.3': '5.2', '5.11': '5.10', '6.0': '5.19', '6.1': '6.0', '6.7': '6.6', '6.10': '6.9', '6.12': '6.11', '6.15': '6.14' };
    for (const c of ERA_CHANGES) {
      const prev = justBefore[c.at];
      expect(prev, `${c.key} changes at ${c.at}: add it and the release before it to EXPECTED`).toBeDefined();
      expect(EXPECTED[prev][c.key], `${c.key} in ${prev}`).toBe(c.before);
      expect(EXPECTED[c.at][c.key], `${c.key} in ${c.at}`).toBe(c.after);
    }
  });

  it('the era keys are the table keys, in the order they first change', () => {
    expect(ERA_KEYS).toEqual(['CONFIG_RWSEM_GENERIC_SPINLOCK', 'rwsem_writer_steal', 'vmacache', 'CONFIG_RWSEM_SPIN_ON_OWNER', 'spinlock', 'lazy_tlb', 'munmap_downgrade', 'rwsem_reader_wake', 'rwsem_reader_optimistic', 'rwsem_spin_on_readers', 'rwsem_handoff', 'fault_completed', 'thp_anon_align', 'vma_lock_anon_vma', 'vma_lock']);
  });

  it('versions as uname -r and cover letters write them: the suffix does not change the era', () => {
    expect(eraSettings('4.17-rc4-mm1')).toEqual(eraSettings('4.17'));
    expect(eraSettings('6.18.44-fc')).toEqual(EXPECTED['6.15']);
    expect(eraSettings('6.8.0-45-generic')).toEqual(EXPECTED['6.7']);
    expect(eraSettings('6.10.14').vma_lock_anon_vma).toBe('trylock');
    // A stable release of 3.14 is still 3.14: mm->mmap_cache.
    expect(eraSettings('3.14.79').vmacache).toBe('mm');
    expect(eraSettings('4.19.325').lazy_tlb).toBe('ipi');
    // An -rc is its release: 6.1-rc1 already has the maple tree.
    expect(eraSettings('6.1-rc1').vmacache).toBe('none');
    expect(eraSettings('v3.16').CONFIG_RWSEM_SPIN_ON_OWNER).toBe('y');
    // Two-digit minors compare as numbers, not strings.
    expect(eraSettings('4.9').lazy_tlb).toBe('ipi');
    expect(eraSettings('3.2').vmacache).toBe('mm');
    expect(eraSettings('7.0')).toEqual(EXPECTED['6.15']);
  });

  it('reads 2.6.N as release 2.6.N', () => {
    expect(kernelRelease('2.6.33-rc2')).toEqual([2, 6, 33]);
    expect(kernelRelease('2.6.39.4')).toEqual([2, 6, 39]);
    expect(kernelRelease('3.0')).toEqual([3, 0]);
    expect(eraSettings('2.6.39.4')).toEqual(EXPECTED['2.6.34']);
    expect(eraSettings('2.6.33.20')).toEqual(EXPECTED['2.6.33']);
  });

  it('a string that is not a version is a ConfigError that says what a version looks like', () => {
    for (const bad of ['', 'none', 'abc', '4', '4.', '.17', '4.17abc', 'linux-4.17', '4,17']) {
      expect(() => eraSettings(bad), bad).toThrow(ConfigError);
      expect(kernelRelease(bad), bad).toBeUndefined();
    }
    expect(() => eraSettings('four')).toThrow("'four' is not a kernel version (major.minor, with anything after it: 4.17, 2.6.33, 6.8.0-45-generic)");
  });

  it("every era key's default is the newest release's value, except fault_completed (its default is n)", () => {
    const newest = eraSettings('6.18');
    const differ = ERA_KEYS.filter((k) => CONFIG_KEYS[k].def !== newest[k]);
    expect(differ).toEqual(['fault_completed']);
  });
});

describe('--config kernel=X.Y', () => {
  it('sets every era key as that release had it, and is itself a resolved setting', () => {
    const c = resolveConfig(['kernel=4.17']);
    expect(c.settings.kernel).toBe('4.17');
    // (vma_lock is the per-VMA-lock design's own key: the base kernel has no such setting.)
    for (const [k, v] of Object.entries(EXPECTED['4.19'])) expect(c.settings[k], k).toBe(k === 'vma_lock' ? undefined : v);
    expect(resolveConfig(['per-vma-lock', 'kernel=4.17']).settings.vma_lock).toBe('rwsem');
    expect(c.vmacache).toBe('task');
    expect(c.lazyTlb).toBe('ipi');
    expect(c.rwsemSpinOnOwner).toBe(true);
    expect(c.faultCompleted).toBe(false);
    const old = resolveConfig(['kernel=2.6.33-rc2']);
    expect(old.settings.kernel).toBe('2.6.33-rc2');
    expect(old.vmacache).toBe('mm');
    expect(old.rwsemSpinOnOwner).toBe(false);
  });

  it('defaults to none, which leaves the defaults', () => {
    const c = resolveConfig([]);
    expect(c.settings.kernel).toBe('none');
    expect(resolveConfig(['kernel=none']).settings).toEqual(c.settings);
    // The key comes first, before every era key it sets.
    expect(Object.keys(c.settings)[0]).toBe('kernel');
  });

  it('resolved settings written back as KEY=VALUE items, in their order, give the same config', () => {
    for (const items of [['kernel=2.6.33', 'CONFIG_RWSEM_SPIN_ON_OWNER=y'], ['kernel=4.17', 'vmacache=none', 'dufour-v9'], ['kamezawa-fixed', 'kernel=3.14.79']]) {
      const c = resolveConfig(items);
      const again = resolveConfig(Object.entries(c.settings).map(([k, v]) => `${k}=${v}`));
      expect(again.settings, items.join(' ')).toEqual(c.settings);
    }
  });

  it('later items win, as after a preset', () => {
    expect(resolveConfig(['kernel=4.17', 'vmacache=none']).vmacache).toBe('none');
    expect(resolveConfig(['vmacache=none', 'kernel=4.17']).vmacache).toBe('task');
    expect(resolveConfig(['kernel=4.17', 'kernel=6.1']).settings).toEqual(resolveConfig(['kernel=6.1']).settings);
    // kernel=none after a release puts the era keys back to their defaults.
    const back = resolveConfig(['kernel=2.6.33', 'kernel=none']);
    expect(back.settings).toEqual(resolveConfig([]).settings);
    // A later KEY=VALUE wins, and the settings still say which kernel was named.
    const c = resolveConfig(['kernel=4.17', 'lazy_tlb=skip']);
    expect(c.settings.kernel).toBe('4.17');
    expect(c.lazyTlb).toBe('skip');
  });

  it('a design preset keeps the era; kernel= keeps the design', () => {
    const a = resolveConfig(['kernel=2.6.33', 'kamezawa-fixed']);
    expect(a.design).toBe('kamezawa');
    expect(a.vmacache).toBe('mm');
    expect(a.rwsemSpinOnOwner).toBe(false);
    const b = resolveConfig(['dufour-v11', 'kernel=4.17']);
    expect(b.design).toBe('dufour');
    expect(b.designSettings.spf_version).toBe('v11');
    expect(b.lazyTlb).toBe('ipi');
  });

  it('works from a .config file, in order with its other lines', () => {
    const dir = mkdtempSync(join(tmpdir(), 'spfperf-era-'));
    const f = join(dir, 'old.config');
    writeFileSync(f, '# the 2009 RFC base\nkernel=2.6.33-rc2\nlazy_tlb=skip\n');
    const c = resolveConfig([f]);
    expect(c.settings.kernel).toBe('2.6.33-rc2');
    expect(c.vmacache).toBe('mm');
    expect(c.lazyTlb).toBe('skip');
    const bad = join(dir, 'bad.config');
    writeFileSync(bad, 'kernel=linux\n');
    expect(() => resolveConfig([bad])).toThrow(`${bad}:1:1: 'linux' is not a value of kernel`);
  });

  it('an unparseable version names the item and what a version looks like', () => {
    expect(() => resolveConfig(['kernel=4'])).toThrow(ConfigError);
    expect(() => resolveConfig(['kernel=4'])).toThrow(
      "--config 'kernel=4': '4' is not a value of kernel (none, or a kernel version: major.minor, with anything after it, as in 4.17, 2.6.33, 6.8.0-45-generic)",
    );
  });

  it('reaches the run: prepareRun passes the era keys of the named kernel on', () => {
    const o = runOptionsOf(prepareRun('multi-fault', ['threads=2', 'rounds=1', 'area=16K'], { cpus: '4', config: ['kernel=2.6.33'] }));
    expect(o.vmacache).toBe('mm');
    expect(o.rwsem).toEqual({ genericSpinlock: true, spinOnOwner: false, writerSteal: false, readerWake: 'head', readerOpt: 'none', spinOnReaders: false, handoff: false });
    expect(o.lazyTlb).toBe('ipi');
    expect(o.spinlock).toBe('ticket');
    expect(o.faultCompleted).toBe(false);
    const now = runOptionsOf(prepareRun('multi-fault', ['threads=2', 'rounds=1', 'area=16K'], { cpus: '4', config: ['kernel=6.18.44-fc'] }));
    expect(now.vmacache).toBe('none');
    expect(now.lazyTlb).toBe('skip');
    expect(now.spinlock).toBe('queued');
    expect(now.faultCompleted).toBe(true);
    expect(now.rwsem).toEqual({ genericSpinlock: false, spinOnOwner: true, writerSteal: true, readerWake: 'all', readerOpt: 'steal', spinOnReaders: true, handoff: true });
    const v417 = runOptionsOf(prepareRun('multi-fault', ['threads=2', 'rounds=1', 'area=16K'], { cpus: '4', config: ['kernel=4.17'] }));
    expect(v417.rwsem).toEqual({ genericSpinlock: false, spinOnOwner: true, writerSteal: true, readerWake: 'head', readerOpt: 'none', spinOnReaders: false, handoff: false });
  });
});
