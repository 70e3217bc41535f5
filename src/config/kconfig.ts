import { existsSync, readFileSync } from 'node:fs';
import { ConfigError } from '../errors.js';
import { DESIGNS, designNamed } from '../mm/spf/index.js';
import type { DesignDescriptor, PresetDef, SettingDef } from '../mm/spf/registry.js';
import { ERA_CHANGES, ERA_KEYS, eraSettings, kernelRelease } from './era.js';
import type { RwsemEra } from '../engine/rwsem-era.js';

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
 *
 * `kernel=4.17` names the kernel release a run stands for: like a preset it sets several keys at
 * once (every era key of era.ts, to what that release did), and later items still win over it.
 */

/**
 * find_vma()'s cache: `mm` is mm->mmap_cache, one pointer per mm written on every miss (up to
 * 3.14); `task` is the per-thread vmacache (3.15-6.0, Davidlohr Bueso 2014); `none` is the maple
 * tree's plain walk (6.1 on).
 */
export type VmaCacheKind = 'mm' | 'task' | 'none';

/** Anonymous mappings PMD-aligned with THP: none (before 6.7), any of at least 2 MiB (6.7-6.11), multiples of 2 MiB (6.12+). */
export type ThpAnonAlign = 'none' | 'any' | 'pmd';

export interface KernelConfig {
  /** Preset names, files and KEY=VALUE items as given, in order. */
  readonly sources: readonly string[];
  /**
   * Every resolved setting, in key order, for --save and headers: `kernel`, the Kconfig symbols,
   * `design`, the active design's own settings, then spfperf's other keys.
   */
  readonly settings: Readonly<Record<string, string>>;
  /** The page-fault design (a name in the design registry): 'none' is the classic mmap-lock path. */
  readonly design: string;
  /** The active design's own settings (its descriptor's `settings` keys), e.g. spf_version. */
  readonly designSettings: Readonly<Record<string, string>>;
  /** Peter Xu 2022: shared-file write faults complete instead of retrying. */
  readonly faultCompleted: boolean;
  readonly thp: 'always' | 'madvise' | 'never';
  /** CONFIG_RWSEM_SPIN_ON_OWNER: rwsem writers spin while a running writer owns the lock (3.16+). */
  readonly rwsemSpinOnOwner: boolean;
  /** rw_semaphore's behaviour in this kernel era (the rwsem_* keys and CONFIG_RWSEM_SPIN_ON_OWNER). */
  readonly rwsem: RwsemEra;
  /** spinlock_t: queued (qspinlock) or ticket (kconfig `spinlock`). */
  readonly spinlock: 'queued' | 'ticket';
  /** x86: whether TLB-flush IPIs also go to idle CPUs still lazily on the mm (before 4.19). */
  readonly lazyTlb: 'ipi' | 'skip';
  /** Which anonymous mappings get a PMD-aligned address with THP (kconfig `thp_anon_align`). */
  readonly thpAnonAlign: ThpAnonAlign;
  /** munmap() downgrades the mmap lock to read before zapping (4.20+, kconfig `munmap_downgrade`). */
  readonly munmapDowngrade: boolean;
  /** Per-VMA locks and a VMA without an anon_vma: give up (6.4-6.9) or trylock the mmap lock (6.10+). */
  readonly vmaLockAnonVma: 'inval' | 'trylock';
  /** Which cache find_vma() consults first under the mmap lock: the kernel era's. */
  readonly vmacache: VmaCacheKind;
  readonly tlbStats: boolean;
  /**
   * The /proc/vmstat lines the designs define (any design), and those this kernel has (the active
   * design's, with the Kconfig symbols they need): what the vmstat formatter asks.
   */
  readonly designVmstat: { readonly all: ReadonlySet<string>; readonly present: ReadonlySet<string> };
  /** CONFIG_TRANSPARENT_HUGEPAGE=y and thp != never: khugepaged runs with these settings. */
  readonly khugepaged: { readonly sleepMs: number; readonly pages: number } | null;
}

