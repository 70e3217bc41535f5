/**
 * A worker thread of the pool (pool.ts): runs the jobs it is sent, one at a time, and sends back
 * each one's result or error (as data: wire-error.ts), and its progress at most every
 * PROGRESS_MS when the pool asked for it.
 */
import { parentPort } from 'node:worker_threads';
import { setInvariantCheckDefault, setSyncCheckDefault } from '../engine/engine.js';
import { JOBS, type JobContext, type JobHandler } from './jobs.js';
import { toWire } from './wire-error.js';
import { warmUpJit } from './run-job.js';
import type { JobMessage, WorkerMessage, WorkerSetup } from './pool.js';

/** Least wall time between two progress messages of a job (a display redraws at 10 Hz). */
const PROGRESS_MS = 100;

const port = parentPort!;
/** The pool's WorkerSetup, its first message (null until then). */
let setup: WorkerSetup | null = null;
let stop: Int32Array<ArrayBufferLike> = new Int32Array(1);

function send(m: WorkerMessage): void {
  port.postMessage(m);
}

async function runOne(m: JobMessage): Promise<void> {
  let last = -Infinity;
  const ctx: JobContext = {
    stopped: () => Atomics.load(stop, 0) !== 0,
    progress: (data) => {
      if (setup?.progress !== true) return;
      const now = performance.now();
      if (now - last < PROGRESS_MS) return;
      last = now;
      send({ type: 'progress', index: m.index, data });
    },
  };
  try {
    const value = await (JOBS[m.kind] as JobHandler<unknown, unknown>)(m.input, ctx);
    send({ type: 'done', index: m.index, value });
  } catch (e) {
    send({ type: 'error', index: m.index, error: toWire(e) });
  }
}

port.on('message', (m: WorkerSetup | JobMessage) => {
  if (setup === null) {
    setup = m as WorkerSetup;
    stop = new Int32Array(setup.stop);
    setSyncCheckDefault(setup.syncCheck);
    setInvariantCheckDefault(setup.invariantCheck);
  } else void runOne(m as JobMessage);
});
// Its modules are loaded (the imports above): the pool's thread may start its own first job.
send({ type: 'ready' });
// The messages wait (the setup, the first job) while V8 collects feedback on a tiny run.
warmUpJit();
