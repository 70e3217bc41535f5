import { createReadStream } from 'node:fs';
import { StringDecoder } from 'node:string_decoder';
import type { Readable } from 'node:stream';
import { errnoText, UsageError } from '../errors.js';
import { headerProblem, stripBom, summaryProblem } from './header.js';
import { TRACE_FORMAT } from './ndjson-writer.js';
import type { ChainFrame } from './callchain.js';

/**
 * Reading `spfperf record` traces as a stream, in bounded memory whatever their size: chunks are
 * split into lines here (faster than readline), each line is JSON.parse'd and handed on.
 *
 * A line that does not parse, or is not a record of a known type, is skipped and reported with its
 * line number (`spfperf: FILE:LINE: skipped: ...`); the first record must be the header with a
 * trace format this build reads and fields of the types the writer gives them (./header.ts, shared
 * with diff's --save reader), or reading fails (exit 1). A summary line with a field of the wrong
 * type is skipped like any bad line.
 */

/** The header line: the run description (describeRun) plus what was recorded. */
export interface TraceHeader {
  readonly type: 'header';
  readonly trace_format: number;
  readonly spfperf?: string;
  /** The command line of the workload as given (`ebizzy threads=4`). */
  readonly command?: string;
  /** Recorded events, under the names the user gave. */
  readonly events?: readonly string[];
  readonly workload?: { readonly name?: string; readonly file?: string; readonly args?: readonly string[]; readonly params?: Record<string, number | string> };
  readonly arch?: string;
  readonly machine?: string;
  readonly cpus?: number;
  readonly config?: { readonly label?: string };
  readonly seeds?: readonly number[];
  readonly [k: string]: unknown;
}

/** One event occurrence. Hex strings for addresses; `period` only when not 1. */
export interface TraceSample {
  readonly type: 'sample';
  readonly ts: number;
  readonly cpu: number;
  readonly pid: number;
  readonly tid: number;
  readonly comm: string;
  readonly event: string;
  readonly period?: number;
  readonly caller?: string;
  readonly sym?: string;
  readonly vm_start?: string;
  readonly vm_end?: string;
  readonly address?: string;
  readonly ip?: string;
  readonly error_code?: number;
  /** Fault samples (faults, minor-faults, ...) of newer traces: how the fault completed. */
  readonly path?: string;
  readonly retry?: boolean;
  readonly major?: boolean;
  /** cpu-clock samples recorded with -g: the frames, innermost first (src/trace/callchain.ts). */
  readonly callchain?: readonly ChainFrame[];
  /** The address-space calls' samples (syscalls:*, sched:*; docs/trace-format.md). */
  readonly addr?: string;
  readonly len?: string;
  readonly start?: string;
  readonly len_in?: string;
  readonly ret?: string | number;
  readonly prot?: number;
  readonly flags?: number;
  readonly fd?: number;
  readonly off?: number;
  readonly behavior?: number;
  readonly parent_pid?: number;
  readonly child_pid?: number;
  readonly child_comm?: string;
  readonly prio?: number;
  readonly group_dead?: boolean;
}

/** The last line: totals of the run (runValues) and what was written. */
export interface TraceSummary {
  readonly type: 'summary';
  readonly elapsed?: number;
  readonly user?: number;
  readonly sys?: number;
  readonly counters?: Record<string, number>;
  readonly vmstat?: Record<string, number>;
  readonly metrics?: Record<string, { value: number; unit: string }>;
  /** Sample lines written, per event name. */
  readonly samples?: Record<string, number>;
  /** True when the recording was stopped (Ctrl-C) before the workload finished. */
  readonly stopped?: boolean;
  readonly [k: string]: unknown;
}

export interface TraceHandlers {
  header?(h: TraceHeader): void;
  /**
   * Each sample. Without it, sample lines are only counted, not parsed (a reader that wants the
   * header and summary of a large trace, such as diff's, does not pay for every line).
   */
  sample?(s: TraceSample, line: number): void;
  summary?(s: TraceSummary): void;
  /** Awaited after each input chunk when it returns a promise (the reader's output is full). */
  afterChunk?(): Promise<void> | undefined;
}

export interface ReadStats {
  /** Lines read (the last one counted even without its newline). */
  lines: number;
  /** Lines skipped (corrupt, truncated, not a record). */
  skipped: number;
  samples: number;
  header: TraceHeader | null;
  summary: TraceSummary | null;
}

