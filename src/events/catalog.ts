import { UsageError } from '../errors.js';

/**
 * Every event spfperf knows: perf software events, tracepoints and /proc/vmstat counters. The
 * model bumps them by numeric id (fast); names, aliases and fields live here for `list`, for
 * parsing -e, and for the formatters.
 */

export type EventKind = 'sw' | 'tp' | 'vmstat';

export interface EventDef {
  readonly id: number;
  readonly name: string;
  readonly aliases: readonly string[];
  readonly kind: EventKind;
  /** For software events: perf's unit column ('' or 'msec'). */
  readonly unit: string;
  /** Tracepoint fields, in record order. */
  readonly fields: readonly string[];
  /** perf-script style format of a tracepoint's fields. */
  readonly format?: string;
  readonly desc: string;
  /**
   * Which of perf's :u/:k modifiers count it, as the kernel decides (perf_exclude_event() and
   * perf_tp_event_match(), kernel/events/core.c, 6.1): 'user' for the faults (the regs of a fault
   * the model takes are always user-mode: it models no kernel-mode fault), 'kernel' for what is
   * counted with the kernel's own regs (context switches, migrations, every tracepoint: perf
   * fetches the caller's regs), 'time' for task-clock (counted by time, never excluded).
   */
  readonly mode: 'user' | 'kernel' | 'time';
  /**
   * The address-space calls' tracepoints (syscalls:*, sched:*): counted and recorded when asked
   * for, but not in a saved run's or a trace summary's `counters` (those keep the model's events).
   */
  readonly callEvent?: boolean;
}

let nextId = 0;
const defs: EventDef[] = [];
function def(kind: EventKind, name: string, desc: string, o: Partial<Pick<EventDef, 'aliases' | 'unit' | 'fields' | 'format' | 'mode' | 'callEvent'>> = {}): number {
  const id = nextId++;
  defs.push({ id, name, kind, desc, aliases: o.aliases ?? [], unit: o.unit ?? '', fields: o.fields ?? [], format: o.format, mode: o.mode ?? (kind === 'sw' ? 'user' : 'kernel'), ...(o.callEvent ? { callEvent: true } : {}) });
  return id;
}

const SPF_FIELDS = ['caller', 'vm_start', 'vm_end', 'address'];
const SPF_FORMAT = 'ip:%lx vma:%lx-%lx address:%lx';
const EXC_FIELDS = ['address', 'ip', 'error_code'];
const EXC_FORMAT = 'address=%ps ip=%ps error_code=0x%lx';

