/**
 * The recorded address space of an imported trace (src/import/perf-script.ts's events), per
 * process: mappings from sys_enter_mmap + sys_exit_mmap (paired per tid), munmap, mprotect and
 * madvise on ranges of them, each fault attributed to the mapping that covered its address at
 * that moment, forks, and for each thread the list of operations it made, in time order, that
 * src/import/generate.ts turns into a workload script.
 *
 * Faults at addresses no recorded mmap covers (the binary, the loader, the stack: mapped by
 * execve before the recording, or anything older than the recording) are kept with their
 * address; finish() groups them by address cluster into synthesized mappings: a stack near the
 * top of the user address space, anonymous memory where a cluster is written and not executed
 * (the brk heap, a binary's data), file-backed images elsewhere.
 *
 * Memory: the mappings, an object per call (mmap, munmap, ...), and 21 bytes per fault in a
 * thread's TouchLog (a million faults: ~21 MB, where an object each took ~110).
 */
import { TRACEPOINT, X86_PF_INSTR, X86_PF_WRITE, type PerfEvent } from './perf-script.js';
import { MADVISE, MAP_ANONYMOUS, MAP_FIXED, MAP_GROWSDOWN, MAP_SHARED, PAGE, PROT_EXEC, PROT_READ, PROT_WRITE } from './mman.js';
import { TOUCH_FETCH, TOUCH_WRITE, TouchLog, type Touch } from './touch-log.js';

export * from './mman.js';
export * from './touch-log.js';


/**
 * Synthesized mappings at or above this address are the stack: on x86-64 the stack sits just
 * under the 47-bit TASK_SIZE (0x7ffffffff000), above mmap_base, which leaves at least a 128 MiB
 * gap under the stack's limit (arch/x86/mm/mmap.c: mmap_base()); libraries start lower.
 */
export const STACK_FLOOR = 0x7ff000000000;
/**
 * Unattributed faults further apart than this start a new synthesized mapping. A choice of the
 * importer, not a model figure: where one image ends changes which region a touch names, not
 * how many faults it takes. 2 MiB: a text and data segment of one binary stay together.
 */
export const CLUSTER_GAP = 2 << 20;

export type MappingKind = 'anon' | 'shared-anon' | 'file' | 'stack';

/** A mapping of one process: recorded (an mmap of the trace) or synthesized (from faults). */
export interface Mapping {
  readonly id: number;
  readonly pid: number;
  readonly start: number;
  /** Length in bytes, whole pages (the brk heap's grows to the largest break the trace reached). */
  len: number;
  /** prot at creation, and the union of every prot it was given (mprotect included). */
  readonly prot: number;
  protUnion: number;
  readonly kind: MappingKind;
  /** A per-file name for file mappings (`file3`), null otherwise. */
  readonly file: string | null;
  /** null for a recorded mapping; what was synthesized otherwise. */
  readonly synth: null | 'stack' | 'image' | 'heap';
  /** The tid that mapped it (null: synthesized). */
  readonly creator: number | null;
  readonly ns: number;
  /** Every tid that made an operation on it (the mmap included). */
  readonly users: Set<number>;
  faults: number;
}

/**
 * One call a thread made, in the order it made them; `at`: how many of the thread's faults
 * (its TouchLog) came before it.
 */
export type Op = { readonly at: number } & (
  | { readonly k: 'mmap'; readonly ns: number; readonly m: Mapping }
  | { readonly k: 'munmap'; readonly ns: number; readonly m: Mapping; readonly off: number; readonly len: number }
  /** `before`: the protection the range had (a grant of more, or a removal, or both). */
  | { readonly k: 'mprotect'; readonly ns: number; readonly m: Mapping; readonly off: number; readonly len: number; readonly prot: number; readonly before: number }
  | { readonly k: 'madvise'; readonly ns: number; m: Mapping | null; readonly addr: number; off: number; len: number; readonly advice: string }
  | { readonly k: 'fork'; readonly ns: number; readonly child: number }
);