/** A line longer than this is not a trace record: it is skipped without being held whole. */
const MAX_LINE = 16 << 20;
/** How the writer starts every sample line (ndjson-writer.ts). */
const SAMPLE_PREFIX = '{"type":"sample",';
/** Skipped lines reported one by one; the rest are only counted. */
const MAX_REPORTED = 20;

export interface ReadOptions {
  /** File name for messages. */
  readonly name: string;
  /** Where skip messages go (default: nowhere; they are counted in `skipped` all the same). */
  readonly warn?: (msg: string) => void;
}

function describeValue(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  return typeof v === 'object' ? 'an object' : `a ${typeof v}`;
}

/** The optional fields of a sample (TraceSample) and the type of each. */
const OPTIONAL_SAMPLE_FIELDS: ReadonlyArray<readonly [string, 'string' | 'number' | 'boolean']> = [
  ['period', 'number'],
  ['caller', 'string'],
  ['sym', 'string'],
  ['vm_start', 'string'],
  ['vm_end', 'string'],
  ['address', 'string'],
  ['ip', 'string'],
  ['error_code', 'number'],
  ['path', 'string'],
  ['retry', 'boolean'],
  ['major', 'boolean'],
  // The address-space calls' samples (syscalls:*, sched:*).
  ['addr', 'string'],
  ['len', 'string'],
  ['start', 'string'],
  ['len_in', 'string'],
  // sys_exit_mmap's `ret` is a hex string; lock:contention_end's a number: import checks it.
  ['prot', 'number'],
  ['flags', 'number'],
  ['fd', 'number'],
  ['off', 'number'],
  ['behavior', 'number'],
  ['parent_pid', 'number'],
  ['child_pid', 'number'],
  ['child_comm', 'string'],
  ['prio', 'number'],
  ['group_dead', 'boolean'],
];

/** Why a parsed value is not a usable sample, or null when it is. */
function badSample(o: Record<string, unknown>): string | null {
  if (typeof o.event !== 'string') return "sample without an 'event'";
  if (typeof o.ts !== 'number') return "sample without a numeric 'ts'";
  if (typeof o.tid !== 'number' || typeof o.pid !== 'number') return "sample without numeric 'pid' and 'tid'";
  if (typeof o.cpu !== 'number') return "sample without a numeric 'cpu'";
  if (typeof o.comm !== 'string') return "sample without a 'comm'";
  // The optional fields, when present, have their type: report and script read them as such.
  for (const [k, type] of OPTIONAL_SAMPLE_FIELDS) if (o[k] !== undefined && typeof o[k] !== type) return `sample with ${describeValue(o[k])} for '${k}' (${type === 'string' ? 'a string' : `a ${type}`} expected)`;
  if (o.callchain !== undefined) {
    if (!Array.isArray(o.callchain)) return `sample with ${describeValue(o.callchain)} for 'callchain' (an array expected)`;
    for (const f of o.callchain as unknown[]) {
      const fr = f as Record<string, unknown> | null;
      if (typeof fr !== 'object' || fr === null || typeof fr.ip !== 'string' || typeof fr.sym !== 'string' || (fr.dso !== undefined && typeof fr.dso !== 'string')) {
        return "sample with a 'callchain' frame that is not {ip, sym[, dso]} (strings)";
      }
    }
  }
  return null;
}

/**
 * Read a whole trace from `input`, calling the handlers as records come. Resolves with what was
 * read; rejects (UsageError) on a missing header or an unknown trace format.
 */
