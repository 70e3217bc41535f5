/**
 * Write the workload script (.spf) of an imported trace (src/import/address-space.ts's model):
 *
 *   # Imported by spfperf import from app.script.txt (perf script; ...)
 *   process "app" {
 *     image9 = mmap 216K rwx private file "/imported/app/file5"   # synthesized: 41 faults
 *     threads 4 {
 *       if $tid == 1 {   # tid 18814
 *         compute 3128us
 *         m7 = mmap 1M rw private anon
 *         touch m7 write offset 0 length 1M   # 256 faults
 *         ...
 *
 * Each recorded process is a `process` (a forked one a `fork` at the point its parent forked
 * it), each thread a branch of one `threads` group. A mapping one thread alone uses is mapped,
 * changed and unmapped in that thread's branch, in order; one several threads (or a forked
 * child) use, and every synthesized one, is mapped before the threads start, with the union of
 * its protections, and is not unmapped nor mprotected (so that no other thread's replayed touch
 * can come after such a change: the replay's timing is not the recording's). Each fault is a
 * one-page touch at its offset in its region; consecutive faults on consecutive pages of one
 * region with the same access, closer than REPLAY_MIN_GAP_NS, are one touch of that range (one
 * fault per page, as recorded). A gap of a thread over REPLAY_MIN_GAP_NS is `compute`.
 */
import { PAGE, PROT_EXEC, PROT_READ, PROT_WRITE, TOUCH_WRITE, type AddressSpace, type Mapping, type ProcessRecord, type ThreadRecord, type TouchLog } from './address-space.js';

/**
 * Gaps between a thread's events up to this long are the events' own kernel time (perf record
 * writing each event included), which the model charges itself; longer ones are user time and
 * are replayed as `compute`. A choice of the importer: in app.script.txt 95 % of the gaps between
 * a worker's consecutive events are under 20 us (faults in a PVM guest under perf record).
 */
export const REPLAY_MIN_GAP_NS = 50_000;

export interface GenerateOptions {
  /** The input's name, for the header. */
  readonly source: string;
  /** What the input was: perf script text (the default) or an spfperf trace. */
  readonly format?: 'perf-script' | 'ndjson';
  /** Multiply replayed gaps by this (--time-scale). */
  readonly timeScale: number;
  readonly lines: number;
  readonly skipped: number;
}

export function protWord(prot: number): string {
  if ((prot & (PROT_READ | PROT_WRITE | PROT_EXEC)) === 0) return 'none';
  // x86: a writable or executable page is readable.
  return 'r' + (prot & PROT_WRITE ? 'w' : '') + (prot & PROT_EXEC ? 'x' : '');
}

/** A whole number of bytes as the language writes sizes: 1M, 8K, or 0x... */
export function sizeWord(n: number): string {
  if (n > 0 && n % (1 << 20) === 0) return `${n / (1 << 20)}M`;
  if (n > 0 && n % 1024 === 0) return `${n / 1024}K`;
  return n === 0 ? '0' : `0x${n.toString(16)}`;
}

/** The largest base page size of the machines spfperf models (powerpc's 64 KiB). */
const MAX_PAGE = 64 * 1024;

const offWord = (n: number): string => (n === 0 ? '0' : `0x${n.toString(16)}`);

function durWord(ns: number): string {
  const r = Math.round(ns);
  return r % 1000 === 0 ? `${r / 1000}us` : `${r}ns`;
}

const hexAddr = (a: number): string => `0x${a.toString(16)}`;

export function regionName(m: Mapping): string {
  return m.synth === null ? `m${m.id}` : `${m.synth}${m.id}`;
}

/** Is this mapping mapped before the threads start (see the file comment)? */
export function hoisted(m: Mapping): boolean {
  return m.synth !== null || m.users.size > 1;
}

function safeComm(c: string): string {
  return c.replace(/[^A-Za-z0-9._-]/g, '_') || 'task';
}

/** Is a range call whole pages of every page size (see Writer.ranged())? */
function aligned(off: number, len: number, m: Mapping): boolean {
  const end = Math.min(off + len, m.len);
  return off % MAX_PAGE === 0 && (end % MAX_PAGE === 0 || end === m.len);
}

