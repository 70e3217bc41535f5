import { closeSync, createReadStream, openSync, readFileSync, readSync, statSync } from 'node:fs';
import { UsageError } from '../errors.js';
import { savedProblem, stripBom, summaryProblem } from '../trace/header.js';
import { readTrace } from '../trace/ndjson-reader.js';
import { SAVE_FORMAT, type RunDescription, type RunSummary } from './save.js';

/**
 * Reading what `diff` compares: a `stat --save` document (one JSON value), or a `record` trace
 * (NDJSON: a {"type":"header",...} line with the run description, sample lines, and a final
 * {"type":"summary",...} line with the counters). A trace goes through the one trace reader
 * (src/trace/ndjson-reader.ts), streamed, its sample lines counted but not parsed, so a large
 * trace is neither held in memory nor parsed line by line.
 */

/** Largest --save document read (a saved run is a few KiB; this guards against a wrong file). */
const MAX_SAVE_BYTES = 64 * 1024 * 1024;

type Json = Record<string, unknown>;

function reason(e: unknown): string {
  const code = (e as NodeJS.ErrnoException).code;
  if (code === 'ENOENT') return 'no such file';
  if (code === 'EACCES' || code === 'EPERM') return 'permission denied';
  if (code === 'EISDIR') return 'is a directory';
  return (e as Error).message;
}

function notOurs(file: string, why = ''): UsageError {
  return new UsageError(`'${file}' is not an spfperf --save file or record trace${why}`);
}

function isObject(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function parse(line: string): unknown {
  try {
    return JSON.parse(line);
  } catch {
    return undefined;
  }
}

/** Does a value look like a run description (workload, config, machine)? */
function isDescription(d: Json): boolean {
  return isObject(d.workload) && typeof (d.workload as Json).name === 'string' && isObject(d.config) && typeof d.machine === 'string';
}

function checkFormat(file: string, d: Json): void {
  if (typeof d.format === 'number' && d.format > SAVE_FORMAT) {
    throw new UsageError(`'${file}' has format ${d.format}, newer than this spfperf reads (${SAVE_FORMAT})`);
  }
}

function summaryOf(file: string, desc: Json, values: Json): RunSummary {
  if (!isObject(values.counters)) throw notOurs(file, ' (no counters)');
  const num = (v: unknown): number => (typeof v === 'number' ? v : NaN);
  return {
    ...(desc as unknown as RunDescription),
    elapsed: num(values.elapsed),
    user: num(values.user),
    sys: num(values.sys),
    counters: values.counters as Record<string, number>,
    vmstat: isObject(values.vmstat) ? (values.vmstat as Record<string, number>) : {},
    metrics: isObject(values.metrics) ? (values.metrics as RunSummary['metrics']) : {},
    counts: isObject(values.counts) ? (values.counts as Record<string, number>) : {},
    ...(isObject(values.phases) ? { phases: values.phases as NonNullable<RunSummary['phases']> } : {}),
  };
}

/** The file's first line (up to `max` bytes), read without reading the rest. */
function firstLine(file: string, max = 1 << 20): string {
  const fd = openSync(file, 'r');
  try {
    const buf = Buffer.alloc(64 * 1024);
    const parts: Buffer[] = [];
    let total = 0;
    while (total < max) {
      const n = readSync(fd, buf, 0, buf.length, total);
      if (n === 0) break;
      const nl = buf.subarray(0, n).indexOf(10);
      parts.push(Buffer.from(buf.subarray(0, nl < 0 ? n : nl)));
      total += n;
      if (nl >= 0) break;
    }
    return Buffer.concat(parts).toString('utf8');
  } finally {
    closeSync(fd);
  }
}

/** A record trace: its header's run description and its summary's values. */
async function loadTrace(file: string): Promise<RunSummary> {
  let header: Json | null = null;
  let summary: Json | null = null;
  let badSummary: string | undefined;
  const stream = createReadStream(file, { highWaterMark: 1 << 20 });
  try {
    await readTrace(
      stream,
      {
        header: (h) => {
          if (!isDescription(h)) throw notOurs(file, ' (its header line has no run description)');
          checkFormat(file, h);
          header = h;
        },
        summary: (s) => {
          summary = s;
        },
      },
      {
        name: file,
        // A summary line the reader skipped (a field of the wrong type) is why there is none.
        warn: (m) => {
          if (badSummary === undefined && /: skipped: summary /.test(m)) badSummary = m.replace(/^spfperf: /, '').trim();
        },
      },
    );
  } catch (e) {
    if (e instanceof UsageError) throw e;
    throw new UsageError(`cannot read '${file}': ${reason(e)}`);
  } finally {
    stream.destroy();
  }
  if (summary === null && badSummary !== undefined) throw new UsageError(badSummary);
  if (summary === null) throw new UsageError(`'${file}' has no summary line (the recording did not finish)`);
  const { type: _t, ...desc } = header! as Json;
  return summaryOf(file, desc, summary);
}

/** A saved run with each of its runs: a `--save` document's `runs`, or a trace's one summary. */
export interface LoadedRun {
  readonly summary: RunSummary;
  /** Each run's values (with the run description), in the document's order. */
  readonly runs: readonly RunSummary[];
}

/** Read one input of `diff`. Every failure is a one-line UsageError naming the file. */
export async function loadRunSummary(file: string): Promise<RunSummary> {
  return (await load(file, false)).summary;
}

/** Read a `--save` document or a record trace, with its runs (plot's error bars). Errors as loadRunSummary's. */
export function loadRun(file: string): Promise<LoadedRun> {
  return load(file, true);
}

/** Read a saved run or trace; its `runs` read and checked only `withRuns` (diff reads the means alone). */
async function load(file: string, withRuns: boolean): Promise<LoadedRun> {
  let size: number;
  let first: string;
  try {
    const st = statSync(file);
    if (st.isDirectory()) throw Object.assign(new Error('is a directory'), { code: 'EISDIR' });
    size = st.size;
    first = firstLine(file);
  } catch (e) {
    throw new UsageError(`cannot read '${file}': ${reason(e)}`);
  }
  const h = parse(stripBom(first));
  if (isObject(h) && h.type === 'header') {
    const summary = await loadTrace(file);
    return { summary, runs: [summary] };
  }
  if (size > MAX_SAVE_BYTES) throw notOurs(file);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new UsageError(`cannot read '${file}': ${reason(e)}`);
  }
  const doc = parse(stripBom(text));
  if (!isObject(doc) || typeof doc.spfperf !== 'string' || !isDescription(doc)) throw notOurs(file);
  checkFormat(file, doc);
  // The same field checks as a trace's header and summary (src/trace/header.ts).
  const why = savedProblem(doc);
  if (why !== null) throw new UsageError(`${file}: ${why}`);
  const summary = summaryOf(file, doc, doc);
  // A document without runs (or with none) stands for one run: its means.
  if (!withRuns || !Array.isArray(doc.runs) || doc.runs.length === 0) return { summary, runs: [summary] };
  const runs = doc.runs.map((r: unknown, i: number) => {
    const bad = isObject(r) ? summaryProblem(r) : 'not an object';
    if (bad !== null) throw new UsageError(`${file}: runs[${i}]: ${bad}`);
    // Each run under its own seed (the document's `seeds` lists them all).
    const seed = typeof (r as Json).seed === 'number' ? ((r as Json).seed as number) : (doc.seeds as number[] | undefined)?.[i];
    return { ...summaryOf(file, doc, r as Json), ...(seed !== undefined ? { seeds: [seed] } : {}) };
  });
  return { summary, runs };
}
