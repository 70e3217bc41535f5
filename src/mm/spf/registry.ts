import type { ArchCosts } from '../../config/arch.js';
import type { Code, Engine, StepFrame } from '../../engine/engine.js';
import type { RwsemEra } from '../../engine/rwsem-era.js';
import type { MmStruct, Thread } from '../kernel.js';
import type { Vma } from '../vma.js';
import type { SpfSite } from './trace.js';

/**
 * The design registry's types. Each file in src/mm/spf that exports `design` (a DesignDescriptor)
 * is one page-fault design; scripts/gen-designs.mjs lists those files in designs.gen.ts at build
 * time, and index.ts orders them by `since`. Everything else that knows about designs (kernel
 * configs, `list --configs`, /proc/vmstat lines, docs/designs.md, the tests) reads the
 * descriptors: adding a design is one new file here plus its tests.
 */

/** A setting with a fixed set of values (a Kconfig symbol or one of spfperf's keys). */
export interface SettingDef {
  /** Allowed values; empty for a whole number. */
  readonly values: readonly string[];
  readonly def: string;
  readonly doc: string;
}

/** A named kernel config (`--config NAME`): settings applied over the defaults. */
export interface PresetDef {
  readonly description: string;
  readonly aliases?: readonly string[];
  readonly settings: Readonly<Record<string, string>>;
}

/** /proc/vmstat lines a kernel with this design has; `when` names a Kconfig symbol that must be y. */
export interface VmstatGroup {
  readonly names: readonly string[];
  readonly when?: string;
}

/** What a design's factory gets: the run's engine, the design's own settings, the arch's costs. */
export interface DesignEnv {
  readonly eng: Engine;
  /** The design's settings (its `settings` keys), as the config resolved them. */
  readonly settings: Readonly<Record<string, string>>;
  readonly costs: ArchCosts;
  /** rw_semaphore's behaviour in the kernel era, for a design's own rw_semaphores (none: 2.6.33's). */
  readonly rwsem?: RwsemEra;
}

/**
 * A page-fault design's hooks: how a fault may be handled without the mmap lock, and what VMA
 * writers must do so that such faults stay safe. The classic code (fault.ts, mmap.ts) calls them
 * at the points where the kernel patches put their code and never branches on design names. Every
 * hook is optional: a missing one behaves as the classic kernel does (completeHooks).
 *
 * All hooks that take a VMA are called with the mmap lock held for writing, unless they say
 * otherwise.
 */
export interface DesignHooks {
  /**
   * The design's attempt before lock_mm_and_find_vma() takes the mmap lock:
   * handle_speculative_fault() in the SPF series, the lock_vma_under_rcu() block of 6.4's
   * do_user_addr_fault(). VM_FAULT_RETRY means "fall back to the mmap-lock path". Absent: every
   * fault takes the mmap lock.
   */
  faultWithoutMmapLock?(th: Thread, addr: number, flags: number): Code<number>;
  /**
   * The same attempt as a step function (StepFrame, engine/task.ts), taken instead of
   * faultWithoutMmapLock() where the engine runs calls (Engine.calls): for a design whose attempt
   * syncs many times a fault. faultWithoutMmapLock() is then `yield* runFrame(t, faultFrame(...))`.
   */
  faultFrame?(th: Thread, addr: number, flags: number): StepFrame;
  /**
   * What a fault completed by that attempt held instead of the mmap lock: absent for a
   * speculative attempt (no lock across the fault; validated at the PTE lock), 'vma' for the
   * VMA's own lock (per-VMA locks). Recorded traces name it in a fault sample's `path`.
   */
  readonly attemptLock?: 'vma';
  /**
   * true when the design lets a lockless fault commit through a VMA changed under it (it keeps
   * the VMA from being freed, not from being changed: Kamezawa's RFC). The `fault-vma-current`
   * invariant (docs/invariants.md) is not checked for it.
   */
  readonly staleVmaCommit?: boolean;
  /** mmap_write_lock() just succeeded. */
  mmapWriteLocked?(th: Thread, mm: MmStruct): Code;
  /** mmap_write_unlock() is about to release the lock. */
  mmapWriteUnlocking?(th: Thread, mm: MmStruct): Code;
  /** A writer is about to change vma's bounds, flags or anon_vma, or unmap its pages. */
  vmaWriteBegin?(th: Thread, vma: Vma): Code;
  /**
   * dup_mmap() is about to copy vma's page tables into a child (the parent's mmap lock held for
   * writing): what keeps the design's lockless faults off vma until the parent's TLB is flushed
   * at the end of dup_mmap(), if anything.
   */
  dupMmapVma?(th: Thread, vma: Vma): Code;
  /** ... and is done with it. */
  vmaWriteEnd?(th: Thread, vma: Vma): Code;
  /**
   * A VMA change made under the mmap *read* lock and page_table_lock (__anon_vma_prepare()
   * attaching an anon_vma, expand_downwards() growing a stack): run `attach` as the design
   * requires.
   */
  anonVmaAttach?(th: Thread, vma: Vma, attach: () => void): Code;
  /** Run `change` (a VMA tree insert or erase) as the design requires (e.g. under mm_rb_lock). */
  treeModify?(th: Thread, mm: MmStruct, change: () => void): Code;
  /** Pages of vma are about to be zapped without the VMA changing (MADV_DONTNEED). */
  unmapBegin?(th: Thread, vma: Vma): Code;
  unmapEnd?(th: Thread, vma: Vma): Code;
  /** khugepaged (th, a kernel thread) is about to collapse a range of vma in mm (mm's lock held for writing). */
  collapseBegin?(th: Thread, vma: Vma, mm: MmStruct): Code;
  /** vma left the tree for good and is about to be torn down (its pages zapped, then freed). */
  vmaDetached?(th: Thread, vma: Vma): Code;
  /** remove_vma(): the last reference of the mmap-lock side is dropped; free it as the design does. */
  vmaFree?(th: Thread, vma: Vma): Code;
}

