/**
 * spfperf record: run a workload and write its events as NDJSON (docs/trace-format.md, "spfperf record"):
 *
 *   {"type":"header","trace_format":1,"spfperf":"0.1.0","format":1,"workload":{...},...}
 *   {"type":"sample","ts":1234,"cpu":0,"pid":1000,"tid":1001,"comm":"ebizzy","event":"faults","path":"spec","retry":false,"major":false,"latency_ns":812}
 *   ...
 *   {"type":"summary","seed":1,"elapsed":0.0059,"user":...,"sys":...,"counters":{...},...}
 *
 *   $ spfperf record -e 'faults,pagefault:*' --config dufour-v11 ebizzy threads=4
 *   [ spfperf record: Captured and wrote 2.345 MB spfperf.ndjson (14337 samples) ]
 *
 * A regular file is written as FILE.tmp and renamed when complete (a device or FIFO is written in
 * place, a symlink followed: AtomicFile); `-o -` streams to stdout, waiting
 * for a slow reader between slices of the simulation. Ctrl-C stops the simulation where it is
 * and still writes the summary, so the trace is valid (its summary says `"stopped":true`).
 */
import { EV, eventById, NUM_EVENTS, parseEventList, type SelectedEvent } from '../events/catalog.js';
import { cpuClockLine } from '../trace/callchain.js';
import type { CpuSample } from '../trace/cpu-clock.js';
import { designCallers } from './lock-record.js';
import { InterruptedError, UsageError } from '../errors.js';
import { formatStatHuman } from '../format/stat-human.js';
import { countEvent, workloadEvent, type StatRow } from '../format/stat-common.js';
import { workloadCounters } from '../workload/check.js';
import { prepareRun, runOptionsOf, type CommonRunOptions } from '../sim/setup.js';
import { runWorkloadAsync, SIGNAL_NAMES, type RunResult } from '../sim/run.js';
import { describeRun, runValues } from '../stats/save.js';
import { NdjsonWriter, openTraceOutput, RECORDABLE_SW, RecordSink, TRACE_FORMAT } from '../trace/ndjson-writer.js';
import { errnoText } from '../trace/ndjson-reader.js';
import { progressFor, withProgress } from '../ui/live-progress.js';
import { writeAll, type CliIo, type StopSignal } from '../io.js';
import { refuseRunClobbering } from './outputs.js';
import { useHostCosts } from '../calibrate/hostcost.js';

export interface RecordOptions extends CommonRunOptions {
  readonly event?: readonly string[];
  readonly output?: string;
  readonly stat?: boolean;
  /** -F: cpu-clock samples per second of simulated time, per CPU. */
  readonly freq?: string;
  /** -c: nanoseconds of simulated time between two cpu-clock samples of a CPU. */
  readonly count?: string;
  /** -g: record call chains with cpu-clock samples. */
  readonly g?: boolean;
  /** --off-cpu: also an offcpu-time sample per sleep (with cpu-clock). */
  readonly offCpu?: boolean;
}

/** The event of off-CPU samples, as perf record --off-cpu names it. */
export const OFFCPU_EVENT = 'offcpu-time';

/** perf record's default sampling frequency (-F), per CPU. */
export const DEFAULT_FREQ = 4000;
/**
 * The highest -F (and the shortest -c, 10 us): kernel.perf_event_max_sample_rate's default
 * (kernel/events/core.c, DEFAULT_MAX_SAMPLE_RATE), past which perf record refuses a frequency.
 */
export const MAX_FREQ = 100_000;

