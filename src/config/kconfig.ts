import { existsSync, readFileSync } from 'node:fs';
import { ConfigError } from '../errors.js';

/**
 * Kernel configs: `.config`-style settings resolved from --config arguments. Each argument is a
 * preset name, a file of `.config` lines, or one KEY=VALUE; they apply in order, later wins.
 *
 * A file holds lines like a kernel .config fragment:
 *
 *     # dufour v11 without the v9 abort
 *     CONFIG_SPECULATIVE_PAGE_FAULT=y
 *     # CONFIG_PER_VMA_LOCK is not set
 *     design=dufour
 *     spf_version=v11
 *
 * Upper-case keys are the kernel's Kconfig symbols; lower-case keys are spfperf's own knobs.
 */

/**
 * find_vma()'s cache: `mm` is mm->mmap_cache, one pointer per mm written on every miss (up to
 * 3.14); `task` is the per-thread vmacache (3.15-6.0, Davidlohr Bueso 2014); `none` is the maple
 * tree's plain walk (6.1 on).
 */
export type VmaCacheKind = 'mm' | 'task' | 'none';

export type Design = 'none' | 'dufour' | 'lespinasse' | 'per-vma-lock' | 'kamezawa';

export interface KernelConfig {
  /** Preset names, files and KEY=VALUE items as given, in order. */
  readonly sources: readonly string[];
  /** Every resolved setting, in key order, for --save and headers. */
  readonly settings: Readonly<Record<string, string>>;
  /** The speculative design: 'none' is the classic mmap-lock path only. */
  readonly design: Design;
  /** dufour: which posting (v9 aborts on a failed PTE trylock, v11 loops; srcu frees VMAs via SRCU). */
  readonly spfVersion: 'v9' | 'v11' | 'srcu';
  /** kamezawa: whether vma_put() wakes the unmapper when the count drops to 0 (the review fix). */
  readonly kamezawaFixed: boolean;
  /** Peter Xu 2022: shared-file write faults complete instead of retrying. */
  readonly faultCompleted: boolean;
  readonly thp: 'always' | 'madvise' | 'never';
  /** CONFIG_RWSEM_SPIN_ON_OWNER: rwsem writers spin while a running writer owns the lock (3.16+). */
  readonly rwsemSpinOnOwner: boolean;
  /** x86: whether TLB-flush IPIs also go to idle CPUs still lazily on the mm (before 4.19). */
  readonly lazyTlb: 'ipi' | 'skip';
  /** Which cache find_vma() consults first under the mmap lock: the kernel era's. */
  readonly vmacache: VmaCacheKind;
  /** CONFIG_SPECULATIVE_PAGE_FAULT_STATS / CONFIG_PER_VMA_LOCK_STATS: the debug vmstat breakdown. */
  readonly spfStats: boolean;
  readonly vmaLockStats: boolean;
  readonly tlbStats: boolean;
  /** CONFIG_TRANSPARENT_HUGEPAGE=y and thp != never: khugepaged runs with these settings. */
  readonly khugepaged: { readonly sleepMs: number; readonly pages: number } | null;
}

interface KeyDef {
  /** Allowed values; empty for a whole number. */
  readonly values: readonly string[];
  readonly def: string;
  readonly doc: string;
}

const YN = ['y', 'n'];

/** Every key a config may set, with its allowed values and default. */
export const CONFIG_KEYS: Readonly<Record<string, KeyDef>> = {
  CONFIG_SPECULATIVE_PAGE_FAULT: { values: YN, def: 'n', doc: 'speculative page faults (Dufour 2018, Lespinasse 2021 series)' },
  CONFIG_SPECULATIVE_PAGE_FAULT_STATS: { values: YN, def: 'n', doc: 'Lespinasse: SPF_ABORT_* / SPF_ATTEMPT_* vmstat breakdown' },
  CONFIG_PER_VMA_LOCK: { values: YN, def: 'n', doc: 'per-VMA locks (6.4)' },
  CONFIG_PER_VMA_LOCK_STATS: { values: YN, def: 'n', doc: 'per-VMA locks: vma_lock_* vmstat counters' },
  CONFIG_TRANSPARENT_HUGEPAGE: { values: YN, def: 'y', doc: 'transparent huge pages' },
  CONFIG_RWSEM_SPIN_ON_OWNER: { values: YN, def: 'y', doc: 'rwsem writers spin on a running writer owner instead of sleeping (3.16+)' },
  CONFIG_DEBUG_TLBFLUSH: { values: YN, def: 'y', doc: 'nr_tlb_* vmstat counters (spfperf turns it on by default)' },
  design: { values: ['none', 'dufour', 'lespinasse', 'per-vma-lock', 'kamezawa'], def: 'none', doc: 'which lock-free fault design runs' },
  spf_version: { values: ['v9', 'v11', 'srcu'], def: 'v11', doc: 'dufour: posting modelled' },
  kamezawa_fixed: { values: YN, def: 'n', doc: 'kamezawa: wake the unmapper when the count drops to 0' },
  fault_completed: { values: YN, def: 'n', doc: 'VM_FAULT_COMPLETED for shared file write faults (Peter Xu 2022)' },
  thp: { values: ['always', 'madvise', 'never'], def: 'madvise', doc: 'THP policy (/sys/kernel/mm/transparent_hugepage/enabled)' },
  vmacache: { values: ['mm', 'task', 'none'], def: 'none', doc: "find_vma's cache: mm->mmap_cache (<= 3.14), per-thread vmacache (3.15-6.0), none (6.1+)" },
  lazy_tlb: { values: ['ipi', 'skip'], def: 'skip', doc: 'x86: flush IPIs to idle CPUs in lazy TLB mode on the mm (ipi: before 4.19) or not (skip: 4.19+, Rik van Riel)' },
  khugepaged_sleep_ms: { values: [], def: '10000', doc: 'khugepaged/scan_sleep_millisecs' },
  khugepaged_pages: { values: [], def: '4096', doc: 'khugepaged/pages_to_scan' },
};

