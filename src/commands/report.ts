/**
 * spfperf report: read a trace written by `spfperf record` (streamed, in bounded memory) and print
 * the share of each event's count per key combination, perf report style:
 *
 *   $ spfperf report --stdio -i fixtures/traces/ebizzy-spf.ndjson
 *   # Samples: 51  of event 'pagefault:spf_vma_changed'
 *   # Event count (approx.): 51
 *   #
 *   # Overhead  Command  Shared Object      Symbol
 *   # ........  .......  .................  ..............................
 *   #
 *       50.98%  ebizzy   [kernel.kallsyms]  [k] pte_map_lock
 *       49.02%  ebizzy   [kernel.kallsyms]  [k] __handle_speculative_fault
 *
 * On a terminal (stdout and stdin both, not under CI), without --stdio, an interactive view (ink)
 * instead, full-screen on the terminal's alternate screen as perf's TUI is.
 */
import { basename } from 'node:path';
import { breakdownKeysFor, DEFAULT_SORT, formatReportStdio, reportLayout, reportViewModel, ReportAggregator, type ReportInfo } from '../format/report.js';
import { openTraceInput, readTrace, type TraceHeader } from '../trace/ndjson-reader.js';
import { inCi, writeAll, type CliIo } from '../io.js';

export interface ReportOptions {
  readonly input?: string;
  readonly sort?: string;
  readonly stdio?: boolean;
  readonly fields?: string;
  /** -g: draw call graphs (drawn whenever samples have chains; the option is perf's). */
  readonly g?: boolean;
  /** --children / --no-children (default: children, as perf). */
  readonly children?: boolean;
}

/** The workload's file name, which stands for the program (perf's dso of a user sample). */
function programOf(h: TraceHeader): string | undefined {
  const f = h.workload?.file ?? h.workload?.name;
  return f === undefined ? undefined : basename(f);
}

/** Switch to the terminal's alternate screen and back (xterm's private mode 1049, as perf's TUI). */
const ALT_SCREEN_ON = '\u001B[?1049h';
const ALT_SCREEN_OFF = '\u001B[?1049l';

export async function run(o: ReportOptions, io: CliIo): Promise<number> {
  const { keys, columns } = reportLayout(o.sort ?? DEFAULT_SORT, o.fields);
  const path = o.input ?? 'spfperf.ndjson';
  const interactive = o.stdio !== true && path !== '-' && io.isTTY.stdout && io.isTTY.stdin && !inCi(io.env);
  const breakdownKeys = interactive ? breakdownKeysFor(keys) : [];
  const children = o.children ?? true;
  const agg = new ReportAggregator(keys, breakdownKeys, { children });
  const { stream, name } = await openTraceInput(path, io.stdin);
  const st = await readTrace(stream, { header: (h) => (agg.program = programOf(h)), sample: (s) => agg.add(s) }, { name, warn: (m) => io.stderr.write(m) });
  if (st.summary === null) io.stderr.write(`spfperf: ${name}: no summary line: the trace is incomplete (the recording was cut short)\n`);
  const info: ReportInfo = { header: st.header!, summary: st.summary, skipped: st.skipped, seen: agg.counts() };
  const tables = agg.result(st.header!.events ?? []);

  if (!interactive) {
    await writeAll(io.stdout, formatReportStdio(info, tables, keys, columns, children));
    return 0;
  }
  const [{ render }, { createElement }, { ReportView }] = await Promise.all([import('ink'), import('react'), import('../ui/ReportView.js')]);
  const model = reportViewModel(info, tables, keys, columns, breakdownKeys, children);
  const stdout = io.stdout as NodeJS.WriteStream;
  const view = (): ReturnType<typeof createElement> => createElement(ReportView, { model, height: stdout.rows ?? io.rows ?? 24 });
  stdout.write(ALT_SCREEN_ON);
  try {
    const app = render(view(), {
      stdout,
      stdin: io.stdin as NodeJS.ReadStream,
      stderr: io.stderr as NodeJS.WriteStream,
      exitOnCtrlC: true,
      patchConsole: false,
    });
    // Fill the terminal again when it is resized.
    const onResize = (): void => app.rerender(view());
    stdout.on('resize', onResize);
    try {
      await app.waitUntilExit();
    } finally {
      stdout.off('resize', onResize);
    }
  } finally {
    stdout.write(ALT_SCREEN_OFF);
  }
  return 0;
}