/** A config key: its values and default, and for a few keys more than a list of values. */
export interface ConfigKeyDef extends SettingDef {
  /**
   * Values outside `values` the key also takes: how they are written (for list --configs and the
   * docs) and the check of one.
   */
  readonly form?: { readonly text: string; readonly accepts: (value: string) => boolean; readonly what: string };
  /** Other keys this one sets when it is set (applied before anything later on the command line). */
  readonly sets?: (value: string) => Readonly<Record<string, string>>;
}

type KeyDef = ConfigKeyDef;

const YN = ['y', 'n'];

/** Keys of the kernel whatever the design: Kconfig symbols, then spfperf's own knobs. */
const KCONFIG_KEYS: Readonly<Record<string, KeyDef>> = {
  CONFIG_TRANSPARENT_HUGEPAGE: { values: YN, def: 'y', doc: 'transparent huge pages' },
  CONFIG_RWSEM_GENERIC_SPINLOCK: { values: YN, def: 'n', doc: 'rwsem: every operation under the spinlock sem->wait_lock (lib/rwsem-spinlock.c; x86-64 before 2.6.34) instead of an atomic count' },
  CONFIG_RWSEM_SPIN_ON_OWNER: { values: YN, def: 'y', doc: 'rwsem writers spin on a running writer owner instead of sleeping (3.16+)' },
  CONFIG_DEBUG_TLBFLUSH: { values: YN, def: 'y', doc: 'nr_tlb_* vmstat counters (spfperf turns it on by default)' },
};
/**
 * `kernel` comes first among the keys, so that settings written back out in key order (a saved
 * run's, as KEY=VALUE lines) apply the release before the era keys it sets, and give the same config.
 */
const KERNEL_KEY: Readonly<Record<string, KeyDef>> = {
  kernel: {
    values: ['none'],
    def: 'none',
    doc: `the kernel release the run stands for: sets ${ERA_KEYS.join(', ')} to what that release did (later items still win); none: the defaults`,
    form: { text: 'X.Y', accepts: (v) => kernelRelease(v) !== undefined, what: 'a kernel version: major.minor, with anything after it, as in 4.17, 2.6.33, 6.8.0-45-generic' },
    sets: (v) => (v === 'none' ? eraDefaults() : eraSettings(v)),
  },
};
const KNOB_KEYS: Readonly<Record<string, KeyDef>> = {
  fault_completed: { values: YN, def: 'n', doc: 'VM_FAULT_COMPLETED for shared file write faults (Peter Xu 2022, in 6.0)' },
  thp: { values: ['always', 'madvise', 'never'], def: 'madvise', doc: 'THP policy (/sys/kernel/mm/transparent_hugepage/enabled)' },
  vmacache: { values: ['mm', 'task', 'none'], def: 'none', doc: "find_vma's cache: mm->mmap_cache (<= 3.14), per-thread vmacache (3.15-6.0), none (6.1+)" },
  munmap_downgrade: { values: ['y', 'n'], def: 'y', doc: 'munmap() zaps the pages with the mmap lock downgraded to read (y: 4.20+, Yang Shi) or held for writing (n)' },
  vma_lock_anon_vma: {
    values: ['inval', 'trylock'],
    def: 'trylock',
    doc: 'per-VMA locks, an anonymous VMA without an anon_vma: lock_vma_under_rcu() gives up (inval: 6.4-6.9) or vmf_anon_prepare() trylocks the mmap lock to attach one (trylock: 6.10+, Matthew Wilcox)',
  },
  thp_anon_align: { values: ['none', 'any', 'pmd'], def: 'pmd', doc: 'THP: anonymous mappings get no PMD alignment (none: before 6.7), a PMD-aligned address when at least 2 MiB long (any: 6.7-6.11, Rik van Riel), or only when their length is a multiple of 2 MiB (pmd: 6.12+, Vlastimil Babka)' },
  lazy_tlb: { values: ['ipi', 'skip'], def: 'skip', doc: 'x86: flush IPIs to idle CPUs in lazy TLB mode on the mm (ipi: before 4.20) or not (skip: 4.20+, Rik van Riel)' },
  spinlock: { values: ['queued', 'ticket'], def: 'queued', doc: 'spinlock_t: queued, one line transfer per hand-off (x86 4.2+, arm64 4.19+), or ticket, every waiter re-reading the lock word at each hand-off (x86 before 4.2)' },
  rwsem_writer_steal: { values: YN, def: 'y', doc: 'rwsem: a woken writer takes the lock itself and a writer that comes first may take it (y: 3.9+) or the waker grants it (n)' },
  rwsem_reader_wake: { values: ['head', 'all'], def: 'all', doc: 'rwsem: a release wakes the readers at the head of the queue (head: before 5.3) or every queued reader up to 256 (all: 5.3+)' },
  rwsem_reader_optimistic: { values: ['none', 'spin', 'steal'], def: 'steal', doc: 'rwsem: a reader in the slow path queues (none: before 5.3), spins and joins (spin: 5.3-5.10), or takes a lock nobody holds (steal: 5.11+)' },
  rwsem_spin_on_readers: { values: YN, def: 'y', doc: 'rwsem: writers spin on a reader-owned lock for up to 25 us (y: 5.3+) or sleep (n)' },
  rwsem_handoff: { values: YN, def: 'y', doc: 'rwsem: a waiter that waited 4 ms sets the hand-off bit and no one steals the lock from it (y: 5.3+)' },
  khugepaged_sleep_ms: { values: [], def: '10000', doc: 'khugepaged/scan_sleep_millisecs' },
  khugepaged_pages: { values: [], def: '4096', doc: 'khugepaged/pages_to_scan' },
};