interface Preset {
  readonly description: string;
  readonly aliases?: readonly string[];
  readonly settings: Readonly<Record<string, string>>;
}

const SPF_ON = { CONFIG_SPECULATIVE_PAGE_FAULT: 'y', CONFIG_PER_VMA_LOCK: 'n' };

export const PRESETS: Readonly<Record<string, Preset>> = {
  base: {
    description: 'classic page faults only: every fault takes the mmap lock for reading',
    settings: { CONFIG_SPECULATIVE_PAGE_FAULT: 'n', CONFIG_PER_VMA_LOCK: 'n', design: 'none' },
  },
  'dufour-v9': {
    description: 'Dufour SPF v9 (2018-03): mm_rb rwlock, VMA refcount, per-VMA seqcount; aborts on a busy PTE lock',
    settings: { ...SPF_ON, design: 'dufour', spf_version: 'v9' },
  },
  'dufour-v11': {
    description: 'Dufour SPF v11 (2018-05): as v9, but loops on a busy PTE lock instead of aborting',
    aliases: ['spf'],
    settings: { ...SPF_ON, design: 'dufour', spf_version: 'v11' },
  },
  'dufour-srcu': {
    description: 'Dufour SPF before v6 (2017): VMAs freed through SRCU instead of the rwlock + refcount',
    settings: { ...SPF_ON, design: 'dufour', spf_version: 'srcu' },
  },
  lespinasse: {
    description: 'Lespinasse SPF (2021-22): per-mm sequence count, VMA copy under RCU, validation at PTE-lock time',
    settings: { ...SPF_ON, design: 'lespinasse', CONFIG_SPECULATIVE_PAGE_FAULT_STATS: 'y' },
  },
  'per-vma-lock': {
    description: 'per-VMA locks as merged in 6.4: lock_vma_under_rcu, anonymous VMAs only',
    settings: { CONFIG_SPECULATIVE_PAGE_FAULT: 'n', CONFIG_PER_VMA_LOCK: 'y', CONFIG_PER_VMA_LOCK_STATS: 'y', design: 'per-vma-lock' },
  },
  kamezawa: {
    description: 'KAMEZAWA Hiroyuki 2009 RFC: RCU VMA lookup, VMA refcount and wait queue (with the lost wake-up)',
    settings: { ...SPF_ON, design: 'kamezawa', kamezawa_fixed: 'n' },
  },
  'kamezawa-fixed': {
    description: 'the 2009 RFC with the lost wake-up fixed: vma_put() wakes the unmapper at 0',
    settings: { ...SPF_ON, design: 'kamezawa', kamezawa_fixed: 'y' },
  },
};

const aliasOf = new Map<string, string>();
for (const [name, p] of Object.entries(PRESETS)) for (const a of p.aliases ?? []) aliasOf.set(a, name);

export function listConfigPresets(): { name: string; aliases: readonly string[]; description: string }[] {
  return Object.entries(PRESETS).map(([name, p]) => ({ name, aliases: p.aliases ?? [], description: p.description }));
}

function presetNames(): string {
  return [...Object.keys(PRESETS), ...aliasOf.keys()].join(', ');
}

/** Apply one KEY=VALUE (or `# KEY is not set`) to `settings`; `where` names it in errors. */
function applySetting(settings: Record<string, string>, key: string, value: string, where: string): void {
  const def = CONFIG_KEYS[key];
  if (def === undefined) {
    throw new ConfigError(`${where}: unknown config key '${key}' (known: ${Object.keys(CONFIG_KEYS).join(', ')})`);
  }
  if (def.values.length === 0 ? !/^\d+$/.test(value) : !def.values.includes(value)) {
    if (def.values.length === 0) throw new ConfigError(`${where}: '${value}' is not a value of ${key} (a whole number)`);
    throw new ConfigError(`${where}: '${value}' is not a value of ${key} (one of: ${def.values.join(', ')})`);
  }
  settings[key] = value;
}