const SHARED_DROP = 'of a mapping several threads use (kept mapped, with the union of its protections)';

/**
 * Before writing: what the replay will leave out (the header lists it first), and which of the
 * processes the trace starts with need the page size `ps` (a range call not whole 64 KiB pages
 * somewhere in them or in a child they fork).
 */
function prepass(as: AddressSpace): { dropped: Map<string, number>; needsPs: Set<number> } {
  const dropped = new Map<string, number>();
  const needsPs = new Set<number>();
  const topOf = (pid: number): number => {
    let p = as.processes.get(pid)!;
    while (p.parent !== null) p = as.processes.get(p.parent)!;
    return p.pid;
  };
  for (const th of as.threads.values()) {
    for (const op of th.ops) {
      if (op.k !== 'munmap' && op.k !== 'mprotect' && op.k !== 'madvise') continue;
      if (op.m === null) continue;
      if (op.k !== 'madvise' && hoisted(op.m)) {
        const why = `${op.k} ${SHARED_DROP}`;
        dropped.set(why, (dropped.get(why) ?? 0) + 1);
      } else if (!aligned(op.off, op.len, op.m)) needsPs.add(topOf(th.pid));
    }
  }
  return { dropped, needsPs };
}

/** Lines out, in chunks of about 64 KiB to `write` (the script is never held whole). */
class Writer {
  private buf: string[] = [];
  private size = 0;
  constructor(
    readonly as: AddressSpace,
    readonly o: GenerateOptions,
    private readonly write: (chunk: string) => void,
  ) {}

  emit(line: string): void {
    this.buf.push(line);
    this.size += line.length + 1;
    if (this.size >= 1 << 16) this.flush();
  }

  flush(): void {
    if (this.buf.length === 0) return;
    this.write(this.buf.join('\n') + '\n');
    this.buf = [];
    this.size = 0;
  }

  mmapLine(m: Mapping, ind: string, prot: number, comm: string): string {
    const opts =
      m.kind === 'file' ? `private file "/imported/${safeComm(comm)}/${m.file}"`
      : m.kind === 'shared-anon' ? 'shared anon'
      : m.kind === 'stack' ? 'private anon stack'
      : 'private anon';
    return `${ind}${regionName(m)} = mmap ${sizeWord(m.len)} ${protWord(prot)} ${opts}`;
  }

  process(p: ProcessRecord, ind: string, startNs: number): void {
    // (A brk heap whose break never grew has no pages: nothing to map.)
    const pre = this.as.mappings.filter((m) => m.pid === p.pid && hoisted(m) && m.len > 0);
    for (const m of pre) {
      const why =
        m.synth !== null ? `synthesized ${m.synth}: ${hexAddr(m.start)}-${hexAddr(m.start + m.len)}, ${m.faults} fault${m.faults === 1 ? '' : 's'}`
        : `mapped at ${hexAddr(m.start)} by tid ${m.creator} at +${durWord(m.ns - this.as.summary.firstNs)}; used by ${m.users.size} threads`;
      this.emit(`${this.mmapLine(m, ind, m.protUnion, p.comm)}   # ${why}`);
    }
    if (p.tids.length === 1) {
      this.thread(this.as.threads.get(p.tids[0])!, ind, startNs);
      return;
    }
    this.emit(`${ind}threads ${p.tids.length} {`);
    p.tids.forEach((tid, i) => {
      const th = this.as.threads.get(tid)!;
      this.emit(`${ind}  if $tid == ${i} {   # tid ${tid} (${th.comm})`);
      this.thread(th, ind + '    ', startNs);
      this.emit(`${ind}  }`);
    });
    this.emit(`${ind}}`);
  }

