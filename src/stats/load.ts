import { createReadStream, statSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { UsageError } from '../errors.js';
import { SAVE_FORMAT, type RunDescription, type RunSummary } from './save.js';

/**
 * Reading what `diff` compares: a `stat --save` document (one JSON value), or a `record` trace
 * (NDJSON: a {"type":"header",...} line with the run description, sample lines, and a final
 * {"type":"summary",...} line with the counters). A trace is read line by line and only its
 * first line and its last summary line are parsed, so a large trace is not held in memory.
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
  };
}

/** Read one input of `diff`. Every failure is a one-line UsageError naming the file. */
export async function loadRunSummary(file: string): Promise<RunSummary> {
  try {
    const st = statSync(file);
    if (st.isDirectory()) throw Object.assign(new Error('is a directory'), { code: 'EISDIR' });
  } catch (e) {
    throw new UsageError(`cannot read '${file}': ${reason(e)}`);
  }
  const stream = createReadStream(file, { encoding: 'utf8' });
  let failure: unknown = null;
  stream.on('error', (e) => {
    failure = e;
  });
  const rl = createInterface({ input: stream, crlfDelay: Infinity });
  let header: Json | null = null;
  let summary: Json | null = null;
  let text = '';
  let first = true;
  try {
    for await (const line of rl) {
      if (first) {
        first = false;
        const h = parse(line);
        if (isObject(h) && h.type === 'header') {
          if (!isDescription(h)) throw notOurs(file, ' (its header line has no run description)');
          checkFormat(file, h);
          header = h;
          continue;
        }
      }
      if (header !== null) {
        if (line.includes('"summary"')) {
          const s = parse(line);
          if (isObject(s) && s.type === 'summary') summary = s;
        }
        continue;
      }
      text += line + '\n';
      if (text.length > MAX_SAVE_BYTES) throw notOurs(file);
    }
  } catch (e) {
    if (e instanceof UsageError) throw e;
    throw new UsageError(`cannot read '${file}': ${reason(e)}`);
  } finally {
    rl.close();
    stream.destroy();
  }
  if (failure !== null) throw new UsageError(`cannot read '${file}': ${reason(failure)}`);
  if (header !== null) {
    if (summary === null) throw new UsageError(`'${file}' has no summary line (the recording did not finish)`);
    const { type: _t, ...desc } = header;
    return summaryOf(file, desc, summary);
  }
  const doc = parse(text);
  if (!isObject(doc) || typeof doc.spfperf !== 'string' || !isDescription(doc)) throw notOurs(file);
  checkFormat(file, doc);
  return summaryOf(file, doc, doc);
}