/** The era keys' defaults: what `kernel=none` sets them back to. */
function eraDefaults(): Record<string, string> {
  return Object.fromEntries(ERA_KEYS.map((k) => [k, CONFIG_KEYS[k].def]));
}

/** Which design owns each design-only key (its descriptor's `settings`). */
const settingOwner = new Map<string, DesignDescriptor>();
/** Kconfig symbols the designs introduce, in registry order. */
const designKconfig: Record<string, KeyDef> = {};
/** The symbols some design `needs` (y for that design, n for every other). */
const gates = new Set<string>();
for (const d of DESIGNS) {
  for (const [k, def] of Object.entries(d.kconfig ?? {})) {
    if (designKconfig[k] !== undefined) throw new Error(`design ${d.name}: ${k} is declared by another design already`);
    designKconfig[k] = def;
  }
  for (const k of Object.keys(d.settings ?? {})) {
    if (settingOwner.has(k)) throw new Error(`design ${d.name}: setting ${k} belongs to design ${settingOwner.get(k)!.name} already`);
    settingOwner.set(k, d);
  }
  if (d.needs !== undefined) gates.add(d.needs);
}
for (const g of gates) if (designKconfig[g] === undefined) throw new Error(`${g} is needed by a design but declared by none`);

/** Every /proc/vmstat line some design defines. */
const DESIGN_VMSTAT: ReadonlySet<string> = new Set(DESIGNS.flatMap((d) => (d.vmstat ?? []).flatMap((g) => g.names)));

const designKey: KeyDef = { values: DESIGNS.map((d) => d.name), def: 'none', doc: 'which lock-free fault design runs' };

/** Every key a config may set, with its allowed values and default, in the order settings list them. */
export const CONFIG_KEYS: Readonly<Record<string, KeyDef>> = {
  ...KERNEL_KEY,
  ...designKconfig,
  ...KCONFIG_KEYS,
  design: designKey,
  ...Object.fromEntries(DESIGNS.flatMap((d) => Object.entries(d.settings ?? {}))),
  ...KNOB_KEYS,
};

// Every era key is a key here, and every value the era table gives it is one of its values.
for (const c of ERA_CHANGES) {
  const def = CONFIG_KEYS[c.key];
  if (def === undefined) throw new Error(`era table: ${c.key} is not a config key`);
  for (const v of [c.before, c.after]) if (!def.values.includes(v)) throw new Error(`era table: '${v}' is not a value of ${c.key}`);
}

