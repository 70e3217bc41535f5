/**
 * spfperf import: turn a real program's recorded address-space activity (perf script text over
 * the mmap/munmap/mprotect/madvise syscall tracepoints and exceptions:page_fault_user) into a
 * workload script that spfperf runs under any design (docs/import.md):
 *
 *   $ perf record -e 'syscalls:sys_enter_mmap,...,exceptions:page_fault_user' -c 1 ./app
 *   $ perf script > app.script.txt
 *   $ spfperf import -i app.script.txt -o app.spf
 *   spfperf: app.script.txt: 5923 events of 4 threads in 1 process -> app.spf (5 synthesized mappings, 0 events dropped)
 *   $ spfperf stat -e faults app.spf
 */
import { writeSync } from 'node:fs';
import { Readable } from 'node:stream';
import { UsageError } from '../errors.js';
import { writeAll, type CliIo } from '../io.js';
import { AddressSpace } from '../import/address-space.js';
import { writeScript } from '../import/generate.js';
import { readPerfScript, TRACEPOINT } from '../import/perf-script.js';
import { looksLikeNdjson, readNdjsonTrace } from '../import/ndjson-trace.js';
import { openTraceInput } from '../trace/ndjson-reader.js';
import { AtomicFile } from '../trace/ndjson-writer.js';
import { refuseClobbering } from './outputs.js';

export interface ImportOptions {
  readonly input?: string;
  readonly output?: string;
  readonly format?: string;
  readonly timeScale?: string;
  readonly skipBad?: boolean;
}

/** perf script text, or spfperf's own trace (record -e 'syscalls:*,sched:*,exceptions:page_fault_user'). */
export const IMPORT_FORMATS = ['perf-script', 'ndjson'] as const;
export type ImportFormat = (typeof IMPORT_FORMATS)[number];

/** The options checked before any input is read. */
export function validateImportOptions(o: ImportOptions): { input: string; output: string; timeScale: number; format: ImportFormat | null } {
  const format = o.format;
  if (format !== undefined && !(IMPORT_FORMATS as readonly string[]).includes(format)) throw new UsageError(`option '--format': unknown format '${format}' (expected: ${IMPORT_FORMATS.join(', ')})`);
  const ts = o.timeScale ?? '1';
  const timeScale = /^\d+(\.\d+)?$|^\.\d+$/.test(ts) ? Number(ts) : NaN;
  if (!(timeScale >= 0) || !Number.isFinite(timeScale)) throw new UsageError(`option '--time-scale': '${ts}' is not a number at least 0`);
  const input = o.input ?? '-';
  const output = o.output ?? '-';
  if (input !== '-' && output !== '-') refuseClobbering([{ what: 'the input (-i)', path: input }], [{ what: "option '-o'", path: output }]);
  return { input, output, timeScale, format: (format as ImportFormat | undefined) ?? null };
}

/**
 * The input's first chunk, and a stream of the whole input again: an spfperf trace starts with
 * its JSON header line, perf script text never with '{'.
 */
async function peek(input: Readable): Promise<{ head: string; stream: Readable }> {
  const it = input[Symbol.asyncIterator]() as AsyncIterator<Buffer | string>;
  const first = await it.next();
  const head = first.done === true ? '' : String(first.value).slice(0, 64);
  async function* all(): AsyncGenerator<Buffer | string> {
    if (first.done === true) return;
    yield first.value;
    for (let n = await it.next(); n.done !== true; n = await it.next()) yield n.value;
  }
  const stream = Readable.from(all(), { objectMode: false });
  // A reader that stops early (a bad line) destroys the stream it reads: the input's too.
  stream.once('close', () => input.destroy());
  return { head, stream };
}

export async function run(o: ImportOptions, io: CliIo): Promise<number> {
  const v = validateImportOptions(o);
  const { input, output, timeScale } = v;
  const opened = await openTraceInput(input, io.stdin);
  const name = opened.name;
  const { head, stream } = await peek(opened.stream);
  const format: ImportFormat = v.format ?? (looksLikeNdjson(head) ? 'ndjson' : 'perf-script');
  const as = new AddressSpace();
  let events = 0;
  const onEvent = (e: Parameters<AddressSpace['add']>[0]): void => {
    events++;
    as.add(e);
  };
  const st = format === 'ndjson' ? await readNdjsonTrace(stream, { name, skipBad: o.skipBad }, onEvent) : await readPerfScript(stream, { name, skipBad: o.skipBad }, onEvent);
  if (events === 0) {
    const what = st.lines === 0 ? ' (the input is empty)' : ` in ${st.lines} lines`;
    if (format === 'ndjson') throw new UsageError(`${name}: no samples${what}: record with spfperf record -e 'syscalls:*,sched:*,exceptions:page_fault_user' (docs/import.md)`, 2);
    throw new UsageError(`${name}: no perf script events${what}: record with perf record -e 'syscalls:sys_enter_mmap,...,exceptions:page_fault_user' and print with perf script (docs/import.md)`, 2);
  }
  if (!as.summary.events.has(TRACEPOINT.fault) && !as.summary.events.has(TRACEPOINT['mmap-exit'])) {
    throw new UsageError(`${name}: no page_fault_user nor mmap events among its ${events}: nothing to replay (docs/import.md says what to record)`, 2);
  }
  as.finish();
  const opts = { source: name === '<stdin>' ? 'stdin' : name, format, timeScale, lines: st.lines, skipped: st.skipped };
  let dropped: number;
  if (output === '-') {
    // Chunks as they come (a pipe takes them at its pace; the last write waits for it).
    ({ dropped } = writeScript(as, opts, (c) => io.stdout.write(c)));
    await writeAll(io.stdout, '');
  } else {
    const f = new AtomicFile(output);
    try {
      ({ dropped } = writeScript(as, opts, (c) => writeSync(f.fd, c)));
      f.commit();
    } catch (e) {
      f.discard();
      throw e;
    }
  }
  const synth = as.mappings.filter((m) => m.synth !== null).length;
  const skipped = o.skipBad ? `, ${st.skipped} line${st.skipped === 1 ? '' : 's'} not ${format === 'ndjson' ? 'importable' : 'perf script text'} skipped` : '';
  io.stderr.write(`spfperf: ${name}: ${events} events of ${as.threads.size} thread${as.threads.size === 1 ? '' : 's'} in ${as.processes.size} process${as.processes.size === 1 ? '' : 'es'} -> ${output === '-' ? 'stdout' : output} (${synth} synthesized mapping${synth === 1 ? '' : 's'}, ${dropped} events dropped${skipped})\n`);
  return 0;
}