/** The hooks as the mm model calls them: every one present but the optional lockless attempt (and what it holds). */
export type SpfStrategy = Required<Omit<DesignHooks, 'faultWithoutMmapLock' | 'faultFrame' | 'attemptLock' | 'staleVmaCommit'>> & Pick<DesignHooks, 'faultWithoutMmapLock' | 'faultFrame' | 'attemptLock' | 'staleVmaCommit'>;

/** One page-fault design, as the registry knows it. */
export interface DesignDescriptor {
  /** The value of the `design` config key. */
  readonly name: string;
  /** One line for tables. */
  readonly title: string;
  /** When it was posted or merged (YYYY-MM): the registry's order. */
  readonly since: string;
  /** Where the design is described (the postings, kernel-facts.md). */
  readonly source: string;
  /** What runs without the mmap lock, for docs/designs.md (Markdown, one paragraph). */
  readonly lockless: string;
  /**
   * The mainline release the design was merged in, and how a kernel that has it is described
   * (`list --machines`' host row); absent for designs that stayed postings.
   */
  readonly mainline?: { readonly release: string; readonly label: string };
  /** The Kconfig symbol that must be y for this design (and is n for every other). */
  readonly needs?: string;
  /** Kconfig symbols this design introduces (each declared by one design only). */
  readonly kconfig?: Readonly<Record<string, SettingDef>>;
  /** spfperf's own keys that only this design reads (reset when the design changes). */
  readonly settings?: Readonly<Record<string, SettingDef>>;
  readonly presets: Readonly<Record<string, PresetDef>>;
  readonly vmstat?: readonly VmstatGroup[];
  /** Tracepoints and software events the design defines beyond the classic kernel's. */
  readonly events?: readonly string[];
  /** The abort sites its tracepoints report as `caller`. */
  readonly sites?: readonly SpfSite[];
  /**
   * spfperf lock contention's callers: the design's model functions (`Class.method`) that wait
   * for a lock and are named otherwise than the kernel function that does, with that name, or
   * null for one the kernel inlines (its caller is the caller). Others are named in snake_case.
   */
  readonly lockCallers?: Readonly<Record<string, string | null>>;
  /** Build the design's hooks for one run. */
  create(env: DesignEnv): DesignHooks;
}

/** A typed per-VMA slot: the design's fields, created on first use (INIT_VMA and friends). */
export class VmaState<S> {
  constructor(private readonly init: (vma: Vma) => S) {}

  of(vma: Vma): S {
    return (vma.designState ??= this.init(vma)) as S;
  }
}

/* eslint-disable require-yield */
/** The classic kernel's behaviour at each hook: nothing to do, changes made directly. */
const CLASSIC: SpfStrategy = {
  *mmapWriteLocked() {},
  *mmapWriteUnlocking() {},
  *vmaWriteBegin() {},
  *vmaWriteEnd() {},
  *dupMmapVma() {},
  *anonVmaAttach(_th, _vma, attach) {
    attach();
  },
  *treeModify(_th, _mm, change) {
    change();
  },
  *unmapBegin() {},
  *unmapEnd() {},
  *collapseBegin() {},
  *vmaDetached() {},
  // remove_vma() -> vm_area_free(): freed at once (the invariant checks poison it).
  *vmaFree(th, vma) {
    th.k.dbg?.vmaFreed(vma, th.t.clock);
  },
};
/* eslint-enable require-yield */

const HOOKS = Object.keys(CLASSIC) as (keyof typeof CLASSIC)[];

/** A design's hooks with the classic behaviour wherever it defines none. */
export function completeHooks(h: DesignHooks): SpfStrategy {
  const s = h as Record<string, unknown>;
  for (const name of HOOKS) if (typeof s[name] !== 'function') s[name] = CLASSIC[name];
  return h as SpfStrategy;
}