export interface ThreadRecord {
  readonly tid: number;
  readonly pid: number;
  readonly comm: string;
  readonly firstNs: number;
  lastNs: number;
  readonly ops: Op[];
  readonly touches: TouchLog;
}

/** A live piece of a mapping: [start, end) with its current protection. */
interface Piece {
  start: number;
  end: number;
  readonly m: Mapping;
  prot: number;
}

export interface ProcessRecord {
  readonly pid: number;
  readonly comm: string;
  /** The process that forked it and when (null: there from the start of the recording). */
  parent: number | null;
  forkNs: number | null;
  readonly firstNs: number;
  /** Threads in the order they first appear. */
  readonly tids: number[];
  /** The brk heap: its mapping (from the first sys_exit_brk) and the current break. */
  brk: { m: Mapping; end: number } | null;
  pieces: Piece[];
  readonly synthesized: Mapping[];
}

/** What import saw, kept and dropped (the script's header). */
export interface ImportSummary {
  readonly events: Map<string, number>;
  readonly dropped: Map<string, number>;
  firstNs: number;
  lastNs: number;
}

const ceilPage = (n: number): number => Math.ceil(n / PAGE) * PAGE;
const floorPage = (n: number): number => n - (n % PAGE);

export class AddressSpace {
  readonly processes = new Map<number, ProcessRecord>();
  readonly threads = new Map<number, ThreadRecord>();
  readonly mappings: Mapping[] = [];
  readonly summary: ImportSummary = { events: new Map(), dropped: new Map(), firstNs: Infinity, lastNs: -Infinity };
  /** Whether the trace gives pids (else it is one process whose threads are its tids). */
  private withPids: boolean | null = null;
  private readonly pendingMmap = new Map<number, Extract<PerfEvent, { k: 'mmap-enter' }>>();
  private readonly forks: { parent: number; child: number; ns: number; tid: number }[] = [];
  private nextFile = 1;
  /** Per process: the file name of the last file mapping made from each fd (MAP_FIXED segments). */
  private readonly fdFile = new Map<string, string>();

  /** The mapping with this id (ids are 1-based, in order of creation). */
  mapping(id: number): Mapping {
    return this.mappings[id - 1];
  }

  /** A thread's calls and faults merged in order, as objects (for tests; see TouchLog). */
  timeline(tid: number): (Op | Touch)[] {
    const th = this.threads.get(tid)!;
    const T = th.touches;
    const out: (Op | Touch)[] = [];
    let i = 0;
    const touchesTo = (n: number): void => {
      for (; i < n; i++) out.push({ k: 'touch', ns: T.ns[i], m: T.map[i] === 0 ? null : this.mapping(T.map[i]), addr: T.addr[i], write: (T.flags[i] & TOUCH_WRITE) !== 0, fetch: (T.flags[i] & TOUCH_FETCH) !== 0 });
    };
    for (const op of th.ops) {
      touchesTo(op.at);
      out.push(op);
    }
    touchesTo(T.n);
    return out;
  }

  drop(why: string, n = 1): void {
    this.summary.dropped.set(why, (this.summary.dropped.get(why) ?? 0) + n);
  }

