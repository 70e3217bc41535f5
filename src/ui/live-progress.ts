import type { Writable } from 'node:stream';
import { InterruptedError } from '../errors.js';
import { inCi, type CliIo, type StopSignal } from '../io.js';
import type { AsyncRunControl, RunProgress } from '../sim/run.js';
import type { PreparedRun } from '../sim/setup.js';

/**
 * Live progress of a long run on stderr, and Ctrl-C as "stop here and report what was counted".
 *
 *   const r = await withProgress(progressFor(prep, io), (ctl) => runWorkloadAsync(runOptionsOf(prep), ctl));
 *
 * The control passed to `run` is an AsyncRunControl (onProgress + shouldStop): hand it to
 * runWorkloadAsync as it is. The display (src/ui/Progress.tsx, ink) appears only when the run has
 * taken more than `delayMs` (1 s) of wall time, only when the stream is a terminal and the CI
 * environment variable is not set; ink is imported only then (it costs ~0.4 s to load). It is
 * erased when the run ends, so what the command prints next starts on a clean line.
 *
 * Ctrl-C (given as `onInterrupt`) while `run` runs: the first makes shouldStop() true (the run
 * stops at the next slice and returns a partial result, `stopped: true`); a second calls
 * onAbort() and rejects with InterruptedError at once, which the CLI turns into exit status 130
 * (143 when that second signal is SIGTERM) and onAbort's sentence, if any.
 * (This file is named apart from Progress.tsx so the two compiled files do not collide on a
 * case-insensitive file system.)
 */

export interface ProgressOptions {
  /** What runs, shown at the left: the workload command line. */
  readonly label: string;
  /** Simulated time the workload should run (ns), for the bar and the estimate; unknown: none. */
  readonly totalSimNs?: number;
  /** Where the display goes (a terminal: ink draws on it). */
  readonly stream: Writable;
  /** Draw the display (progressEnabled: a terminal, not under CI). Default false. */
  readonly enabled?: boolean;
  /** Wall time before the display appears (default 1000 ms). */
  readonly delayMs?: number;
  /** Redraw period (default 100 ms). */
  readonly refreshMs?: number;
  /** Subscribe to Ctrl-C (CliIo.onInterrupt); without it, Ctrl-C is not this display's. */
  readonly onInterrupt?: CliIo['onInterrupt'];
  /** Signals taken as Ctrl-C (default SIGINT only; record adds SIGTERM). */
  readonly signals?: readonly StopSignal[];
  /**
   * Called on a second Ctrl-C, just before the run is given up (clean up); what it returns, if
   * anything, says what was discarded and is printed as the error.
   */
  readonly onAbort?: () => string | void;
}

/**
 * What the display shows: a run's simulated time and faults (summed over the runs of a pool), and,
 * for a command of many runs (sweep), how many of its units (points) are done: the bar and the
 * estimate then follow those.
 */
export interface ShownProgress extends RunProgress {
  readonly units?: { readonly done: number; readonly total: number; readonly name: string };
}

export interface ProgressControl extends AsyncRunControl {
  onProgress(p: ShownProgress): void;
  shouldStop(): boolean;
  /** Ctrl-C was pressed. */
  readonly interrupted: boolean;
  /** Which signal stopped the run first (SIGINT or SIGTERM), once interrupted. */
  readonly signal: StopSignal | undefined;
}

/** A terminal, and not under CI. */
export function progressEnabled(isTTY: boolean, env: CliIo['env']): boolean {
  return isTTY && !inCi(env);
}

/**
 * The label and expected simulated duration of a prepared run (its `seconds` parameter, if any),
 * drawn on io's stderr when that is a terminal; Ctrl-C from io unless `extra` says otherwise.
 */
export function progressFor(prep: PreparedRun, io: CliIo, extra: Partial<ProgressOptions> = {}): ProgressOptions {
  const label = [prep.workload.name, ...prep.paramArgs].join(' ');
  const seconds = prep.params.get('seconds');
  return {
    label,
    totalSimNs: seconds !== undefined && seconds > 0 ? seconds : undefined,
    stream: io.stderr,
    enabled: progressEnabled(io.isTTY.stderr, io.env),
    onInterrupt: io.onInterrupt,
    ...extra,
  };
}

