/**
 * spfperf stat: run a workload on the model and print counters the way perf stat does.
 *
 *   $ spfperf stat -e faults,minor-faults,major-faults page_fault1 threads=1 iterations=4
 *
 *    Performance counter stats for 'page_fault1 threads=1 iterations=4':
 *
 *               131072      faults
 *               131072      minor-faults
 *                    0      major-faults
 *        5185393.68      workload:ops/s
 *   ...
 */
import { writeFileSync } from 'node:fs';
import { EV, eventById, parseEventList, type SelectedEvent } from '../events/catalog.js';
import { formatStatHuman, type StatLine } from '../format/stat-human.js';
import { prepareRun, runOptionsOf, type CommonRunOptions } from '../sim/setup.js';
import { runWorkload, SIGNAL_NAMES, type RunResult } from '../sim/run.js';
import { UsageError } from '../errors.js';
import { formatVmstat, vmstatLines } from '../format/vmstat.js';

export interface StatOptions extends CommonRunOptions {
  readonly event?: readonly string[];
  readonly output?: string;
  readonly vmstat?: boolean;
}

/** perf stat's default software events. */
export const DEFAULT_EVENTS = ['task-clock', 'context-switches', 'cpu-migrations', 'page-faults', 'minor-faults', 'major-faults'];

/** One counter line, under the name the user gave (as perf prints it). */
function lineFor(ev: SelectedEvent, r: RunResult): StatLine {
  const d = eventById(ev.id);
  const total = r.counts.total(ev.id);
  if (ev.id === EV.TASK_CLOCK) {
    const cpus = r.elapsedNs > 0 ? total / r.elapsedNs : 0;
    return { event: ev.name, value: total / 1e6, unit: 'msec', metric: `${cpus.toFixed(3).padStart(8)} CPUs utilized` };
  }
  return { event: ev.name, value: total, unit: d.unit };
}

export async function run(workloadArg: string, paramArgs: readonly string[], o: StatOptions): Promise<number> {
  const events = parseEventList(o.event && o.event.length > 0 ? o.event : DEFAULT_EVENTS);
  const prep = prepareRun(workloadArg, paramArgs, o);
  const r = runWorkload(runOptionsOf(prep));
  const lines: StatLine[] = events.map((ev) => lineFor(ev, r));
  for (const m of r.metrics) lines.push({ event: `workload:${m.name}`, value: m.value, unit: '', fractional: true });
  const text = formatStatHuman({
    command: [workloadArg, ...paramArgs].join(' '),
    runs: 1,
    lines,
    elapsedSec: r.elapsedNs / 1e9,
    elapsedStddevSec: 0,
    userSec: r.userNs / 1e9,
    sysSec: r.sysNs / 1e9,
    after: o.vmstat ? formatVmstat(vmstatLines(prep.config, (id) => r.counts.total(id))) : undefined,
  });
  const signals = r.signals.map((s) => `${prep.workload.name}: process ${s.comm}/${s.pid}: ${SIGNAL_NAMES[s.signal] ?? `signal ${s.signal}`} (${s.detail})\n`).join('');
  if (o.output !== undefined) {
    try {
      writeFileSync(o.output, text);
    } catch (e) {
      throw new UsageError(`option '-o': cannot write '${o.output}': ${(e as Error).message}`);
    }
    process.stderr.write(signals);
  } else {
    process.stderr.write(signals + text);
  }
  return 0;
}