  /** Take one event of the trace, in the trace's order. */
  add(e: PerfEvent): void {
    const s = this.summary;
    const name = e.k === 'other' ? e.event : TRACEPOINT[e.k];
    s.events.set(name, (s.events.get(name) ?? 0) + 1);
    s.firstNs = Math.min(s.firstNs, e.ns);
    s.lastNs = Math.max(s.lastNs, e.ns);
    this.withPids ??= e.pid !== null;
    // Without pids, one process: the first tid seen names it.
    const pid = e.pid ?? (this.processes.size > 0 ? this.processes.keys().next().value! : e.tid);
    const th = this.thread(pid, e.tid, e.comm, e.ns);
    th.lastNs = e.ns;
    const p = this.processes.get(pid)!;
    switch (e.k) {
      case 'fault': {
        const pc = findPiece(p.pieces, e.address);
        const write = (e.errorCode & X86_PF_WRITE) !== 0;
        const fetch = (e.errorCode & X86_PF_INSTR) !== 0;
        if (pc !== null) {
          const need = write ? PROT_WRITE : fetch ? PROT_EXEC : PROT_READ;
          if ((pc.prot & need) === 0 && !(need === PROT_READ && pc.prot !== 0)) {
            this.drop('fault the recorded protection refuses (a SIGSEGV the program handled)');
            return;
          }
          pc.m.users.add(e.tid);
          pc.m.faults++;
        }
        th.touches.push(e.ns, floorPage(e.address), pc?.m.id ?? 0, (write ? TOUCH_WRITE : 0) | (fetch ? TOUCH_FETCH : 0));
        return;
      }
      case 'mmap-enter':
        if (this.pendingMmap.has(e.tid)) this.drop('sys_enter_mmap without its sys_exit_mmap');
        this.pendingMmap.set(e.tid, e);
        return;
      case 'mmap-exit': {
        const en = this.pendingMmap.get(e.tid);
        this.pendingMmap.delete(e.tid);
        if (en === undefined) return this.drop('sys_exit_mmap without its sys_enter_mmap');
        if (e.ret < 0 && e.ret >= -4095) return this.drop('mmap that failed');
        this.mmap(p, th, en, e.ret, e.ns);
        return;
      }
      case 'brk-exit':
        this.brk(p, th, e.ret, e.ns);
        return;
      case 'munmap':
        this.onRange(p, th, e.addr, e.len, e.ns, 'munmap');
        return;
      case 'mprotect':
        this.onRange(p, th, e.start, e.len, e.ns, 'mprotect', e.prot);
        return;
      case 'madvise': {
        const advice = MADVISE[e.behavior];
        if (advice === undefined) return this.drop(`madvise advice ${e.behavior} (not in the workload language)`);
        this.onRange(p, th, e.start, e.len, e.ns, 'madvise', 0, advice);
        return;
      }
      case 'fork':
        if (!this.withPids) return this.drop('sched_process_fork in a trace without pids');
        this.forks.push({ parent: pid, child: e.childPid, ns: e.ns, tid: e.tid });
        return;
      case 'exit':
        return;
      case 'other':
        this.drop(`${e.event} (not imported)`);
        return;
    }
  }

  private thread(pid: number, tid: number, comm: string, ns: number): ThreadRecord {
    let th = this.threads.get(tid);
    if (th !== undefined) return th;
    let p = this.processes.get(pid);
    if (p === undefined) {
      p = { pid, comm, parent: null, forkNs: null, firstNs: ns, tids: [], pieces: [], synthesized: [], brk: null };
      // A forked child starts with a copy of its parent's address space (dup_mmap()).
      const f = this.forks.find((x) => x.child === pid);
      if (f !== undefined) {
        const parent = this.processes.get(f.parent)!;
        p.parent = f.parent;
        p.forkNs = f.ns;
        p.pieces = parent.pieces.map((x) => ({ ...x }));
        const ft = this.threads.get(f.tid)!;
        ft.ops.push({ k: 'fork', ns: f.ns, child: pid, at: ft.touches.n });
      }
      this.processes.set(pid, p);
    }
    p.tids.push(tid);
    th = { tid, pid, comm, firstNs: ns, lastNs: ns, ops: [], touches: new TouchLog() };
    this.threads.set(tid, th);
    return th;
  }