  /**
   * A range operation: as it is when its start and end are whole numbers of the largest page
   * size (64 KiB, powerpc). Otherwise as it is where pages are 4 KiB (the recording's), and on
   * bigger pages over whole ones: the kernel refuses a start that is not page aligned (EINVAL)
   * and rounds the end up, so the range is widened (a grant of protection: nothing a later touch
   * expects is taken away) or narrowed (munmap, madvise, a removal of protection), or left out
   * when nothing of it is left.
   */
  ranged(off: number, len: number, m: Mapping, ind: string, widen: boolean, stmt: (off: number, len: number) => string): void {
    if (aligned(off, len, m)) {
      this.emit(`${ind}${stmt(off, len)}`);
      return;
    }
    const end = Math.min(off + len, m.len);
    const wholeEnd = Math.ceil(m.len / MAX_PAGE) * MAX_PAGE;
    const lo = widen ? Math.floor(off / MAX_PAGE) * MAX_PAGE : Math.ceil(off / MAX_PAGE) * MAX_PAGE;
    const hi = widen ? Math.min(Math.ceil(end / MAX_PAGE) * MAX_PAGE, wholeEnd) : end === m.len ? wholeEnd : Math.floor(end / MAX_PAGE) * MAX_PAGE;
    const big = hi > lo ? ` else { ${stmt(lo, hi - lo)} }` : '';
    this.emit(`${ind}if ps == 4K { ${stmt(off, len)} }${big}`);
  }

  gap(ns: number, ind: string): void {
    if (ns > REPLAY_MIN_GAP_NS && Math.round(ns * this.o.timeScale) > 0) this.emit(`${ind}compute ${durWord(ns * this.o.timeScale)}`);
  }

