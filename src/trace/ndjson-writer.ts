import { closeSync, fsyncSync, lstatSync, openSync, readlinkSync, realpathSync, renameSync, statSync, unlinkSync, writeSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { errnoText, UsageError } from '../errors.js';
import { EV, eventById, type SelectedEvent } from '../events/catalog.js';
import { kernelIp, ksymName } from '../events/ksym.js';
import { FAULT_MAJOR, FAULT_RETRIED, FAULT_SIGNAL_SHIFT, FAULT_SPEC, FAULT_VMA_LOCK, type EventSource, type TraceSink } from './sink.js';

/**
 * Writing `spfperf record` traces: NDJSON, one JSON object per line (docs/trace-format.md).
 *
 *   NdjsonWriter  batches lines into ~1 MB chunks and writes them to a file (synchronously) or a
 *                 stream (waiting for 'drain' when the stream asks for it: stdout pipes).
 *   RecordSink    the TraceSink of a record run: one sample line per event occurrence.
 *
 * Lines are built as strings (JSON.stringify only for strings that need escaping): ndjson's own
 * stringify is several times slower.
 */

/** Version of the trace layout (the `trace_format` of the header line). */
export const TRACE_FORMAT = 1;

/** Where chunks go. */
export interface ChunkOutput {
  /** Write one chunk; a promise when the caller must wait before writing more (backpressure). */
  write(chunk: string): Promise<void> | undefined;
  /** Everything written so far has reached the output. */
  end(): Promise<void>;
}

/** A file written with write(2) (synchronous: a file never pushes back). */
export class FileOutput implements ChunkOutput {
  constructor(private readonly fd: number) {}
  write(chunk: string): undefined {
    const buf = Buffer.from(chunk, 'utf8');
    let off = 0;
    while (off < buf.length) off += writeSync(this.fd, buf, off, buf.length - off);
    return undefined;
  }
  async end(): Promise<void> {}
}

/** A writable stream (stdout). Waits for 'drain' when write() returns false. */
export class StreamOutput implements ChunkOutput {
  private failed: Error | null = null;
  constructor(private readonly stream: NodeJS.WritableStream) {
    stream.on('error', (e: Error) => {
      this.failed = e;
    });
  }
  write(chunk: string): Promise<void> | undefined {
    if (this.failed !== null) throw this.failed;
    if (this.stream.write(chunk)) return undefined;
    return new Promise<void>((resolve, reject) => {
      const done = (e?: Error): void => {
        this.stream.off('drain', ok);
        this.stream.off('error', done);
        if (e !== undefined) reject(e);
        else resolve();
      };
      const ok = (): void => done();
      this.stream.once('drain', ok);
      this.stream.once('error', done);
    });
  }
  end(): Promise<void> {
    // Resolve once everything queued so far is flushed (an empty write's callback comes last).
    return new Promise<void>((resolve, reject) => {
      if (this.failed !== null) return reject(this.failed);
      this.stream.write('', (e?: Error | null) => (e ? reject(e) : resolve()));
    });
  }
}

/** Lines in, ~`chunkBytes` chunks out. */
export class NdjsonWriter {
  private parts: string[] = [];
  private size = 0;
  /** Sealed chunks waiting for the output (only while a stream pushes back). */
  private queue: string[] = [];
  private waiting: Promise<void> | null = null;
  /** Bytes (UTF-16 code units, close enough) and lines handed to the writer. */
  bytes = 0;
  lines = 0;

  constructor(
    private readonly out: ChunkOutput,
    private readonly chunkBytes = 1 << 20,
  ) {}

  /** Add one line (with its '\n'). Synchronous: the simulation calls it from its sinks. */
  line(s: string): void {
    this.parts.push(s);
    this.size += s.length;
    this.lines++;
    if (this.size >= this.chunkBytes) this.seal();
  }

  private seal(): void {
    if (this.parts.length === 0) return;
    const chunk = this.parts.join('');
    this.parts = [];
    this.bytes += this.size;
    this.size = 0;
    if (this.waiting !== null) {
      this.queue.push(chunk);
      return;
    }
    const w = this.out.write(chunk);
    if (w !== undefined) {
      this.waiting = w.then(() => this.flushQueue());
      // The error is seen by whoever awaits drain() or end(); not an unhandled rejection meanwhile.
      this.waiting.catch(() => {});
    }
  }

  private async flushQueue(): Promise<void> {
    while (this.queue.length > 0) {
      const w = this.out.write(this.queue.shift()!);
      if (w !== undefined) await w;
    }
    this.waiting = null;
  }

  /**
   * Wait until the output has taken the chunks written so far (nothing to wait for with a file).
   * Called between slices of the simulation, so a slow reader slows the recorder down instead of
   * letting chunks pile up in memory.
   */
  drain(): Promise<void> | undefined {
    return this.waiting ?? undefined;
  }

  /** Write what is buffered and wait until the output has it all. */
  async end(): Promise<void> {
    this.seal();
    while (this.waiting !== null) await this.waiting;
    await this.out.end();
  }
}

/**
 * An output file written as FILE.tmp and renamed to FILE when complete, so a file under the
 * final name is always whole. Only a regular file (or a name not there yet) is replaced that way:
 *  - a symlink is followed: the temporary file sits beside its target and is renamed over the
 *    target, so the link stays (a dangling link's target is created);
 *  - anything else that is there (a device such as /dev/null, a FIFO, a socket) is written in
 *    place, as a shell's `>` does: renaming over it would replace a device node with a file.
 */
export class AtomicFile {
  /** The file being written: FILE.tmp, or the target itself when written in place. */
  readonly tmp: string;
  readonly fd: number;
  /** Written in place (not a regular file): no rename, no fsync, and discard() leaves it. */
  readonly inPlace: boolean;
  private readonly final: string;
  private closed = false;

  constructor(readonly path: string) {
    const st = statSync(path, { throwIfNoEntry: false }); // follows symlinks
    if (st !== undefined && !st.isFile()) {
      this.inPlace = true;
      this.final = path;
      this.tmp = path;
      // O_WRONLY without O_CREAT; a FIFO blocks here until a reader opens it, as with `>`.
      this.fd = openSync(path, 'w');
      return;
    }
    this.inPlace = false;
    const lst = lstatSync(path, { throwIfNoEntry: false });
    this.final = !lst?.isSymbolicLink() ? path : st !== undefined ? realpathSync(path) : resolve(dirname(path), readlinkSync(path));
    this.tmp = `${this.final}.tmp`;
    this.fd = openSync(this.tmp, 'w');
  }

  commit(): void {
    if (!this.inPlace) fsyncSync(this.fd);
    closeSync(this.fd);
    this.closed = true;
    if (!this.inPlace) renameSync(this.tmp, this.final);
  }

  discard(): void {
    try {
      if (!this.closed) closeSync(this.fd);
    } catch {
      /* already closed */
    }
    this.closed = true;
    if (this.inPlace) return;
    try {
      unlinkSync(this.tmp);
    } catch {
      /* already gone */
    }
  }
}

/**
 * Where a recording goes (record -o, lock record -o): `-` is `stdout`, anything else an AtomicFile
 * (null for stdout). A directory is refused here, since it would only fail at the final rename,
 * after the whole run; so is a file that cannot be opened.
 */
export function openTraceOutput(target: string, stdout: NodeJS.WritableStream): { file: AtomicFile | null; out: ChunkOutput } {
  if (target === '-') return { file: null, out: new StreamOutput(stdout) };
  let file: AtomicFile;
  try {
    if (statSync(target, { throwIfNoEntry: false })?.isDirectory()) throw Object.assign(new Error('is a directory'), { code: 'EISDIR' });
    file = new AtomicFile(target);
  } catch (e) {
    throw new UsageError(`cannot write '${target}': ${errnoText(e as NodeJS.ErrnoException)}`);
  }
  return { file, out: new FileOutput(file.fd) };
}

const hex = (n: number): string => `"0x${n.toString(16)}"`;

/** A syscall's return value as the kernel's unsigned long: -errno is 0xffff...fff4. */
const ulong = (n: number): string => (n >= 0 ? hex(n) : `"0x${((1n << 64n) + BigInt(n)).toString(16)}"`);
/** Fields of an address-space call that are addresses and lengths (hex strings, as `address`). */
const CALL_HEX = new Set(['addr', 'len', 'start', 'len_in']);

/**
 * The fields of an address-space call's sample (docs/trace-format.md, "Address-space calls"):
 * addresses and lengths as hex strings, the returned value as the kernel's unsigned long, other
 * arguments (prot, flags, fd, off, behavior, pids, prio) as numbers; sched_process_fork's
 * child_comm is the parent's comm (a fork copies it), group_dead a boolean.
 */
function callFields(id: number, src: EventSource, f: readonly number[]): string {
  const names = eventById(id).fields;
  const out: string[] = [];
  for (let i = 0; i < names.length; i++) {
    const n = names[i];
    const v = n === 'ret' ? ulong(f[i]) : CALL_HEX.has(n) ? hex(f[i]) : n === 'group_dead' ? String(f[i] !== 0) : String(f[i]);
    out.push(`"${n}":${v}`);
    if (n === 'parent_pid') out.push(`"child_comm":${JSON.stringify(src.comm)}`);
  }
  return out.join(',');
}

/** Software events that the model counts one occurrence at a time, so they can be recorded. */
export const RECORDABLE_SW: ReadonlySet<number> = new Set([EV.PAGE_FAULTS, EV.MINOR_FAULTS, EV.MAJOR_FAULTS, EV.SPF]);

/** The events whose samples carry their fault's outcome and latency: the recordable fault counts. */
export const FAULT_EVENTS: ReadonlySet<number> = RECORDABLE_SW;

/**
 * The fields a fault sample carries about its fault (docs/trace-format.md): how it completed
 * and its latency, then the line's end.
 */
export function faultFields(startNs: number, endNs: number, outcome: number, ip = 0, addr = 0): string {
  const path = outcome & FAULT_SPEC ? (outcome & FAULT_VMA_LOCK ? 'vma' : 'spec') : 'mmap';
  const sig = outcome >>> FAULT_SIGNAL_SHIFT;
  // perf's sample ip (the user instruction: the workload's statement, user-ip.ts) and data address.
  const where = ip !== 0 ? `,"ip":${hex(ip)},"address":${hex(addr)}` : '';
  return `${where},"path":"${path}","retry":${(outcome & FAULT_RETRIED) !== 0},"major":${(outcome & FAULT_MAJOR) !== 0}${sig !== 0 ? `,"signal":${sig}` : ''},"latency_ns":${Math.round(endNs - startNs)}}\n`;
}

/**
 * The sink of `spfperf record`: a sample line per occurrence of each selected event.
 *
 *   {"type":"sample","ts":123,"cpu":1,"pid":1000,"tid":1001,"comm":"ebizzy","event":"faults",
 *    "ip":"0x401790","address":"0x7f0000001000","path":"spec","retry":false,"major":false,"latency_ns":812}
 *   {"type":"sample",...,"event":"pagefault:spf_vma_changed","caller":"0xffffffff81200123",
 *    "sym":"__handle_speculative_fault+0x123","vm_start":"0x7f..","vm_end":"0x7f..","address":"0x7f.."}
 *
 * `event` is the name the user selected (perf prints that name: `faults`, not `page-faults`).
 *
 * The samples of the fault events (FAULT_EVENTS) carry how their fault completed, which the model
 * says only at its end (faultDone()): while a thread is in a fault, its lines are held and
 * written together when the fault ends, in the order they came.
 */
export class RecordSink implements TraceSink {
  readonly traced: ReadonlySet<number>;
  /** Wants faultDone(): some fault event is recorded. */
  readonly wantsFaults: boolean;
  /** Per event id: its `"event":"name"` text, or undefined when not recorded. */
  private readonly evText: (string | undefined)[] = [];
  /** Per event id: 1 when a software event is recorded from count() calls. */
  private readonly swSel: Uint8Array;
  /** Per thread index: `"pid":..,"tid":..,"comm":".."`. */
  private readonly who: string[] = [];
  /**
   * Per thread index, while it is in a fault: the lines held until the fault ends; a fault
   * sample's line is held without its end (faultFields() completes it).
   */
  private readonly open: (string[] | undefined)[] = [];
  /** Samples written, per event id. */
  readonly written: number[];

  constructor(
    events: readonly SelectedEvent[],
    private readonly w: NdjsonWriter,
    numEvents: number,
  ) {
    this.swSel = new Uint8Array(numEvents);
    this.written = new Array<number>(numEvents).fill(0);
    const traced = new Set<number>();
    let faults = false;
    for (const e of events) {
      this.evText[e.id] = `"event":${JSON.stringify(e.name)}`;
      if (eventById(e.id).kind === 'tp') traced.add(e.id);
      // cpu-clock's samples come from the run's sampler (record writes them), not from its count.
      else if (e.id !== EV.CPU_CLOCK) this.swSel[e.id] = 1;
      if (FAULT_EVENTS.has(e.id)) faults = true;
    }
    this.traced = traced;
    this.wantsFaults = faults;
  }

  private prefix(src: EventSource): string {
    let s = this.who[src.idx];
    if (s === undefined) {
      s = `"pid":${src.pid},"tid":${src.tid},"comm":${JSON.stringify(src.comm)}`;
      this.who[src.idx] = s;
    }
    return `{"type":"sample","ts":${Math.round(src.timeNow())},"cpu":${src.cpuNow()},${s},`;
  }

  /** A line of `src`: held while it is in a fault, else written. */
  private put(src: EventSource, line: string): void {
    const held = this.open[src.idx];
    if (held !== undefined) held.push(line);
    else this.w.line(line);
  }

  count(id: number, src: EventSource, n: number): void {
    // page-faults is counted when the exception comes: the thread is in a fault from here.
    if (id === EV.PAGE_FAULTS && this.wantsFaults) this.open[src.idx] ??= [];
    if (this.swSel[id] === 0 || n === 0) return;
    this.written[id]++;
    const line = `${this.prefix(src)}${this.evText[id]}${n === 1 ? '' : `,"period":${n}`}`;
    const held = this.open[src.idx];
    if (held !== undefined && FAULT_EVENTS.has(id)) held.push(line);
    else this.put(src, `${line}}\n`);
  }

  sample(id: number, src: EventSource, f: readonly number[]): void {
    const ev = this.evText[id];
    if (ev === undefined) return;
    this.written[id]++;
    let fields: string;
    if (eventById(id).fields[0] === 'caller') {
      const sym = ksymName(f[0]);
      fields = `"caller":"0x${kernelIp(f[0])}"${sym === undefined ? '' : `,"sym":"${sym}"`},"vm_start":${hex(f[1])},"vm_end":${hex(f[2])},"address":${hex(f[3])}`;
    } else if (eventById(id).callEvent === true) {
      fields = callFields(id, src, f);
    } else {
      // exceptions:page_fault_user / _kernel: address, ip, error_code.
      fields = `"address":${hex(f[0])},"ip":${hex(f[1])},"error_code":${f[2]}`;
    }
    this.put(src, `${this.prefix(src)}${ev},${fields}}\n`);
  }

  faultDone(src: EventSource, startNs: number, endNs: number, outcome: number, ip = 0, addr = 0): void {
    const held = this.open[src.idx];
    if (held === undefined) return;
    this.open[src.idx] = undefined;
    if (held.length === 0) return;
    const end = faultFields(startNs, endNs, outcome, ip, addr);
    for (const l of held) this.w.line(l.endsWith('\n') ? l : l + end);
  }

  /**
   * Write the lines of faults that never ended (the run was stopped in the middle of them):
   * their fault samples have no outcome fields.
   */
  flushOpen(): void {
    for (let i = 0; i < this.open.length; i++) {
      const held = this.open[i];
      if (held === undefined) continue;
      this.open[i] = undefined;
      for (const l of held) this.w.line(l.endsWith('\n') ? l : `${l}}\n`);
    }
  }
}