  private mmap(p: ProcessRecord, th: ThreadRecord, en: Extract<PerfEvent, { k: 'mmap-enter' }>, addr: number, ns: number): void {
    const len = ceilPage(en.len);
    // MAP_FIXED over existing mappings replaces that part of them (mmap_region() unmaps it first).
    this.unmapRange(p, th, addr, len, ns);
    const anon = (en.flags & MAP_ANONYMOUS) !== 0 || en.fd < 0;
    let file: string | null = null;
    if (!anon) {
      const key = `${p.pid}:${en.fd}`;
      const prev = this.fdFile.get(key);
      // ld.so maps a whole object from offset 0, then its segments MAP_FIXED over it, same fd.
      file = (en.flags & MAP_FIXED) !== 0 && en.off !== 0 && prev !== undefined ? prev : `file${this.nextFile++}`;
      this.fdFile.set(key, file);
    }
    const kind: MappingKind = anon ? ((en.flags & MAP_SHARED) !== 0 ? 'shared-anon' : (en.flags & MAP_GROWSDOWN) !== 0 ? 'stack' : 'anon') : 'file';
    const m: Mapping = { id: this.mappings.length + 1, pid: p.pid, start: addr, len, prot: en.prot, protUnion: en.prot, kind, file, synth: null, creator: th.tid, ns, users: new Set([th.tid]), faults: 0 };
    this.mappings.push(m);
    insertPiece(p.pieces, { start: addr, end: addr + len, m, prot: en.prot });
    th.ops.push({ k: 'mmap', ns, m, at: th.touches.n });
  }

  /**
   * sys_exit_brk: the break is now `end` (the first one seen starts the heap: glibc's first
   * malloc asks brk(0)). The heap is one region as long as the largest break; a growth adds its
   * range to the live pieces, a shrink removes it and zaps its pages (a madvise dontneed in the
   * replay, so that the next touch there faults again, as after do_brk_munmap()) without
   * unmapping the region a later growth reuses.
   */
  private brk(p: ProcessRecord, th: ThreadRecord, end: number, ns: number): void {
    if (end <= 0) return this.drop('brk that failed');
    end = ceilPage(end);
    if (p.brk === null) {
      const m: Mapping = { id: this.mappings.length + 1, pid: p.pid, start: end, len: 0, prot: PROT_READ | PROT_WRITE, protUnion: PROT_READ | PROT_WRITE, kind: 'anon', file: null, synth: null, creator: th.tid, ns, users: new Set([th.tid]), faults: 0 };
      this.mappings.push(m);
      p.brk = { m, end };
      th.ops.push({ k: 'mmap', ns, m, at: th.touches.n });
      return;
    }
    const b = p.brk;
    const m = b.m;
    m.users.add(th.tid);
    if (end > b.end) {
      this.unmapRange(p, th, b.end, end - b.end, ns);
      insertPiece(p.pieces, { start: b.end, end, m, prot: PROT_READ | PROT_WRITE });
      m.len = Math.max(m.len, end - m.start);
    } else if (end < b.end && end >= m.start) {
      p.pieces = p.pieces.filter((pc) => !(pc.m === m && pc.start >= end));
      for (const pc of p.pieces) if (pc.m === m && pc.end > end) pc.end = end;
      pushRange(th, { k: 'madvise', ns, m, addr: end, off: end - m.start, len: b.end - end, advice: 'dontneed', at: th.touches.n });
    }
    b.end = end;
  }

  /**
   * Split the live pieces at `addr` and `end`: each part of [addr, end) a piece covers goes to
   * `part(pc, lo, hi)`, which returns what stands there now (null: nothing, it was unmapped).
   * Returns how many parts there were.
   */
  private splitPieces(p: ProcessRecord, addr: number, end: number, part: (pc: Piece, lo: number, hi: number) => Piece | null): number {
    let n = 0;
    const out: Piece[] = [];
    for (const pc of p.pieces) {
      if (pc.end <= addr || pc.start >= end) {
        out.push(pc);
        continue;
      }
      const lo = Math.max(pc.start, addr);
      const hi = Math.min(pc.end, end);
      n++;
      if (pc.start < lo) out.push({ ...pc, end: lo });
      const kept = part(pc, lo, hi);
      if (kept !== null) out.push(kept);
      if (hi < pc.end) out.push({ ...pc, start: hi });
    }
    p.pieces = out;
    return n;
  }