  /** The faults i..limit-1 of a thread's TouchLog, consecutive pages grouped; returns the time of the last. */
  touches(T: TouchLog, from: number, limit: number, ind: string, t: number): number {
    for (let i = from; i < limit; i++) {
      this.gap(T.ns[i] - t, ind);
      const id = T.map[i];
      const f = T.flags[i];
      let j = i;
      while (j + 1 < limit && T.map[j + 1] === id && T.flags[j + 1] === f && T.addr[j + 1] === T.addr[j] + PAGE && T.ns[j + 1] - T.ns[j] <= REPLAY_MIN_GAP_NS) j++;
      const m = this.as.mapping(id);
      const n = j - i + 1;
      const len = n === 1 ? '1' : sizeWord(n * PAGE);
      this.emit(`${ind}touch ${regionName(m)} ${f & TOUCH_WRITE ? 'write' : 'read'} offset ${offWord(T.addr[i] - m.start)} length ${len}${n > 1 ? `   # ${n} faults` : ''}`);
      t = T.ns[j];
      i = j;
    }
    return t;
  }

  thread(th: ThreadRecord, ind: string, startNs: number): void {
    let t = startNs;
    let ti = 0;
    for (const op of th.ops) {
      t = this.touches(th.touches, ti, op.at, ind, t);
      ti = op.at;
      this.gap(op.ns - t, ind);
      t = op.ns;
      switch (op.k) {
        case 'mmap':
          if (!hoisted(op.m) && op.m.len > 0) this.emit(this.mmapLine(op.m, ind, op.m.prot, th.comm));
          break;
        case 'munmap':
        case 'mprotect': {
          if (hoisted(op.m)) break; // counted by prepass()
          const what = op.k === 'munmap' ? `munmap ${regionName(op.m)}` : `mprotect ${regionName(op.m)} ${protWord(op.prot)}`;
          // A grant of more protection is widened to whole big pages, anything else narrowed.
          const widen = op.k === 'mprotect' && (op.prot & ~op.before) !== 0;
          this.ranged(op.off, op.len, op.m, ind, widen, (off, len) => (off === 0 && len >= op.m.len ? what : `${what} offset ${offWord(off)} length ${sizeWord(len)}`));
          break;
        }
        case 'madvise': {
          if (op.m === null) break;
          const what = `madvise ${regionName(op.m)} ${op.advice}`;
          this.ranged(op.off, op.len, op.m, ind, false, (off, len) => `${what} offset ${offWord(off)} length ${sizeWord(len)}`);
          break;
        }
        case 'fork': {
          const child = this.as.processes.get(op.child)!;
          this.emit(`${ind}fork {   # pid ${child.pid}`);
          this.process(child, ind + '  ', op.ns);
          this.emit(`${ind}}`);
          break;
        }
      }
    }
    this.touches(th.touches, ti, th.touches.n, ind, t);
  }
}

/**
 * Write the whole script to `write`, in chunks: the header comment, then one `process` per
 * process the trace starts with. Returns how many events the import dropped in all (recorded but
 * not replayed).
 */
export function writeScript(as: AddressSpace, o: GenerateOptions, write: (chunk: string) => void): { dropped: number } {
  const pre = prepass(as);
  const w = new Writer(as, o, write);
  for (const l of header(as, o, pre.dropped)) w.emit(l);
  w.emit('');
  for (const p of as.processes.values()) {
    if (p.parent !== null) continue;
    w.emit(`process "${safeComm(p.comm)}" {   # pid ${p.pid}`);
    if (pre.needsPs.has(p.pid)) {
      w.emit('  pagesize = mmap 64K none private anon   # only to learn the page size: 4K, or 64K on powerpc');
      w.emit('  let ps = 64K / pages(pagesize)');
    }
    w.process(p, '  ', as.summary.firstNs);
    w.emit('}');
  }
  w.flush();
  const dropped = [...as.summary.dropped.values(), ...pre.dropped.values()].reduce((a, b) => a + b, 0);
  return { dropped };
}

/** writeScript() into one string. */
export function generateScript(as: AddressSpace, o: GenerateOptions): { text: string; dropped: number } {
  const chunks: string[] = [];
  const { dropped } = writeScript(as, o, (c) => chunks.push(c));
  return { text: chunks.join(''), dropped };
}

function header(as: AddressSpace, o: GenerateOptions, replayDropped: ReadonlyMap<string, number>): string[] {
  const s = as.summary;
  const h: string[] = [];
  const procs = as.processes.size;
  const threads = as.threads.size;
  const what = o.format === 'ndjson' ? ['an spfperf trace', 'importable'] : ['perf script text', 'perf script text'];
  h.push(`# Imported by spfperf import from ${o.source} (${what[0]}, ${o.lines} lines${o.skipped > 0 ? `, ${o.skipped} not ${what[1]} skipped` : ''}).`);
  h.push(`# Recording: ${((s.lastNs - s.firstNs) / 1e6).toFixed(3)} ms of ${procs} process${procs === 1 ? '' : 'es'}, ${threads} thread${threads === 1 ? '' : 's'}.`);
  const ev = [...s.events.entries()].sort((a, b) => b[1] - a[1]).map(([k, n]) => `${n} ${k}`);
  h.push(`# Events: ${ev.join(', ')}.`);
  const synth = as.mappings.filter((m) => m.synth !== null);
  if (synth.length > 0) {
    h.push(`# Synthesized mappings (faults at addresses no recorded mmap covered: the binary, the loader, the stack,`);
    h.push(`# anything mapped before the recording): ${synth.length}, taking ${synth.reduce((n, m) => n + m.faults, 0)} faults:`);
    const what = { stack: 'stack', heap: 'anonymous (the brk heap, or a binary\'s data and bss)', image: 'file-backed image' };
    for (const m of synth) h.push(`#   ${regionName(m)}: ${what[m.synth!]} at ${hexAddr(m.start)}-${hexAddr(m.start + m.len)}, ${protWord(m.protUnion)}, ${m.faults} fault${m.faults === 1 ? '' : 's'}`);
  }
  const dropped = new Map(s.dropped);
  for (const [k, n] of replayDropped) dropped.set(k, (dropped.get(k) ?? 0) + n);
  if (dropped.size > 0) {
    h.push('# Dropped:');
    for (const [k, n] of dropped) h.push(`#   ${n} ${k}`);
  }
  h.push(`# Replay: each fault a touch of its page (an instruction fetch a read of an executable mapping); gaps of a`);
  h.push(`# thread over ${durWord(REPLAY_MIN_GAP_NS)} become compute${o.timeScale !== 1 ? `, scaled by ${o.timeScale}` : ''}; addresses are remapped, offsets in each mapping kept.`);
  return h;
}
