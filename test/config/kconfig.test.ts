import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { configLabel, listConfigPresets, PRESETS, resolveConfig } from '../../src/config/kconfig.js';
import { ConfigError } from '../../src/errors.js';

describe('resolveConfig', () => {
  it('defaults to the classic kernel', () => {
    const c = resolveConfig([]);
    expect(c.design).toBe('none');
    expect(c.settings.CONFIG_SPECULATIVE_PAGE_FAULT).toBe('n');
    expect(configLabel(c)).toBe('base');
  });

  it('resolves every preset to its design, and spf is an alias of dufour-v11', () => {
    const want: Record<string, [string, Record<string, string>]> = {
      base: ['none', {}],
      'dufour-v9': ['dufour', { spf_version: 'v9' }],
      'dufour-v11': ['dufour', { spf_version: 'v11' }],
      'dufour-srcu': ['dufour', { spf_version: 'srcu' }],
      lespinasse: ['lespinasse', {}],
      'per-vma-lock': ['per-vma-lock', { vma_lock: 'rwsem' }],
      kamezawa: ['kamezawa', { kamezawa_fixed: 'n' }],
      'kamezawa-fixed': ['kamezawa', { kamezawa_fixed: 'y' }],
    };
    // The seed designs' presets (a new design adds its own; the registry tests check those).
    for (const name of Object.keys(want)) expect(PRESETS[name], name).toBeDefined();
    for (const [name, [design, version]] of Object.entries(want)) {
      const c = resolveConfig([name]);
      expect(c.design, name).toBe(design);
      expect(c.designSettings, name).toEqual(version);
      expect(configLabel(c)).toBe(name);
    }
    expect(resolveConfig(['spf']).settings).toEqual(resolveConfig(['dufour-v11']).settings);
    expect(configLabel(resolveConfig(['spf']))).toBe('dufour-v11');
    // A design's own settings are part of its configs only.
    expect(resolveConfig(['base']).settings.spf_version).toBeUndefined();
    expect(resolveConfig(['dufour-v9']).settings.kamezawa_fixed).toBeUndefined();
    expect(resolveConfig(['dufour-v9']).settings.spf_version).toBe('v9');
  });

  it('later wins: a preset then KEY=VALUE overrides', () => {
    const c = resolveConfig(['dufour-v11', 'spf_version=v9', 'fault_completed=y']);
    expect(c.designSettings.spf_version).toBe('v9');
    expect(c.faultCompleted).toBe(true);
    expect(resolveConfig(['dufour-v9', 'base']).design).toBe('none');
    // A preset is a whole design choice: the earlier design's symbols and settings go.
    const pvl = resolveConfig(['per-vma-lock', 'dufour-v11']);
    expect(pvl.settings.CONFIG_PER_VMA_LOCK).toBe('n');
    expect(pvl.settings.CONFIG_PER_VMA_LOCK_STATS).toBe('n');
    expect(resolveConfig(['spf_version=v9', 'design=dufour', 'CONFIG_SPECULATIVE_PAGE_FAULT=y']).designSettings.spf_version).toBe('v9');
  });

  it('reads .config fragments, with "is not set" lines and comments', () => {
    const dir = mkdtempSync(join(tmpdir(), 'spfperf-cfg-'));
    const f = join(dir, 'spf.config');
    writeFileSync(f, '# my kernel\nCONFIG_SPECULATIVE_PAGE_FAULT=y\n# CONFIG_PER_VMA_LOCK is not set\ndesign=dufour\nspf_version="v9"\n\n');
    const c = resolveConfig([f]);
    expect(c.design).toBe('dufour');
    expect(c.designSettings.spf_version).toBe('v9');
    expect(c.settings.CONFIG_PER_VMA_LOCK).toBe('n');
  });

  it('names the key, value, file and line at fault', () => {
    const dir = mkdtempSync(join(tmpdir(), 'spfperf-cfg-'));
    const f = join(dir, 'bad.config');
    writeFileSync(f, 'CONFIG_SPECULATIVE_PAGE_FAULT=y\nCONFIG_SPECULATIVE_PAGE_FALT=y\n');
    expect(() => resolveConfig([f])).toThrow(new RegExp(`^${f.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:2:1: unknown config key 'CONFIG_SPECULATIVE_PAGE_FALT'`));
    expect(() => resolveConfig(['spf_version=v10'])).toThrow("--config 'spf_version=v10': 'v10' is not a value of spf_version (one of: v9, v11, srcu)");
    expect(() => resolveConfig(['frobnicate=y'])).toThrow("--config 'frobnicate=y': unknown config key 'frobnicate'");
    expect(() => resolveConfig(['dufour-v12'])).toThrow(/^--config 'dufour-v12': not a preset, a file, or KEY=VALUE \(presets: base, .*dufour-v9/);
    expect(() => resolveConfig(['design=dufour'])).toThrow('design=dufour needs CONFIG_SPECULATIVE_PAGE_FAULT=y');
    expect(() => resolveConfig(['CONFIG_PER_VMA_LOCK=y'])).toThrow('--config: CONFIG_PER_VMA_LOCK=y needs a design that uses it (design=per-vma-lock)');
    expect(() => resolveConfig(['per-vma-lock', 'CONFIG_SPECULATIVE_PAGE_FAULT=y'])).toThrow(/CONFIG_SPECULATIVE_PAGE_FAULT=y needs a design that uses it \(design=kamezawa\|dufour\|lespinasse\)/);
    // A design's own setting under another design is a mistake, named where it was made.
    expect(() => resolveConfig(['base', 'spf_version=v9'])).toThrow("--config 'spf_version=v9': spf_version is a setting of design=dufour, and the design is none");
    expect(() => resolveConfig(['design=kamezawa'])).toThrow('design=kamezawa needs CONFIG_SPECULATIVE_PAGE_FAULT=y');
    expect(() => resolveConfig(['nope'])).toThrow(ConfigError);
  });

  it('CONFIG_RWSEM_SPIN_ON_OWNER: y by default, parses y/n, from a .config fragment too', () => {
    const c = resolveConfig([]);
    expect(c.settings.CONFIG_RWSEM_SPIN_ON_OWNER).toBe('y');
    expect(c.rwsemSpinOnOwner).toBe(true);
    expect(resolveConfig(['CONFIG_RWSEM_SPIN_ON_OWNER=n']).rwsemSpinOnOwner).toBe(false);
    expect(resolveConfig(['CONFIG_RWSEM_SPIN_ON_OWNER=n', 'CONFIG_RWSEM_SPIN_ON_OWNER=y']).rwsemSpinOnOwner).toBe(true);
    // Presets leave it alone.
    for (const name of Object.keys(PRESETS)) expect(resolveConfig([name]).rwsemSpinOnOwner, name).toBe(true);
    expect(resolveConfig(['per-vma-lock', 'CONFIG_RWSEM_SPIN_ON_OWNER=n']).rwsemSpinOnOwner).toBe(false);
    const dir = mkdtempSync(join(tmpdir(), 'spfperf-cfg-'));
    const f = join(dir, 'old.config');
    writeFileSync(f, '# CONFIG_RWSEM_SPIN_ON_OWNER is not set\nvmacache=mm\n');
    const old = resolveConfig([f]);
    expect(old.rwsemSpinOnOwner).toBe(false);
    expect(old.settings.CONFIG_RWSEM_SPIN_ON_OWNER).toBe('n');
    expect(old.vmacache).toBe('mm');
  });

  it('vmacache: none by default, parses mm | task | none', () => {
    const c = resolveConfig([]);
    expect(c.settings.vmacache).toBe('none');
    expect(c.vmacache).toBe('none');
    for (const v of ['mm', 'task', 'none'] as const) {
      const k = resolveConfig([`vmacache=${v}`]);
      expect(k.vmacache).toBe(v);
      expect(k.settings.vmacache).toBe(v);
    }
    for (const name of Object.keys(PRESETS)) expect(resolveConfig([name]).vmacache, name).toBe('none');
    expect(resolveConfig(['vmacache=mm', 'lespinasse']).vmacache).toBe('mm');
    expect(configLabel(resolveConfig(['vmacache=task']))).toBe('base');
  });

  it('lazy_tlb: skip by default (4.19+), parses ipi | skip, presets leave it alone', () => {
    const c = resolveConfig([]);
    expect(c.settings.lazy_tlb).toBe('skip');
    expect(c.lazyTlb).toBe('skip');
    for (const v of ['ipi', 'skip'] as const) expect(resolveConfig([`lazy_tlb=${v}`]).lazyTlb).toBe(v);
    for (const name of Object.keys(PRESETS)) expect(resolveConfig([name]).lazyTlb, name).toBe('skip');
    expect(resolveConfig(['lazy_tlb=ipi', 'dufour-v11']).lazyTlb).toBe('ipi');
    expect(configLabel(resolveConfig(['dufour-v11', 'lazy_tlb=ipi']))).toBe('dufour-v11');
    expect(() => resolveConfig(['lazy_tlb=y'])).toThrow("--config 'lazy_tlb=y': 'y' is not a value of lazy_tlb (one of: ipi, skip)");
  });

  it('bad values of the new keys give the usual one-line error naming the key', () => {
    const err = (item: string): string => {
      try {
        resolveConfig([item]);
      } catch (e) {
        expect(e).toBeInstanceOf(ConfigError);
        return (e as Error).message;
      }
      throw new Error(`${item} was accepted`);
    };
    expect(err('vmacache=rb')).toBe("--config 'vmacache=rb': 'rb' is not a value of vmacache (one of: mm, task, none)");
    expect(err('vmacache=')).toBe("--config 'vmacache=': '' is not a value of vmacache (one of: mm, task, none)");
    expect(err('vmacache=MM')).toBe("--config 'vmacache=MM': 'MM' is not a value of vmacache (one of: mm, task, none)");
    expect(err('CONFIG_RWSEM_SPIN_ON_OWNER=m')).toBe("--config 'CONFIG_RWSEM_SPIN_ON_OWNER=m': 'm' is not a value of CONFIG_RWSEM_SPIN_ON_OWNER (one of: y, n)");
    expect(err('CONFIG_RWSEM_SPIN_ON_OWNER=yes')).toBe("--config 'CONFIG_RWSEM_SPIN_ON_OWNER=yes': 'yes' is not a value of CONFIG_RWSEM_SPIN_ON_OWNER (one of: y, n)");
    for (const item of ['vmacache=rb', 'CONFIG_RWSEM_SPIN_ON_OWNER=m']) expect(err(item)).not.toMatch(/\n/);
    // A misspelt key lists the new keys among the known ones.
    expect(err('vma_cache=mm')).toMatch(/^--config 'vma_cache=mm': unknown config key 'vma_cache' \(known: .*\bCONFIG_RWSEM_SPIN_ON_OWNER\b.*\bvmacache\b.*\)$/);
    const dir = mkdtempSync(join(tmpdir(), 'spfperf-cfg-'));
    const f = join(dir, 'bad.config');
    writeFileSync(f, 'vmacache=task\nvmacache=per-thread\n');
    expect(err(f)).toBe(`${f}:2:1: 'per-thread' is not a value of vmacache (one of: mm, task, none)`);
  });

  it('lists every preset with a one-line description', () => {
    const l = listConfigPresets();
    expect(l.map((p) => p.name)).toContain('dufour-v11');
    for (const p of l) expect(p.description).not.toMatch(/\n/);
    expect(l.find((p) => p.name === 'dufour-v11')!.aliases).toEqual(['spf']);
  });
});

describe('names an object already has are not config names', () => {
  // Found by the fuzzer (test/cli/fuzz.test.ts): `--config toString` was an internal error.
  it.each(['toString', '__proto__', 'constructor', 'hasOwnProperty', 'toString=y', 'constructor=1', '__proto__=n'])('%s is refused as unknown', (item) => {
    expect(() => resolveConfig([item])).toThrow(ConfigError);
    expect(() => resolveConfig([item])).toThrow(/not a preset, a file, or KEY=VALUE|unknown config key/);
  });
});