/** Event ids, named as the kernel names the counter or event. */
export const EV = {
  // perf software events (include/uapi/linux/perf_event.h enum perf_sw_ids)
  TASK_CLOCK: def('sw', 'task-clock', 'CPU time of the workload\'s tasks (user + sys)', { unit: 'msec', mode: 'time' }),
  // Counted as task-clock is (for a workload's tasks perf counts both the same); record samples each CPU by it.
  CPU_CLOCK: def('sw', 'cpu-clock', 'CPU time, from a timer per CPU (record -e cpu-clock samples every CPU by it)', { unit: 'msec', mode: 'time' }),
  PAGE_FAULTS: def('sw', 'page-faults', 'page faults taken (once per exception)', { aliases: ['faults'] }),
  CONTEXT_SWITCHES: def('sw', 'context-switches', 'context switches of the workload\'s tasks', { aliases: ['cs'], mode: 'kernel' }),
  CPU_MIGRATIONS: def('sw', 'cpu-migrations', 'times a task resumed on another CPU', { aliases: ['migrations'], mode: 'kernel' }),
  MINOR_FAULTS: def('sw', 'minor-faults', 'completed faults that needed no I/O'),
  MAJOR_FAULTS: def('sw', 'major-faults', 'completed faults that needed I/O (or retried)'),
  SPF: def('sw', 'speculative-faults', 'faults completed speculatively (PERF_COUNT_SW_SPF, SPF series)', { aliases: ['spf'] }),
  // tracepoints
  PAGE_FAULT_USER: def('tp', 'exceptions:page_fault_user', 'x86 page fault taken in user mode', { fields: EXC_FIELDS, format: EXC_FORMAT }),
  PAGE_FAULT_KERNEL: def('tp', 'exceptions:page_fault_kernel', 'x86 page fault taken in kernel mode', { fields: EXC_FIELDS, format: EXC_FORMAT }),
  SPF_VMA_CHANGED: def('tp', 'pagefault:spf_vma_changed', 'speculative fault aborted: VMA changed behind our back', { fields: SPF_FIELDS, format: SPF_FORMAT }),
  SPF_VMA_NOANON: def('tp', 'pagefault:spf_vma_noanon', 'speculative fault aborted: anon_vma not yet set (defined, never fired)', { fields: SPF_FIELDS, format: SPF_FORMAT }),
  SPF_VMA_NOTSUP: def('tp', 'pagefault:spf_vma_notsup', 'speculative fault aborted: VMA type not supported', { fields: SPF_FIELDS, format: SPF_FORMAT }),
  SPF_VMA_ACCESS: def('tp', 'pagefault:spf_vma_access', 'speculative fault: access rights not respected (SIGSEGV)', { fields: SPF_FIELDS, format: SPF_FORMAT }),
  SPF_PMD_CHANGED: def('tp', 'pagefault:spf_pmd_changed', 'speculative fault aborted: upper PMD changed', { fields: SPF_FIELDS, format: SPF_FORMAT }),
  SPF_PTE_LOCK: def('tp', 'pagefault:spf_pte_lock', 'speculative fault aborted: PTE lock held by another thread (v9/v10)', { fields: SPF_FIELDS, format: SPF_FORMAT }),
  // /proc/vmstat (mm/vmstat.c vmstat_text)
  PGFAULT: def('vmstat', 'pgfault', 'faults entering handle_mm_fault'),
  PGMAJFAULT: def('vmstat', 'pgmajfault', 'faults that needed I/O'),
  PGALLOC: def('vmstat', 'pgalloc_normal', 'pages allocated'),
  PGFREE: def('vmstat', 'pgfree', 'pages freed'),
  NR_TLB_REMOTE_FLUSH: def('vmstat', 'nr_tlb_remote_flush', 'TLB shootdowns sent to other CPUs'),
  NR_TLB_REMOTE_FLUSH_RECEIVED: def('vmstat', 'nr_tlb_remote_flush_received', 'TLB shootdowns received'),
  NR_TLB_LOCAL_FLUSH_ALL: def('vmstat', 'nr_tlb_local_flush_all', 'full local TLB flushes'),
  NR_TLB_LOCAL_FLUSH_ONE: def('vmstat', 'nr_tlb_local_flush_one', 'single-page local TLB flushes'),
  PSWPIN: def('vmstat', 'pswpin', 'pages read in from swap'),
  PSWPOUT: def('vmstat', 'pswpout', 'pages written out to swap'),
  THP_FAULT_ALLOC: def('vmstat', 'thp_fault_alloc', 'huge pages allocated by a fault'),
  THP_FAULT_FALLBACK: def('vmstat', 'thp_fault_fallback', 'huge page faults that fell back to small pages'),
  THP_COLLAPSE_ALLOC: def('vmstat', 'thp_collapse_alloc', 'huge pages allocated by khugepaged to collapse a range'),
  THP_COLLAPSE_ALLOC_FAILED: def('vmstat', 'thp_collapse_alloc_failed', 'khugepaged could not get a huge page'),
  THP_SPLIT_PMD: def('vmstat', 'thp_split_pmd', 'huge PMDs split into PTE tables'),
  THP_ZERO_PAGE_ALLOC: def('vmstat', 'thp_zero_page_alloc', 'huge zero page mappings (read faults)'),
  SPECULATIVE_PGFAULT: def('vmstat', 'speculative_pgfault', 'faults completed speculatively (Dufour series)'),
  // Lespinasse series (CONFIG_SPECULATIVE_PAGE_FAULT; the upper-case ones with _STATS)
  SPF_ATTEMPT: def('vmstat', 'spf_attempt', 'speculative fault attempts (Lespinasse)'),
  SPF_ABORT: def('vmstat', 'spf_abort', 'speculative fault attempts that fell back (Lespinasse)'),
  SPF_ABORT_ODD: def('vmstat', 'SPF_ABORT_ODD', 'mmap_seq odd at start: a writer held the mmap lock'),
  SPF_ABORT_UNMAPPED: def('vmstat', 'SPF_ABORT_UNMAPPED', 'no VMA at the address'),
  SPF_ABORT_NO_SPECULATE: def('vmstat', 'SPF_ABORT_NO_SPECULATE', 'VMA type not handled speculatively'),
  SPF_ABORT_VMA_COPY: def('vmstat', 'SPF_ABORT_VMA_COPY', 'mmap_seq changed during the VMA copy'),
  SPF_ABORT_ACCESS_ERROR: def('vmstat', 'SPF_ABORT_ACCESS_ERROR', 'access not permitted (the classic path signals)'),
  SPF_ABORT_PUD: def('vmstat', 'SPF_ABORT_PUD', 'pgd/p4d/pud missing or huge'),
  SPF_ABORT_PMD: def('vmstat', 'SPF_ABORT_PMD', 'pmd missing, huge or swap'),
  SPF_ABORT_ANON_VMA: def('vmstat', 'SPF_ABORT_ANON_VMA', 'anon_vma would have to be allocated'),
  SPF_ABORT_PTE_MAP_LOCK_SEQ1: def('vmstat', 'SPF_ABORT_PTE_MAP_LOCK_SEQ1', 'mmap_seq changed before the PTE lock'),
  SPF_ABORT_PTE_MAP_LOCK_PMD: def('vmstat', 'SPF_ABORT_PTE_MAP_LOCK_PMD', 'pmd changed before the PTE lock'),
  SPF_ABORT_PTE_MAP_LOCK_PTL: def('vmstat', 'SPF_ABORT_PTE_MAP_LOCK_PTL', 'PTE lock busy (trylock failed)'),
  SPF_ABORT_PTE_MAP_LOCK_SEQ2: def('vmstat', 'SPF_ABORT_PTE_MAP_LOCK_SEQ2', 'mmap_seq changed after the PTE lock'),
  SPF_ABORT_SWAP: def('vmstat', 'SPF_ABORT_SWAP', 'a swap entry (swap-in is not speculated, v2)'),
  SPF_ATTEMPT_ANON: def('vmstat', 'SPF_ATTEMPT_ANON', 'speculative do_anonymous_page entries'),
  SPF_ATTEMPT_WP: def('vmstat', 'SPF_ATTEMPT_WP', 'speculative do_wp_page entries'),
  SPF_ATTEMPT_PTE: def('vmstat', 'SPF_ATTEMPT_PTE', 'speculative handle_pte_fault updates of present PTEs'),
  // per-VMA locks (CONFIG_PER_VMA_LOCK_STATS)
  VMA_LOCK_SUCCESS: def('vmstat', 'vma_lock_success', 'faults completed under the VMA lock'),
  VMA_LOCK_ABORT: def('vmstat', 'vma_lock_abort', 'lock_vma_under_rcu() gave up: mmap lock path'),
  VMA_LOCK_RETRY: def('vmstat', 'vma_lock_retry', 'handler returned VM_FAULT_RETRY under the VMA lock'),
  VMA_LOCK_MISS: def('vmstat', 'vma_lock_miss', 'VMA detached after locking: lookup retried'),
  // The address-space calls, as perf's syscall and sched tracepoints name them (docs/trace-format.md,
  // "Address-space calls"); their fields are the syscall's arguments (include/trace/syscall.h's
  // generated print_fmt: `name: 0x%08lx`) and sched's (include/trace/events/sched.h). What
  // `spfperf import` reads back (issue 17, item 2).
  SYS_ENTER_MMAP: def('tp', 'syscalls:sys_enter_mmap', 'mmap(2) entered: its arguments', { fields: ['addr', 'len', 'prot', 'flags', 'fd', 'off'], callEvent: true }),
  SYS_EXIT_MMAP: def('tp', 'syscalls:sys_exit_mmap', 'mmap(2) returned: the address, or -errno', { fields: ['ret'], callEvent: true }),
  SYS_ENTER_MUNMAP: def('tp', 'syscalls:sys_enter_munmap', 'munmap(2) entered: its arguments', { fields: ['addr', 'len'], callEvent: true }),
  SYS_ENTER_MPROTECT: def('tp', 'syscalls:sys_enter_mprotect', 'mprotect(2) entered: its arguments', { fields: ['start', 'len', 'prot'], callEvent: true }),
  SYS_ENTER_MADVISE: def('tp', 'syscalls:sys_enter_madvise', 'madvise(2) entered: its arguments', { fields: ['start', 'len_in', 'behavior'], callEvent: true }),
  SCHED_PROCESS_FORK: def('tp', 'sched:sched_process_fork', 'a task cloned (fork or a new thread): parent and child', { fields: ['parent_pid', 'child_pid'], callEvent: true }),
  SCHED_PROCESS_EXIT: def('tp', 'sched:sched_process_exit', 'a task exits (do_exit)', { fields: ['prio', 'group_dead'], callEvent: true }),
} as const;

