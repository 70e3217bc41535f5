import { Text } from 'ink';
import type { JSX } from 'react';

/**
 * The live progress line of a long stat/record run (on stderr). Props in, nothing else:
 *
 *   ebizzy seconds=10s  [######..........]  35%  sim 3.512/10.000 s  1,234,567 faults  wall 12.3 s  ~22.7 s left
 *
 * With `units` (a sweep's points) the bar counts those instead of simulated time:
 *
 *   sweep page_fault1 size=16M  [####............]  26%  4/15 points  sim 0.120 s  1,234,567 faults  wall 3.2 s  ~9.1 s left
 */
export interface ProgressProps {
  /** What runs (the workload command line). */
  readonly label: string;
  /** Simulated time reached (ns). */
  readonly simNs: number;
  /** Simulated time the workload runs for (ns), when known. */
  readonly totalSimNs?: number;
  /** page-faults so far. */
  readonly faults: number;
  /** Wall-clock time so far (ms). */
  readonly wallMs: number;
  /** Estimated wall-clock time left (ms), when known. */
  readonly etaMs?: number;
  /** Units of work done of a total (a sweep's points): the bar follows them. */
  readonly units?: { readonly done: number; readonly total: number; readonly name: string };
  /** True once Ctrl-C was pressed: the run is stopping. */
  readonly stopping?: boolean;
}

const BAR = 16;

function seconds(ns: number): string {
  return (ns / 1e9).toFixed(3);
}

function wall(ms: number): string {
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  const s = Math.round(ms / 1000);
  return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
}

export function Progress(p: ProgressProps): JSX.Element {
  const frac =
    p.units !== undefined ? (p.units.total > 0 ? p.units.done / p.units.total : 1) : p.totalSimNs !== undefined && p.totalSimNs > 0 ? Math.min(1, p.simNs / p.totalSimNs) : undefined;
  const filled = frac !== undefined ? Math.round(frac * BAR) : 0;
  // One line of text, cut at the terminal's width rather than wrapped.
  return (
    <Text wrap="truncate-end">
      <Text bold>{p.label}</Text>
      {frac !== undefined && (
        <>
          {'  ['}
          <Text color="green">{'#'.repeat(filled)}</Text>
          {`${'.'.repeat(BAR - filled)}] ${String(Math.floor(frac * 100)).padStart(3)}%`}
        </>
      )}
      {p.units !== undefined ? `  ${p.units.done}/${p.units.total} ${p.units.name}` : ''}
      {`  sim ${seconds(p.simNs)}${p.totalSimNs !== undefined ? `/${seconds(p.totalSimNs)}` : ''} s`}
      {`  ${p.faults.toLocaleString('en-US')} faults`}
      <Text dimColor>{`  wall ${wall(p.wallMs)}`}</Text>
      {p.stopping ? <Text color="yellow">{'  stopping (Ctrl-C)...'}</Text> : p.etaMs !== undefined ? `  ~${wall(p.etaMs)} left` : ''}
    </Text>
  );
}