  /** Remove [addr, addr+len) from the live pieces, with a munmap op for each part removed. */
  private unmapRange(p: ProcessRecord, th: ThreadRecord, addr: number, len: number, ns: number): number {
    return this.splitPieces(p, addr, addr + len, (pc, lo, hi) => {
      pushRange(th, { k: 'munmap', ns, m: pc.m, off: lo - pc.m.start, len: hi - lo, at: th.touches.n });
      pc.m.users.add(th.tid);
      return null;
    });
  }

  private onRange(p: ProcessRecord, th: ThreadRecord, addr: number, rawLen: number, ns: number, k: 'munmap' | 'mprotect' | 'madvise', prot = 0, advice = ''): void {
    const len = ceilPage(rawLen);
    if (k === 'munmap') {
      if (this.unmapRange(p, th, addr, len, ns) === 0) this.drop('munmap of a range no recorded mmap covers');
      return;
    }
    const end = addr + len;
    if (k === 'mprotect') {
      const parts = this.splitPieces(p, addr, end, (pc, lo, hi) => {
        pushRange(th, { k: 'mprotect', ns, m: pc.m, off: lo - pc.m.start, len: hi - lo, prot, before: pc.prot, at: th.touches.n });
        pc.m.users.add(th.tid);
        pc.m.protUnion |= prot;
        return { ...pc, start: lo, end: hi, prot };
      });
      if (parts === 0) this.drop('mprotect of a range no recorded mmap covers');
      return;
    }
    let n = 0;
    for (const pc of p.pieces) {
      if (pc.end <= addr || pc.start >= end) continue;
      const lo = Math.max(pc.start, addr);
      const hi = Math.min(pc.end, end);
      pushRange(th, { k: 'madvise', ns, m: pc.m, addr: lo, off: lo - pc.m.start, len: hi - lo, advice, at: th.touches.n });
      pc.m.users.add(th.tid);
      n++;
    }
    // On no recorded mapping: finish() tries the synthesized ones (a dontneed on the stack...).
    if (n === 0) th.ops.push({ k: 'madvise', ns, m: null, addr, off: 0, len, advice, at: th.touches.n });
  }