function applyFile(settings: Record<string, string>, path: string): void {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new ConfigError(`--config '${path}': cannot read: ${(e as Error).message}`);
  }
  text.split(/\r?\n/).forEach((raw, i) => {
    const line = raw.trim();
    const where = `${path}:${i + 1}:1`;
    const unset = /^#\s*(CONFIG_\w+) is not set$/.exec(line);
    if (unset !== null) {
      applySetting(settings, unset[1], 'n', where);
      return;
    }
    if (line === '' || line.startsWith('#')) return;
    const eq = line.indexOf('=');
    if (eq <= 0) throw new ConfigError(`${where}: expected KEY=VALUE, found '${line}'`);
    applySetting(settings, line.slice(0, eq).trim(), line.slice(eq + 1).trim().replace(/^"(.*)"$/, '$1'), where);
  });
}

/** Resolve --config arguments (presets, files, KEY=VALUE; later wins) into a checked config. */
export function resolveConfig(items: readonly string[]): KernelConfig {
  const settings: Record<string, string> = {};
  for (const [k, d] of Object.entries(CONFIG_KEYS)) settings[k] = d.def;
  for (const item of items) {
    const preset = PRESETS[item] ?? PRESETS[aliasOf.get(item) ?? ''];
    if (preset !== undefined) {
      Object.assign(settings, preset.settings);
    } else if (/^[A-Za-z_]\w*=/.test(item)) {
      const eq = item.indexOf('=');
      applySetting(settings, item.slice(0, eq), item.slice(eq + 1), `--config '${item}'`);
    } else if (existsSync(item)) {
      applyFile(settings, item);
    } else {
      throw new ConfigError(`--config '${item}': not a preset, a file, or KEY=VALUE (presets: ${presetNames()})`);
    }
  }
  const design = settings.design as Design;
  const needs: Partial<Record<Design, string>> = {
    dufour: 'CONFIG_SPECULATIVE_PAGE_FAULT',
    lespinasse: 'CONFIG_SPECULATIVE_PAGE_FAULT',
    kamezawa: 'CONFIG_SPECULATIVE_PAGE_FAULT',
    'per-vma-lock': 'CONFIG_PER_VMA_LOCK',
  };
  const need = needs[design];
  if (need !== undefined && settings[need] !== 'y') {
    throw new ConfigError(`--config: design=${design} needs ${need}=y`);
  }
  if (design === 'none' && (settings.CONFIG_SPECULATIVE_PAGE_FAULT === 'y' || settings.CONFIG_PER_VMA_LOCK === 'y')) {
    throw new ConfigError(`--config: ${settings.CONFIG_PER_VMA_LOCK === 'y' ? 'CONFIG_PER_VMA_LOCK' : 'CONFIG_SPECULATIVE_PAGE_FAULT'}=y needs a design (design=dufour|lespinasse|per-vma-lock|kamezawa)`);
  }
  return {
    sources: [...items],
    settings,
    design,
    spfVersion: settings.spf_version as KernelConfig['spfVersion'],
    kamezawaFixed: settings.kamezawa_fixed === 'y',
    faultCompleted: settings.fault_completed === 'y',
    thp: settings.CONFIG_TRANSPARENT_HUGEPAGE === 'y' ? (settings.thp as KernelConfig['thp']) : 'never',
    vmacache: settings.vmacache as VmaCacheKind,
    rwsemSpinOnOwner: settings.CONFIG_RWSEM_SPIN_ON_OWNER === 'y',
    lazyTlb: settings.lazy_tlb as 'ipi' | 'skip',
    spfStats: settings.CONFIG_SPECULATIVE_PAGE_FAULT_STATS === 'y',
    vmaLockStats: settings.CONFIG_PER_VMA_LOCK_STATS === 'y',
    tlbStats: settings.CONFIG_DEBUG_TLBFLUSH === 'y',
    khugepaged:
      settings.CONFIG_TRANSPARENT_HUGEPAGE === 'y' && settings.thp !== 'never'
        ? { sleepMs: Number(settings.khugepaged_sleep_ms), pages: Number(settings.khugepaged_pages) }
        : null,
  };
}

/** The short name of a config for tables: the last preset given, else 'base' or 'custom'. */
export function configLabel(c: KernelConfig): string {
  for (let i = c.sources.length - 1; i >= 0; i--) {
    const s = c.sources[i];
    if (PRESETS[s] !== undefined) return s;
    const a = aliasOf.get(s);
    if (a !== undefined) return a;
  }
  return c.design === 'none' ? 'base' : 'custom';
}