interface Preset extends PresetDef {
  /** The design it selects. */
  readonly design: DesignDescriptor;
}

/** Every preset of every design, in registry order. */
export const PRESETS: Readonly<Record<string, Preset>> = Object.fromEntries(
  DESIGNS.flatMap((d) => Object.entries(d.presets).map(([name, p]) => [name, { ...p, design: d }] as const)),
);

const aliasOf = new Map<string, string>();
for (const [name, p] of Object.entries(PRESETS)) for (const a of p.aliases ?? []) aliasOf.set(a, name);

export function listConfigPresets(): { name: string; aliases: readonly string[]; description: string; design: string }[] {
  return Object.entries(PRESETS).map(([name, p]) => ({ name, aliases: p.aliases ?? [], description: p.description, design: p.design.name }));
}

function presetNames(): string {
  return [...Object.keys(PRESETS), ...aliasOf.keys()].join(', ');
}

/** `rec[key]` for a key a user typed: only the record's own entries (not toString, __proto__...). */
function own<T>(rec: Readonly<Record<string, T>>, key: string): T | undefined {
  return Object.hasOwn(rec, key) ? rec[key] : undefined;
}

/** Apply one KEY=VALUE (or `# KEY is not set`) to `settings`; `where` names it in errors. */
function applySetting(settings: Record<string, string>, key: string, value: string, where: string): void {
  const def = own(CONFIG_KEYS, key);
  if (def === undefined) {
    throw new ConfigError(`${where}: unknown config key '${key}' (known: ${Object.keys(CONFIG_KEYS).join(', ')})`);
  }
  if (def.form !== undefined) {
    if (!def.values.includes(value) && !def.form.accepts(value)) {
      throw new ConfigError(`${where}: '${value}' is not a value of ${key} (${[...def.values, def.form.what].join(', or ')})`);
    }
  } else if (def.values.length === 0 ? !/^\d+$/.test(value) : !def.values.includes(value)) {
    if (def.values.length === 0) throw new ConfigError(`${where}: '${value}' is not a value of ${key} (a whole number)`);
    throw new ConfigError(`${where}: '${value}' is not a value of ${key} (one of: ${def.values.join(', ')})`);
  }
  settings[key] = value;
  if (def.sets !== undefined) Object.assign(settings, def.sets(value));
}

function applyFile(settings: Record<string, string>, path: string, setBy: Map<string, string>): void {
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
    const key = line.slice(0, eq).trim();
    applySetting(settings, key, line.slice(eq + 1).trim().replace(/^"(.*)"$/, '$1'), where);
    if (settingOwner.has(key)) setBy.set(key, where);
  });
}

/** Set every design-introduced symbol and design-only setting back to its default. */
function resetDesignKeys(settings: Record<string, string>): void {
  for (const [k, d] of Object.entries(designKconfig)) settings[k] = d.def;
  for (const k of settingOwner.keys()) settings[k] = CONFIG_KEYS[k].def;
}

/** When the design changes, the other designs' own settings go back to their defaults. */
function resetOtherDesigns(settings: Record<string, string>): void {
  for (const [k, d] of settingOwner) if (d.name !== settings.design) settings[k] = CONFIG_KEYS[k].def;
}