/** The cpu-clock period (ns) of -F / -c, checked; null when cpu-clock is not recorded. */
export function cpuClockPeriod(events: readonly SelectedEvent[], o: Pick<RecordOptions, 'freq' | 'count' | 'g' | 'offCpu'>): number | null {
  const sampled = events.some((e) => e.id === EV.CPU_CLOCK);
  if (!sampled) {
    const opt = o.freq !== undefined ? "option '-F'" : o.count !== undefined ? "option '-c'" : o.g === true ? "option '-g'" : o.offCpu === true ? "option '--off-cpu'" : null;
    if (opt !== null) throw new UsageError(`${opt}: the model samples only cpu-clock (record -e cpu-clock)`);
    return null;
  }
  if (o.freq !== undefined && o.count !== undefined) throw new UsageError("options '-F' and '-c' cannot be used together (a frequency or a period)");
  const whole = (v: string, opt: string): number => {
    const n = /^\d+$/.test(v.trim()) ? Number(v) : NaN;
    if (!(n >= 1)) throw new UsageError(`option '${opt}': '${v}' is not a positive whole number`);
    return n;
  };
  if (o.count !== undefined) {
    const c = whole(o.count, '-c');
    if (c < 1e9 / MAX_FREQ) throw new UsageError(`option '-c': ${c} ns is shorter than the maximum rate allows (${MAX_FREQ} Hz: 10000 ns)`);
    return c;
  }
  const f = o.freq === undefined ? DEFAULT_FREQ : whole(o.freq, '-F');
  if (f > MAX_FREQ) throw new UsageError(`option '-F': maximum frequency rate (${MAX_FREQ.toLocaleString('en-US')} Hz) exceeded`);
  return 1e9 / f;
}

/** What record records without -e: the fault count and every SPF abort tracepoint. */
export const DEFAULT_RECORD_EVENTS = ['faults', 'pagefault:*'];

/** The events of -e, checked: only events the model reports one occurrence at a time. */
export function recordEvents(specs: readonly string[] | undefined): SelectedEvent[] {
  const events = parseEventList(specs && specs.length > 0 ? specs : DEFAULT_RECORD_EVENTS);
  for (const e of events) {
    if (!e.supported) throw new UsageError(`event '${e.name}' is not supported: the model simulates no PMU (perf stat prints it <not supported>)`);
    if (!e.counted) throw new UsageError(`event '${e.name}' would record nothing: its modifier excludes the mode the model takes it in (every fault the model takes is a user-mode fault)`);
    const d = eventById(e.id);
    if (d.kind === 'tp' || RECORDABLE_SW.has(e.id) || e.id === EV.CPU_CLOCK) continue;
    throw new UsageError(`event '${e.name}' cannot be recorded: the model counts it in bulk, not one occurrence at a time (count it with 'spfperf stat -e ${e.name}')`);
  }
  return events;
}

/** --stat: perf stat's human layout for the recorded events (what `spfperf stat -e` prints). */
function statText(command: string, events: readonly SelectedEvent[], r: RunResult, counters: readonly string[]): string {
  const runtimeNs = r.elapsedNs;
  const rows: StatRow[] = events.map((e) => ({ event: e.name, value: r.counts.total(e.id), unit: eventById(e.id).unit, fractional: false, runtimeNs }));
  for (const m of r.metrics) rows.push({ event: workloadEvent(m.name), value: m.value, unit: '', fractional: true, runtimeNs });
  for (const name of counters) {
    const value = r.counters.get(name) ?? 0;
    rows.push({ event: countEvent(name), value, unit: '', fractional: !Number.isInteger(value), runtimeNs });
  }
  return formatStatHuman({
    command,
    runs: 1,
    perThread: false,
    interval: false,
    blocks: [{ rows }],
    elapsedSec: r.elapsedNs / 1e9,
    elapsedStddevSec: 0,
    userSec: r.userNs / 1e9,
    sysSec: r.sysNs / 1e9,
  });
}

