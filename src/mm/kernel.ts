import type { Engine, Task } from '../engine/engine.js';
import type { CacheLine } from '../engine/cacheline.js';
import { SpinLock } from '../engine/locks.js';
import { RwSemaphore, type RwsemEra } from '../engine/rwsem.js';
import { Rcu } from '../engine/rcu.js';
import type { ArchCosts, ArchProfile } from '../config/arch.js';
import type { Emitter, EventSource } from '../trace/sink.js';
import { PageAllocator, PageDb, PfnList, Lru } from './page.js';
import { PtDir, PtGeometry, type PteTable } from './pgtable.js';
import { VmaTree, type Vma } from './vma.js';
import { AnonVma } from './rmap.js';
import type { ThpAnonAlign, VmaCacheKind } from '../config/kconfig.js';
import { File, isTmpfsPath } from './filemap.js';
import { SwapSpace } from './swap.js';
import { completeHooks, type SpfStrategy } from './spf/registry.js';
import { kernelEstimates, type KernelEstimates } from './estimates.js';
import type { DebugVm } from './debug_vm.js';
import type { PageContents } from './contents.js';

/** Machine and config facts the kernel model needs. */
export interface KernelOptions {
  readonly memoryBytes: number;
  /** A read from storage (a major fault's I/O), ns. */
  readonly ioLatencyNs: number;
  /** Sequential write bandwidth of the storage (writeback of dirty file pages), bytes per ns. */
  readonly writebackBytesPerNs: number;
  /** The estimated step costs no arch table carries (estimates.ts), as the run scales them. */
  readonly estimates?: KernelEstimates;
  /** Peter Xu 2022: shared-file write faults that drop the mmap lock complete instead of retrying. */
  readonly faultCompleted: boolean;
  readonly thp: 'always' | 'madvise' | 'never';
  /** rw_semaphore's behaviour in the kernel era (CONFIG_RWSEM_SPIN_ON_OWNER and the rwsem_* keys). */
  readonly rwsem: RwsemEra;
  /** x86 TLB flushes and idle CPUs still lazily on the mm (kconfig `lazy_tlb`). */
  readonly lazyTlb?: 'ipi' | 'skip';
  /** Which anonymous mappings get a PMD-aligned address with THP (kconfig `thp_anon_align`). */
  readonly thpAnonAlign: ThpAnonAlign;
  /** find_vma()'s cache (kconfig `vmacache`). */
  readonly vmacache: VmaCacheKind;
  /** munmap() downgrades the mmap lock to read before zapping (kconfig `munmap_downgrade`, 4.20+). */
  readonly munmapDowngrade?: boolean;
  /**
   * A per-VMA-lock fault in an anonymous VMA without an anon_vma (kconfig `vma_lock_anon_vma`):
   * `inval`, lock_vma_under_rcu() gives up (6.4-6.9); `trylock`, the fault goes on under the VMA
   * lock and vmf_anon_prepare() takes the mmap lock by trylock to attach one (6.10+).
   */
  readonly vmaLockAnonVma?: 'inval' | 'trylock';
  /** The machine's remote TLB flush when it is not the arch's (Machine.remoteTlbFlush). */
  readonly remoteTlbFlush?: 'hypercall';
  /**
   * Test-only mutants (never set from the command line): a check the kernel needs, taken out, so
   * that a test can show the invariant checks catch what follows. 'wp-copy-no-recheck':
   * wp_page_copy() installs its copy without checking that the PTE is still the one it copied
   * (pte_same), so a copy racing another thread's copy and write can lose that write.
   * The design mutants of docs/check.md ("Mutants"): 'dufour-no-seq-recheck', pte_map_lock()
   * without the vm_sequence recheck (Dufour); 'lespinasse-no-mmap-seq-check', pte_map_lock()
   * without its mmap_seq checks (Lespinasse); 'per-vma-lock-no-fork-vma-lock', dup_mmap() without
   * the parent's VMAs write-locked (per-VMA locks as 6.4.0 shipped).
   */
  readonly mutant?: Mutant;
}

/** A test-only mutant (KernelOptions.mutant). */
export type Mutant = 'wp-copy-no-recheck' | 'dufour-no-seq-recheck' | 'lespinasse-no-mmap-seq-check' | 'per-vma-lock-no-fork-vma-lock';

