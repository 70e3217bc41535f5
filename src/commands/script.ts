/**
 * spfperf script: print a trace written by `spfperf record` one event per line, perf script style:
 *
 *   $ spfperf script
 *             ebizzy  1001     0.000123:          1                    faults:
 *             ebizzy  1002 [001]     0.000456: pagefault:spf_vma_changed: ip:ffffffff81200094 vma:7f..-7f.. address:7f..
 */
import { formatScriptChain, formatScriptLine, scriptLayout, type ScriptLayout } from '../format/script.js';
import { openTraceInput, readTrace } from '../trace/ndjson-reader.js';
import { writeAll, type CliIo } from '../io.js';

export interface ScriptOptions {
  readonly input?: string;
  readonly fields?: string;
}

/** Output is written in chunks of about this many characters. */
const CHUNK = 1 << 16;

export async function run(o: ScriptOptions, io: CliIo): Promise<number> {
  scriptLayout(o.fields, []); // a bad -F is an error before any input is read
  const { stream, name } = await openTraceInput(o.input ?? 'spfperf.ndjson', io.stdin);
  let layout: ScriptLayout | null = null;
  let buf: string[] = [];
  let size = 0;
  const flush = (): Promise<void> | undefined => {
    if (buf.length === 0) return undefined;
    const text = buf.join('');
    buf = [];
    size = 0;
    if (io.stdout.write(text)) return undefined;
    return new Promise<void>((resolve) => io.stdout.once('drain', () => resolve()));
  };
  const st = await readTrace(
    stream,
    {
      header: (h) => {
        layout = scriptLayout(o.fields, h.events ?? []);
      },
      sample: (s) => {
        const line = s.callchain !== undefined && layout!.chain ? formatScriptChain(s, s.callchain, layout!) : formatScriptLine(s, layout!) + '\n';
        buf.push(line);
        size += line.length;
      },
      afterChunk: () => (size >= CHUNK ? flush() : undefined),
    },
    { name, warn: (m) => io.stderr.write(m) },
  );
  await flush();
  await writeAll(io.stdout, '');
  if (st.summary === null) io.stderr.write(`spfperf: ${name}: no summary line: the trace is incomplete (the recording was cut short)\n`);
  return 0;
}