export const NUM_EVENTS = nextId;
export const EVENTS: readonly EventDef[] = defs;

const byName = new Map<string, EventDef>();
for (const d of defs) {
  byName.set(d.name, d);
  for (const a of d.aliases) byName.set(a, d);
}

export function eventById(id: number): EventDef {
  return defs[id];
}

export function findEvent(name: string): EventDef | undefined {
  return byName.get(name);
}

function globToRegExp(glob: string): RegExp {
  const esc = glob.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.');
  return new RegExp(`^${esc}$`);
}

/**
 * Events perf knows that the model does not count: perf's generic hardware events and hardware
 * cache events (include/uapi/linux/perf_event.h; names as tools/perf/util/parse-events.c and
 * evsel.c spell them). No PMU is simulated, so perf stat prints them `<not supported>`, as perf
 * does on a machine without that PMU (this VM: `perf stat -e cycles` -> `<not supported>`).
 */
const HW_EVENTS = new Set<string>([
  'cpu-cycles', 'cycles', 'instructions', 'cache-references', 'cache-misses', 'branch-instructions', 'branches', 'branch-misses',
  'bus-cycles', 'stalled-cycles-frontend', 'idle-cycles-frontend', 'stalled-cycles-backend', 'idle-cycles-backend', 'ref-cycles',
  ...['L1-dcache', 'L1-icache', 'LLC', 'dTLB', 'iTLB', 'branch', 'node'].flatMap((c) =>
    [['load', 'loads'], ['store', 'stores'], ['prefetch', 'prefetches']].flatMap(([op, ops]) => [`${c}-${ops}`, `${c}-${op}-misses`]),
  ),
]);