/** The kernel-wide state of one simulation: allocator, LRU, arch, event emitter, ids. */
export class Kernel {
  readonly costs: ArchCosts;
  /** Estimated step costs (estimates.ts), scaled by the run's perturbation. */
  readonly est: KernelEstimates;
  readonly geo: PtGeometry;
  readonly pages: PageDb;
  readonly alloc: PageAllocator;
  readonly lru: Lru;
  private nextPid = 1000;
  private nextVmaId = 1;
  private nextAnonVmaId = 1;
  readonly threads: Thread[] = [];
  readonly processes: Process[] = [];
  /** The machine-wide serialisation point of broadcast TLB invalidations (tlbie, DVM). */
  readonly tlbBroadcastLine: CacheLine;
  /** RCU (one for the machine): the designs' VMA lookups are its readers, their VMA frees its callbacks. */
  readonly rcu: Rcu;
  /** The run-time invariant checks (--check), or null (debug_vm.ts). */
  dbg: DebugVm | null = null;
  /** Page contents, for workloads that `write` and `expect` values (contents.ts), or null. */
  contents: PageContents | null = null;

  constructor(
    readonly eng: Engine,
    readonly arch: ArchProfile,
    readonly em: Emitter,
    readonly opts: KernelOptions,
    /** The page-fault design's hooks (the classic kernel's by default). */
    readonly spf: SpfStrategy = completeHooks({}),
  ) {
    this.costs = arch.costs;
    this.est = opts.estimates ?? kernelEstimates();
    this.geo = new PtGeometry(arch);
    this.pages = new PageDb(Math.floor(opts.memoryBytes / this.geo.pageSize));
    this.alloc = new PageAllocator(eng, this.pages, this.costs);
    this.lru = new Lru(eng, this.pages, this.costs);
    this.tlbBroadcastLine = eng.line('tlbie');
    this.rcu = new Rcu(eng, this.costs.rcuGracePeriodNs);
  }

  get pageSize(): number {
    return this.geo.pageSize;
  }

  /** Dirty file pages not yet written back (NR_FILE_DIRTY) and when writeback was last accounted. */
  readonly writeback = { dirty: 0, last: 0 };
  /** The swap device: slots, the swap cache. */
  readonly swap = new SwapSpace();
  /** Files by path, created on first mmap. */
  readonly files = new Map<string, File>();
  private nextFileId = 1;

  get ioLatencyNs(): number {
    return this.opts.ioLatencyNs;
  }

  /** The file at `path`, created (empty page cache) or grown to at least `sizePages`. */
  openFile(path: string, sizePages: number): File {
    let f = this.files.get(path);
    if (f === undefined) {
      f = new File(this, this.nextFileId++, path, isTmpfsPath(path), sizePages);
      this.files.set(path, f);
    } else if (f.sizePages < sizePages) {
      f.sizePages = sizePages;
    }
    return f;
  }

  /**
   * The shmem files behind shared anonymous mappings. The model keeps their pages for the whole
   * run, as it keeps every file's page cache (the kernel frees them with the inode once the last
   * mapping goes); listed so that the invariant checks count the pages they hold.
   */
  readonly anonShmem: File[] = [];

  /** shmem_zero_setup(): the shmem file behind a shared anonymous mapping. */
  shmemZeroFile(sizePages: number): File {
    const id = this.nextFileId++;
    const f = new File(this, id, `/dev/zero (deleted ${id})`, true, sizePages);
    this.anonShmem.push(f);
    return f;
  }

  allocPid(): number {
    return this.nextPid++;
  }

  vmaId(): number {
    return this.nextVmaId++;
  }

  newAnonVma(): AnonVma {
    return new AnonVma(this.nextAnonVmaId++);
  }

  line(name: string): CacheLine {
    return this.eng.line(name);
  }

  newProcess(comm: string): Process {
    const p = new Process(this, this.allocPid(), comm);
    this.processes.push(p);
    return p;
  }
}

/**
 * struct mm_struct: the address space shared by a process's threads.
 */