/** Resolve --config arguments (presets, files, KEY=VALUE; later wins) into a checked config. */
export function resolveConfig(items: readonly string[]): KernelConfig {
  const settings: Record<string, string> = {};
  for (const [k, d] of Object.entries(CONFIG_KEYS)) settings[k] = d.def;
  /** Where each design-only setting was last set explicitly, for the error below. */
  const setBy = new Map<string, string>();
  for (const item of items) {
    const before = settings.design;
    const preset = own(PRESETS, item) ?? own(PRESETS, aliasOf.get(item) ?? '');
    if (preset !== undefined) {
      // A preset is a whole design choice: its design, its symbols, its settings.
      resetDesignKeys(settings);
      settings.design = preset.design.name;
      Object.assign(settings, preset.settings);
      setBy.clear();
    } else if (/^[A-Za-z_]\w*=/.test(item)) {
      const eq = item.indexOf('=');
      const key = item.slice(0, eq);
      applySetting(settings, key, item.slice(eq + 1), `--config '${item}'`);
      if (settingOwner.has(key)) setBy.set(key, `--config '${item}'`);
    } else if (existsSync(item)) {
      applyFile(settings, item, setBy);
    } else {
      throw new ConfigError(`--config '${item}': not a preset, a file, or KEY=VALUE (presets: ${presetNames()})`);
    }
    if (settings.design !== before) resetOtherDesigns(settings);
  }
  const design = designNamed(settings.design)!;
  for (const [key, where] of setBy) {
    const owner = settingOwner.get(key)!;
    if (owner !== design) throw new ConfigError(`${where}: ${key} is a setting of design=${owner.name}, and the design is ${design.name}`);
  }
  if (design.needs !== undefined && settings[design.needs] !== 'y') {
    throw new ConfigError(`--config: design=${design.name} needs ${design.needs}=y`);
  }
  for (const g of gates) {
    if (settings[g] === 'y' && design.needs !== g) {
      const who = DESIGNS.filter((d) => d.needs === g).map((d) => d.name);
      throw new ConfigError(`--config: ${g}=y needs a design that uses it (design=${who.join('|')})`);
    }
  }
  // The settings of the kernel as built: other designs' own keys are not part of it.
  const resolved: Record<string, string> = {};
  const designSettings: Record<string, string> = {};
  for (const k of Object.keys(CONFIG_KEYS)) {
    const owner = settingOwner.get(k);
    if (owner !== undefined && owner !== design) continue;
    resolved[k] = settings[k];
    if (owner !== undefined) designSettings[k] = settings[k];
  }
  const present = new Set<string>();
  for (const g of design.vmstat ?? []) {
    if (g.when === undefined || settings[g.when] === 'y') for (const n of g.names) present.add(n);
  }
  return {
    sources: [...items],
    settings: resolved,
    design: design.name,
    designSettings,
    faultCompleted: settings.fault_completed === 'y',
    thp: settings.CONFIG_TRANSPARENT_HUGEPAGE === 'y' ? (settings.thp as KernelConfig['thp']) : 'never',
    vmacache: settings.vmacache as VmaCacheKind,
    rwsemSpinOnOwner: settings.CONFIG_RWSEM_SPIN_ON_OWNER === 'y',
    spinlock: settings.spinlock as KernelConfig['spinlock'],
    rwsem: {
      genericSpinlock: settings.CONFIG_RWSEM_GENERIC_SPINLOCK === 'y',
      spinOnOwner: settings.CONFIG_RWSEM_SPIN_ON_OWNER === 'y',
      writerSteal: settings.rwsem_writer_steal === 'y',
      readerWake: settings.rwsem_reader_wake as RwsemEra['readerWake'],
      readerOpt: settings.rwsem_reader_optimistic as RwsemEra['readerOpt'],
      spinOnReaders: settings.rwsem_spin_on_readers === 'y',
      handoff: settings.rwsem_handoff === 'y',
    },
    lazyTlb: settings.lazy_tlb as 'ipi' | 'skip',
    thpAnonAlign: settings.thp_anon_align as ThpAnonAlign,
    munmapDowngrade: settings.munmap_downgrade === 'y',
    vmaLockAnonVma: settings.vma_lock_anon_vma as 'inval' | 'trylock',
    tlbStats: settings.CONFIG_DEBUG_TLBFLUSH === 'y',
    designVmstat: { all: DESIGN_VMSTAT, present },
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
    if (own(PRESETS, s) !== undefined) return s;
    const a = aliasOf.get(s);
    if (a !== undefined) return a;
  }
  const d = designNamed(c.design);
  const first = d === undefined ? undefined : Object.keys(d.presets)[0];
  return d !== undefined && d.needs === undefined && first !== undefined ? first : 'custom';
}