export async function run(workloadArg: string, paramArgs: readonly string[], o: RecordOptions, io: CliIo): Promise<number> {
  const events = recordEvents(o.event);
  const periodNs = cpuClockPeriod(events, o);
  // --machine host: with the costs measured on it, when they are cached (calibrate measures them).
  if (o.machine === 'host') useHostCosts(io.env, 'cached');
  const prep = prepareRun(workloadArg, paramArgs, o);
  const command = [workloadArg, ...paramArgs].join(' ');
  const target = o.output ?? 'spfperf.ndjson';
  const toStdout = target === '-';
  refuseRunClobbering(workloadArg, o.config, [{ what: "option '-o'", path: target }]);

  const { file, out } = openTraceOutput(target, io.stdout);
  const w = new NdjsonWriter(out);
  const sink = new RecordSink(events, w, NUM_EVENTS);
  const clockEvent = events.find((e) => e.id === EV.CPU_CLOCK);
  const program = prep.workload.file ?? prep.workload.name;
  let offSamples = 0;
  const cpuClock =
    periodNs === null || clockEvent === undefined
      ? undefined
      : {
          periodNs,
          callchain: true,
          callers: designCallers(),
          offCpu: o.offCpu === true,
          onSample: (s: CpuSample): void => {
            if (s.offNs !== undefined) {
              offSamples++;
              w.line(cpuClockLine(s, OFFCPU_EVENT, s.offNs, o.g === true, program));
              return;
            }
            sink.written[EV.CPU_CLOCK]++;
            w.line(cpuClockLine(s, clockEvent.name, periodNs, o.g === true, program));
          },
        };

  let r: RunResult;
  // SIGTERM is taken as Ctrl-C (a valid, stopped trace; exit 143), not as death with FILE.tmp left.
  let stopSignal: StopSignal | undefined;
  try {
    const header = {
      type: 'header',
      trace_format: TRACE_FORMAT,
      ...describeRun(prep),
      command,
      events: [...events.map((e) => e.name), ...(o.offCpu === true ? [OFFCPU_EVENT] : [])],
    };
    w.line(JSON.stringify(header) + '\n');
    // A second Ctrl-C gives the run up: the file goes at once, and the simulation (which may
    // still reach its next slice) must not write to it any more.
    let gaveUp = false;
    const onAbort = (): string => {
      gaveUp = true;
      file?.discard();
      const so = `${(w.bytes / 1e6).toFixed(3)} MB, ${events.reduce((a, e) => a + sink.written[e.id], 0)} samples so far`;
      if (file === null) return `interrupted again: gave the run up; the trace on stdout ends after ${so.replace(' so far', '')}, without its summary line`;
      if (file.inPlace) return `interrupted again: gave the run up; '${target}' holds ${so.replace(' so far', '')}, without its summary line`;
      return `interrupted again: gave the run up and discarded the partial trace '${file.tmp}' (${so}); '${target}' was not written`;
    };
    r = await withProgress(progressFor(prep, io, { onAbort, signals: ['SIGINT', 'SIGTERM'] }), (ctl) =>
      runWorkloadAsync(
        { ...runOptionsOf(prep), sinks: [sink], ...(cpuClock !== undefined ? { cpuClock } : {}) },
        {
          onProgress: ctl.onProgress,
          shouldStop: () => {
            stopSignal = ctl.signal;
            return ctl.shouldStop();
          },
          pause: () => (gaveUp ? Promise.reject(new InterruptedError(ctl.signal)) : w.drain()),
        },
      ),
    );
    // A run stopped in the middle of faults: their held lines still go out (without an outcome).
    sink.flushOpen();
    const samples: Record<string, number> = {};
    for (const e of events) samples[e.name] = sink.written[e.id];
    if (o.offCpu === true) samples[OFFCPU_EVENT] = offSamples;
    const summary = {
      type: 'summary',
      ...runValues(prep, prep.seed, r),
      samples,
      stopped: r.stopped,
      signals: r.signals,
    };
    w.line(JSON.stringify(summary) + '\n');
    await w.end();
    file?.commit();
  } catch (e) {
    file?.discard();
    const err = e as NodeJS.ErrnoException;
    if (typeof err?.code === 'string' && err.syscall !== undefined) throw new UsageError(`cannot write '${target}': ${errnoText(err)}`);
    throw e;
  }

  const total = events.reduce((a, e) => a + sink.written[e.id], 0) + offSamples;
  const signals = r.signals.map((s) => `${prep.workload.name}: process ${s.comm}/${s.pid}: ${SIGNAL_NAMES[s.signal] ?? `signal ${s.signal}`} (${s.detail})\n`).join('');
  const stopped = r.stopped ? `spfperf: record stopped (${stopSignal === 'SIGTERM' ? 'SIGTERM' : 'Ctrl-C'}) at ${(r.elapsedNs / 1e9).toFixed(6)} s of simulated time; the trace ends there\n` : '';
  const stat = o.stat ? statText(command, events, r, workloadCounters(prep.workload)) : '';
  await writeAll(
    io.stderr,
    `${signals}${stopped}${stat}[ spfperf record: Captured and wrote ${(w.bytes / 1e6).toFixed(3)} MB ${toStdout ? '(stdout)' : target} (${total} samples) ]\n`,
  );
  // Stopped by SIGTERM: the trace is whole, and the exit status says how the run ended (128 + 15).
  return r.stopped && stopSignal === 'SIGTERM' ? 143 : 0;
}

