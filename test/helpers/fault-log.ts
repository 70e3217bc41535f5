import type { EventSource, TraceSink } from '../../src/trace/sink.js';

/**
 * Every fault's thread, start, end and outcome: the run's schedule, as the fault path reports it
 * (faultDone). Tests that an observer (cpu-clock sampling, lock contention) changes nothing
 * compare two runs' logs.
 */
export class FaultLog implements TraceSink {
  readonly wantsFaults = true;
  readonly faults: number[] = [];
  count(): void {}
  faultDone(src: EventSource, startNs: number, endNs: number, outcome: number): void {
    this.faults.push(src.tid, startNs, endNs, outcome);
  }
}