export class MmStruct {
  /** mm->mmap_lock (mmap_sem before 5.8). */
  readonly mmapLock: RwSemaphore;
  /** mm->page_table_lock: guards populating upper page-table levels and anon_vma attach. */
  readonly pageTableLock: SpinLock;
  readonly vmas = new VmaTree();
  readonly pgd: PtDir;
  /** mm->rss_stat: per-mm RSS counters, synced from per-task caches (SPLIT_RSS_COUNTING). */
  readonly rssLine: CacheLine;
  /** mm_users: tasks using this mm. */
  users = 0;
  /** RSS in pages (MM_ANONPAGES + MM_FILEPAGES). */
  rss = 0;
  /** mm->pgtables_bytes: page-table pages below the pgd (pgalloc.ts counts them). */
  pgtablesBytes = 0;
  /** Bumped whenever a page-table page is freed, so cached walks can tell they are stale. */
  pgtableGen = 0;
  /** Highest user address + 1 and the base below which mmap places new mappings. */
  readonly taskSize: number;
  readonly mmapBase: number;
  /** CPUs that have run this mm since their last switch away (mm_cpumask). */
  readonly cpumask: Uint8Array;
  /** mm->mmap_cache (vmacache=mm): the last VMA find_vma() found, for every thread. */
  mmapCache: Vma | null = null;
  /** The line holding mm->mmap_cache and mm->mm_rb (the tree root every walk starts from). */
  readonly mmapCacheLine: CacheLine;
  /**
   * The writable translations of this mm each CPU's TLB holds since the mm's last flush (CPU ->
   * page address -> pfn), kept only when the run keeps page contents (tlb.ts tlbNoteWrite).
   */
  readonly tlbWritable = new Map<number, Map<number, number>>();

  constructor(readonly k: Kernel, readonly owner: Process) {
    this.mmapLock = new RwSemaphore(k.eng, `mmap_lock(${owner.pid})`);
    this.mmapLock.configure(k.opts.rwsem);
    this.pageTableLock = new SpinLock(k.eng, `page_table_lock(${owner.pid})`);
    this.pgd = new PtDir(k.geo.entries[0]);
    this.rssLine = k.line(`rss_stat(${owner.pid})`);
    this.mmapCacheLine = k.line(`mmap_cache(${owner.pid})`);
    // x86-64 4-level: TASK_SIZE = 2^47 - one page; mmap_base sits below the stack gap
    // (mm/util.c mmap_base(): TASK_SIZE - gap, gap >= 128 MiB), with ASLR off as here.
    const vaTop = 2 ** (k.arch.pageShift + k.arch.levelBits.reduce((a, b) => a + b, 0) - 1);
    this.taskSize = vaTop - k.geo.pageSize;
    this.mmapBase = this.taskSize - 128 * 2 ** 20;
    this.cpumask = new Uint8Array(k.eng.ncpus);
  }
}

export class Process {
  readonly mm: MmStruct;
  readonly threads: Thread[] = [];
  /** Set when the process was killed by a signal. */
  killedBy: { signal: number; addr: number; detail: string } | null = null;

  constructor(readonly k: Kernel, readonly pid: number, readonly comm: string) {
    this.mm = new MmStruct(k, this);
  }
}

/** A task's kernel-side state (task_struct fields the model needs) and its event identity. */
export class Thread implements EventSource {
  t!: Task;
  /** Per-task RSS delta not yet folded into mm->rss_stat (task->rss_stat, SPLIT_RSS_COUNTING). */
  rssEvents = 0;
  rssPending = 0;
  /** Last PTE table walked by user accesses, with the mm's pgtableGen when it was found. */
  leaf: PteTable | null = null;
  leafBase = -1;
  leafGen = -1;
  /** Pages gathered by an unmap for freeing after the TLB flush (struct mmu_gather). */
  readonly gather = new PfnList();
  minFlt = 0;
  majFlt = 0;
  /** A kernel thread (khugepaged), not a thread of the workload. */
  kernel = false;
  /** current->vmacache (vmacache=task): the last VMA this thread's find_vma() found. */
  vmacache: Vma | null = null;
  /** Pages dirtied since the last balance_dirty_pages() (current->nr_dirtied). */
  nrDirtied = 0;
  /**
   * The kernel function of the task's current step, as far as the model marks it (a fault
   * handler, a syscall): what an invariant violation names when the step does not say itself.
   */
  kfn = '';
  /** The line of the workload statement the thread runs (its user ip, src/trace/user-ip.ts); 0 before the first. */
  stmtLine = 0;

  constructor(
    readonly k: Kernel,
    readonly proc: Process,
    readonly idx: number,
    readonly tid: number,
    readonly comm: string,
  ) {}

  get pid(): number {
    return this.proc.pid;
  }

  get mm(): MmStruct {
    return this.proc.mm;
  }

  cpuNow(): number {
    return this.t.cpu >= 0 ? this.t.cpu : this.t.lastCpu;
  }

  timeNow(): number {
    return this.t.clock;
  }
}