  /**
   * After the last event: synthesize mappings for the faults no recorded mapping covered (per
   * process, by address cluster), and attach those faults and madvises to them.
   */
  finish(): void {
    for (const en of this.pendingMmap.values()) this.drop('sys_enter_mmap without its sys_exit_mmap', en ? 1 : 0);
    // A fork whose child is a thread of the parent (a clone of a thread) needs nothing: the thread
    // is created at its first event. One whose child made no event of its own is dropped.
    for (const f of this.forks) if (!this.processes.has(f.child) && !this.threads.has(f.child)) this.drop('sched_process_fork of a task with no events of its own');
    // Parents come before their children (a child is added at its first event, after the fork).
    for (const p of this.processes.values()) {
      // A forked child inherited its parent's synthesized mappings (they were there from the
      // parent's start): its faults there are on them (copy-on-write after the fork).
      const inherited: Mapping[] = [];
      for (let q = p.parent; q !== null; q = this.processes.get(q)!.parent) inherited.push(...this.processes.get(q)!.synthesized);
      // Page address -> the union of its faults' flags.
      const pages = new Map<number, number>();
      for (const tid of p.tids) {
        const T = this.threads.get(tid)!.touches;
        for (let i = 0; i < T.n; i++) {
          if (T.map[i] !== 0) continue;
          const a = T.addr[i];
          const old = inherited.find((m) => a >= m.start && a < m.start + m.len);
          if (old !== undefined) {
            T.map[i] = old.id;
            old.faults++;
            old.users.add(tid);
            continue;
          }
          pages.set(a, (pages.get(a) ?? 0) | T.flags[i]);
        }
      }
      const sorted = [...pages.keys()].sort((a, b) => a - b);
      let i = 0;
      while (i < sorted.length) {
        let j = i;
        let prot = PROT_READ;
        while (j + 1 < sorted.length && sorted[j + 1] - sorted[j] <= CLUSTER_GAP && sorted[j + 1] >= STACK_FLOOR === sorted[i] >= STACK_FLOOR) j++;
        for (let x = i; x <= j; x++) {
          const f = pages.get(sorted[x])!;
          if (f & TOUCH_WRITE) prot |= PROT_WRITE;
          if (f & TOUCH_FETCH) prot |= PROT_EXEC;
        }
        const start = sorted[i];
        const len = sorted[j] + PAGE - start;
        // Near the top: the stack. Written and never executed: anonymous memory (the brk heap,
        // which no mmap records, or a binary's data and bss). Else a file-backed image (text,
        // read-only data of the binary, the loader, a library mapped before the recording).
        const synth = start >= STACK_FLOOR ? 'stack' : (prot & PROT_WRITE) !== 0 && (prot & PROT_EXEC) === 0 ? 'heap' : 'image';
        const m: Mapping = {
          id: this.mappings.length + 1, pid: p.pid, start, len, prot, protUnion: prot,
          kind: synth === 'stack' ? 'stack' : synth === 'heap' ? 'anon' : 'file', file: synth === 'image' ? `file${this.nextFile++}` : null, synth,
          creator: null, ns: p.firstNs, users: new Set(), faults: 0,
        };
        this.mappings.push(m);
        p.synthesized.push(m);
        i = j + 1;
      }
      const find = (a: number): Mapping | null => p.synthesized.find((m) => a >= m.start && a < m.start + m.len) ?? null;
      for (const tid of p.tids) {
        const th = this.threads.get(tid)!;
        const T = th.touches;
        for (let i = 0; i < T.n; i++) {
          if (T.map[i] !== 0) continue;
          const m = find(T.addr[i])!;
          T.map[i] = m.id;
          m.faults++;
          m.users.add(tid);
        }
        for (const op of th.ops) {
          if (op.k === 'madvise' && op.m === null) {
            const m = p.synthesized.find((s) => op.addr < s.start + s.len && op.addr + op.len > s.start) ?? null;
            if (m === null) continue;
            const lo = Math.max(m.start, op.addr);
            const hi = Math.min(m.start + m.len, op.addr + op.len);
            op.m = m;
            op.off = lo - m.start;
            op.len = hi - lo;
          }
        }
      }
    }
    for (const th of this.threads.values()) for (const op of th.ops) if (op.k === 'madvise' && op.m === null) this.drop('madvise of a range no mapping covers');
  }
}

/**
 * Add a range op to a thread's list, joined to the one before it when that is the same call on
 * the adjacent range of the same mapping (one call over several pieces of one mapping). For
 * mprotect, `before` keeps what every part had (a grant to any part is a grant).
 */
function pushRange(th: ThreadRecord, op: Extract<Op, { k: 'munmap' | 'mprotect' | 'madvise' }>): void {
  const ops = th.ops;
  const prev = ops[ops.length - 1];
  if (prev !== undefined && prev.k === op.k && prev.at === op.at && prev.ns === op.ns && prev.m === op.m && prev.m !== null && prev.off + prev.len === op.off) {
    if (op.k === 'mprotect' && prev.k === 'mprotect' && prev.prot === op.prot) {
      ops[ops.length - 1] = { ...prev, len: prev.len + op.len, before: prev.before & op.before };
      return;
    }
    if (op.k === 'munmap' && prev.k === 'munmap') {
      ops[ops.length - 1] = { ...prev, len: prev.len + op.len };
      return;
    }
    if (op.k === 'madvise' && prev.k === 'madvise' && prev.advice === op.advice) {
      prev.len += op.len;
      return;
    }
  }
  ops.push(op);
}

function findPiece(pieces: readonly Piece[], a: number): Piece | null {
  let lo = 0;
  let hi = pieces.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const pc = pieces[mid];
    if (a < pc.start) hi = mid - 1;
    else if (a >= pc.end) lo = mid + 1;
    else return pc;
  }
  return null;
}

function insertPiece(pieces: Piece[], pc: Piece): void {
  let i = pieces.length;
  while (i > 0 && pieces[i - 1].start > pc.start) i--;
  pieces.splice(i, 0, pc);
}