export async function readTrace(input: Readable, h: TraceHandlers, o: ReadOptions): Promise<ReadStats> {
  const warn = o.warn ?? ((): void => {});
  const st: ReadStats = { lines: 0, skipped: 0, samples: 0, header: null, summary: null };
  const skip = (line: number, why: string): void => {
    st.skipped++;
    if (st.skipped <= MAX_REPORTED) warn(`spfperf: ${o.name}:${line}: skipped: ${why}\n`);
    else if (st.skipped === MAX_REPORTED + 1) warn(`spfperf: ${o.name}: more skipped lines are counted, not listed\n`);
  };

  const onSample = h.sample;
  const onLine = (text: string, line: number, complete: boolean): void => {
    if (text.length > 0 && text.charCodeAt(text.length - 1) === 13) text = text.slice(0, -1);
    if (text.length === 0) return;
    if (onSample === undefined && complete && st.header !== null && text.startsWith(SAMPLE_PREFIX)) {
      st.samples++;
      return;
    }
    let v: unknown;
    try {
      v = JSON.parse(text);
    } catch (e) {
      if (st.header === null) throw new UsageError(`${o.name}:${line}: not an spfperf trace: the first line is not a JSON header`);
      skip(line, complete ? `not valid JSON (${(e as Error).message})` : 'truncated line (the file ends in the middle of it)');
      return;
    }
    if (v === null || typeof v !== 'object' || Array.isArray(v)) {
      if (st.header === null) throw new UsageError(`${o.name}:${line}: not an spfperf trace: the first line is not a JSON header`);
      skip(line, `not a trace record (${describeValue(v)})`);
      return;
    }
    const r = v as Record<string, unknown>;
    if (st.header === null) {
      if (r.type !== 'header') throw new UsageError(`${o.name}:${line}: not an spfperf trace: no header line (the first record is ${typeof r.type === 'string' ? `a '${r.type}'` : 'untyped'})`);
      if (r.trace_format !== TRACE_FORMAT) {
        throw new UsageError(`${o.name}: trace format ${JSON.stringify(r.trace_format ?? null)} is not one this spfperf reads (it reads format ${TRACE_FORMAT})`);
      }
      const why = headerProblem(r);
      if (why !== null) throw new UsageError(`${o.name}:${line}: ${why}`);
      st.header = r as TraceHeader;
      h.header?.(st.header);
      return;
    }
    switch (r.type) {
      case 'sample': {
        const why = badSample(r);
        if (why !== null) return skip(line, why);
        st.samples++;
        onSample?.(r as unknown as TraceSample, line);
        return;
      }
      case 'summary': {
        const why = summaryProblem(r);
        if (why !== null) return skip(line, why);
        st.summary = r as TraceSummary;
        h.summary?.(st.summary);
        return;
      }
      case 'header':
        return skip(line, 'a second header line');
      default:
        return skip(line, typeof r.type === 'string' ? `unknown record type '${r.type}'` : "record without a 'type'");
    }
  };

  const dec = new StringDecoder('utf8');
  let carry = '';
  /** The current line is over MAX_LINE: drop it up to its newline. */
  let dropping = false;
  let lineNo = 0;
  let first = true;
  for await (const chunk of input) {
    let text = typeof chunk === 'string' ? chunk : dec.write(chunk as Buffer);
    // A UTF-8 byte-order mark before the header is dropped, as in a .spf script (header.ts).
    if (first && text.length > 0) {
      first = false;
      text = stripBom(text);
    }
    let start = 0;
    for (;;) {
      const nl = text.indexOf('\n', start);
      if (nl < 0) break;
      lineNo++;
      if (dropping) {
        dropping = false;
        skip(lineNo, `line longer than ${MAX_LINE} bytes`);
      } else if (carry.length > 0) {
        const full = carry + text.slice(start, nl);
        carry = '';
        onLine(full, lineNo, true);
      } else {
        onLine(text.slice(start, nl), lineNo, true);
      }
      start = nl + 1;
    }
    if (start < text.length && !dropping) {
      carry += text.slice(start);
      if (carry.length > MAX_LINE) {
        carry = '';
        dropping = true;
      }
    }
    const wait = h.afterChunk?.();
    if (wait !== undefined) await wait;
  }
  const rest = carry + dec.end();
  if (dropping) {
    lineNo++;
    skip(lineNo, `line longer than ${MAX_LINE} bytes`);
  } else if (rest.length > 0) {
    lineNo++;
    onLine(rest, lineNo, false);
  }
  st.lines = lineNo;
  if (st.header === null) throw new UsageError(`${o.name}: not an spfperf trace: no header line (the input is empty)`);
  return st;
}

/** The input of report/script: a file, or `stdin` for '-'. Errors opening it are UsageErrors. */
export async function openTraceInput(path: string, stdin: Readable): Promise<{ stream: Readable; name: string }> {
  if (path === '-') return { stream: stdin, name: '<stdin>' };
  const stream = createReadStream(path, { highWaterMark: 1 << 20 });
  await new Promise<void>((resolve, reject) => {
    stream.once('open', () => resolve());
    stream.once('error', (e: NodeJS.ErrnoException) => reject(new UsageError(`cannot open '${path}': ${errnoText(e)}`)));
  });
  return { stream, name: path };
}

export { errnoText };