/**
 * Wall time left (ms), from the rate so far: simulated time goes on at about the same wall-clock
 * rate. Undefined without a known total or before anything was simulated.
 */
export function estimateLeftMs(simNs: number, totalSimNs: number | undefined, wallMs: number): number | undefined {
  if (totalSimNs === undefined || totalSimNs <= 0 || simNs <= 0) return undefined;
  return Math.max(0, (wallMs * (totalSimNs - simNs)) / simNs);
}

interface InkUi {
  rerender(el: unknown): void;
  clear(): void;
  unmount(): void;
}

export async function withProgress<T>(o: ProgressOptions, run: (ctl: ProgressControl) => Promise<T>): Promise<T> {
  const stream = o.stream;
  const enabled = o.enabled ?? false;
  const delayMs = o.delayMs ?? 1000;
  const t0 = performance.now();
  let last: ShownProgress = { simNs: 0, faults: 0 };
  let interrupted = false;
  let done = false;
  let ui: InkUi | null = null;
  let element: ((wallMs: number) => unknown) | null = null;
  let loading: Promise<void> | null = null;

  const draw = (): void => {
    if (!enabled || done) return;
    const wallMs = performance.now() - t0;
    if (wallMs < delayMs) return;
    if (ui !== null && element !== null) {
      ui.rerender(element(wallMs));
      return;
    }
    if (loading !== null) return;
    loading = (async () => {
      const [{ render }, { createElement }, { Progress }] = await Promise.all([import('ink'), import('react'), import('./Progress.js')]);
      element = (w: number) =>
        createElement(Progress, {
          label: o.label,
          simNs: last.simNs,
          totalSimNs: o.totalSimNs,
          faults: last.faults,
          wallMs: w,
          units: last.units,
          etaMs: last.units !== undefined ? estimateLeftMs(last.units.done, last.units.total, w) : estimateLeftMs(last.simNs, o.totalSimNs, w),
          stopping: interrupted,
        });
      if (done) return;
      ui = render(element(performance.now() - t0) as Parameters<typeof render>[0], {
        stdout: stream as NodeJS.WriteStream,
        patchConsole: false,
        exitOnCtrlC: false,
      }) as InkUi;
    })().catch(() => {
      // A display that cannot load is no reason to fail the run.
    });
  };

  const ctl: ProgressControl = {
    onProgress: (p: ShownProgress) => {
      last = p;
    },
    shouldStop: () => interrupted,
    get interrupted() {
      return interrupted;
    },
    get signal() {
      return stopSignal;
    },
  };

  let giveUp!: (e: Error) => void;
  const aborted = new Promise<never>((_, reject) => {
    giveUp = reject;
  });
  let stopSignal: StopSignal | undefined;
  const onSigint = (signal: StopSignal = 'SIGINT'): void => {
    if (interrupted) {
      const discarded = o.onAbort?.();
      giveUp(new InterruptedError(signal, discarded === undefined ? undefined : discarded));
      return;
    }
    interrupted = true;
    stopSignal = signal;
    draw();
  };
  const unsubscribe = o.onInterrupt?.(onSigint, o.signals);
  const timer = enabled ? setInterval(draw, o.refreshMs ?? 100) : null;
  timer?.unref();
  try {
    const running = run(ctl);
    // Given up on: whatever the run does later is no one's concern.
    running.catch(() => {});
    return await Promise.race([running, aborted]);
  } finally {
    done = true;
    if (timer !== null) clearInterval(timer);
    if (loading !== null) await loading;
    const shown = ui as InkUi | null;
    if (shown !== null) {
      // An empty frame erases the line; unmount then flushes that (a pending throttled frame
      // would otherwise be drawn again after a clear()).
      shown.rerender(null);
      shown.unmount();
      // ink's empty frame is a bare newline: go back up onto the erased line.
      stream.write('\u001B[1A');
    }
    unsubscribe?.();
  }
}
