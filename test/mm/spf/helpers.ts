/**
 * Helpers for the page-fault design tests: run an inline workload (or a shipped one) under a
 * kernel config preset, and record the pagefault:* tracepoints with their fields.
 */
import { getArch } from '../../../src/config/arch.js';
import { resolveConfig } from '../../../src/config/kconfig.js';
import { EV, eventById } from '../../../src/events/catalog.js';
import { strategyFor } from '../../../src/mm/spf/index.js';
import { siteName } from '../../../src/mm/spf/trace.js';
import { runWorkload, type RunResult } from '../../../src/sim/run.js';
import { prepareRun, runOptionsOf } from '../../../src/sim/setup.js';
import type { EventSource, TraceSink } from '../../../src/trace/sink.js';
import { inlineOptions, type InlineOptions } from '../../sim/helpers.js';

export { KiB, MiB, PAGE } from '../../sim/helpers.js';

/** Every design preset the tests know. */
export const DESIGNS = ['base', 'dufour-v9', 'dufour-v11', 'dufour-srcu', 'lespinasse', 'per-vma-lock', 'kamezawa', 'kamezawa-fixed'] as const;
export type DesignName = (typeof DESIGNS)[number];

/** The Dufour series' tracepoints (pagefault:*). */
export const PAGEFAULT_TPS = [
  EV.SPF_VMA_CHANGED, EV.SPF_VMA_NOANON, EV.SPF_VMA_NOTSUP, EV.SPF_VMA_ACCESS, EV.SPF_PMD_CHANGED, EV.SPF_PTE_LOCK,
] as const;

/** Lespinasse's SPF_ABORT_* reasons (the ones the model counts). */
export const LESPINASSE_ABORTS = [
  EV.SPF_ABORT_ODD, EV.SPF_ABORT_UNMAPPED, EV.SPF_ABORT_NO_SPECULATE, EV.SPF_ABORT_VMA_COPY,
  EV.SPF_ABORT_ACCESS_ERROR, EV.SPF_ABORT_PUD, EV.SPF_ABORT_PMD, EV.SPF_ABORT_ANON_VMA,
  EV.SPF_ABORT_PTE_MAP_LOCK_SEQ1, EV.SPF_ABORT_PTE_MAP_LOCK_PMD, EV.SPF_ABORT_PTE_MAP_LOCK_PTL,
  EV.SPF_ABORT_PTE_MAP_LOCK_SEQ2,
] as const;

/** One recorded pagefault:* hit. */
export interface SpfSample {
  readonly id: number;
  /** Event name without the `pagefault:` prefix (e.g. 'spf_vma_changed'). */
  readonly event: string;
  /** `function+0xoff` of the caller ip. */
  readonly site: string;
  readonly vmStart: number;
  readonly vmEnd: number;
  readonly address: number;
  readonly tid: number;
}

/** A sink that records the fields of every pagefault:* tracepoint. */
export class SpfSink implements TraceSink {
  readonly traced: ReadonlySet<number> = new Set<number>(PAGEFAULT_TPS);
  readonly samples: SpfSample[] = [];

  count(): void {}

  sample(id: number, src: EventSource, fields: readonly number[]): void {
    const [caller, vmStart, vmEnd, address] = fields as [number, number, number, number];
    this.samples.push({
      id,
      event: eventById(id).name.replace(/^pagefault:/, ''),
      site: siteName(caller) ?? `?${caller.toString(16)}`,
      vmStart,
      vmEnd,
      address,
      tid: src.tid,
    });
  }

  of(id: number): SpfSample[] {
    return this.samples.filter((s) => s.id === id);
  }

  /** How many hits per abort site, e.g. { '__handle_speculative_fault+0x5c': 3 }. */
  sites(id?: number): Record<string, number> {
    const out: Record<string, number> = {};
    for (const s of this.samples) if (id === undefined || s.id === id) out[s.site] = (out[s.site] ?? 0) + 1;
    return out;
  }
}

export interface DesignRunOptions extends InlineOptions {
  /** Extra config items after the preset (KEY=VALUE). */
  readonly extra?: readonly string[];
}

/** Run an inline DSL source under a config preset (x86, as `spfperf stat --config <design>`). */
export function runDesign(design: DesignName, source: string, o: DesignRunOptions = {}): RunResult {
  const opts = inlineOptions(source, o);
  return runWorkload({ ...opts, spf: strategyFor(resolveConfig([design, ...(o.extra ?? [])]), getArch('x86')) });
}

/** Run a shipped workload under a config preset, the way `spfperf stat --config` does. */
export function runShippedDesign(name: string, design: DesignName, params: readonly string[], cpus: number, seed = 1, sinks?: readonly TraceSink[]): RunResult {
  const p = prepareRun(name, params, { cpus: String(cpus), seed: String(seed), config: [design] });
  return runWorkload({ ...runOptionsOf(p), sinks });
}

/** A process block from lines. */
export function proc(...body: string[]): string {
  return `process {\n${body.map((l) => `  ${l}\n`).join('')}}\n`;
}

/** Total of an event over the run. */
export function total(r: RunResult, id: number): number {
  return r.counts.total(id);
}

/** Totals of several events, keyed by catalog name (handy in failure messages). */
export function totals(r: RunResult, ids: readonly number[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const id of ids) out[eventById(id).name] = r.counts.total(id);
  return out;
}

/** The sum of the pagefault:* tracepoints of a run. */
export function pagefaultEvents(r: RunResult): number {
  return PAGEFAULT_TPS.reduce((s, id) => s + r.counts.total(id), 0);
}

/** The sum of Lespinasse's SPF_ABORT_* reasons. */
export function lespinasseAbortReasons(r: RunResult): number {
  return LESPINASSE_ABORTS.reduce((s, id) => s + r.counts.total(id), 0);
}