/** An event chosen with -e, under the name the user gave it (perf prints that name). */
export interface SelectedEvent {
  /** The event's id; -1 for a hardware event the model does not count (`supported` false). */
  readonly id: number;
  readonly name: string;
  /** False for a hardware event perf knows but the model does not count: `<not supported>`. */
  readonly supported: boolean;
  /**
   * False when the :u/:k/:h modifier excludes the mode the model counts the event in
   * (faults:k, cs:u): it counts 0, as perf's would here.
   */
  readonly counted: boolean;
}

/** perf's privilege modifiers the model gives a meaning: u (user), k (kernel), h (hypervisor). */
const MODIFIER = /^(.+):([ukh]+)$/;

/**
 * Parse -e arguments: each may hold a comma-separated list; tracepoint names may be globs
 * (`pagefault:*`); an event may end in perf's :u, :k, :uk, :h modifiers (a software event keeps
 * them in its printed name, a tracepoint does not, as perf prints them). Returns the events in
 * the order given, without duplicates. A hardware event perf knows is kept, not supported.
 * An unknown event is a UsageError with perf's message layout (exit 1).
 */
export function parseEventList(specs: readonly string[]): SelectedEvent[] {
  const out: SelectedEvent[] = [];
  // One row per event and modifier (faults,page-faults is one; faults,faults:u two, as perf).
  const seen = new Set<string>();
  const add = (e: SelectedEvent, mods: string): void => {
    const key = e.supported ? `${e.id}:${mods}` : e.name;
    if (seen.has(key)) return;
    seen.add(key);
    out.push(e);
  };
  const counts = (id: number, mods: string): boolean => {
    if (mods === '') return true;
    const mode = defs[id].mode;
    return mode === 'time' || mods.includes(mode === 'user' ? 'u' : 'k');
  };
  for (const spec of specs) {
    let offset = 0;
    for (const raw of spec.split(',')) {
      const full = raw.trim();
      const at = offset;
      offset += raw.length + 1;
      // perf: `-e ''` or `-e a,,b` is an event syntax error, not an empty selection.
      if (full === '') throw unknownEvent(spec, at);
      const m = MODIFIER.exec(full);
      // A modifier only where what is before it names an event (a tracepoint has a ':' of its own).
      const known = (n: string): boolean => /[*?]/.test(n) || HW_EVENTS.has(n) || (byName.get(n) !== undefined && byName.get(n)!.kind !== 'vmstat');
      const [name, mods] = m !== null && known(m[1]) ? [m[1], m[2]] : [full, ''];
      if (HW_EVENTS.has(name)) {
        add({ id: -1, name: full, supported: false, counted: false }, mods);
        continue;
      }
      if (/[*?]/.test(name)) {
        const re = globToRegExp(name);
        const hits = defs.filter((d) => d.kind !== 'vmstat' && re.test(d.name));
        if (hits.length === 0) throw unknownEvent(spec, at);
        hits.forEach((d) => add({ id: d.id, name: d.kind === 'tp' || mods === '' ? d.name : `${d.name}:${mods}`, supported: true, counted: counts(d.id, mods) }, mods));
        continue;
      }
      const d = byName.get(name);
      if (d === undefined || d.kind === 'vmstat') throw unknownEvent(spec, at);
      add({ id: d.id, name: d.kind === 'tp' ? name : full, supported: true, counted: counts(d.id, mods) }, mods);
    }
  }
  return out;
}
function unknownEvent(spec: string, at: number): UsageError {
  const prefix = 'event syntax error: ';
  return new UsageError(
    `${prefix}'${spec}'\n${' '.repeat(prefix.length + 1 + at)}\\___ parser error\nRun 'spfperf list' for a list of all symbolic event names`,
    1,
    true,
  );
}
