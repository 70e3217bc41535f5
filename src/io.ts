import type { Readable, Writable } from 'node:stream';

/**
 * What a command may touch of the world outside the model: its three streams, whether each is a
 * terminal, the environment, and Ctrl-C. src/main.ts builds one from the real process
 * (processIo); tests build their own, so the whole CLI runs in-process with captured output.
 * Nothing under src/commands or src/ui reads `process.stdout`, `process.env` or sets an exit
 * status: they use this, and return their exit code.
 */
export interface CliIo {
  readonly stdout: Writable;
  readonly stderr: Writable;
  readonly stdin: Readable;
  /** Which of the streams is a terminal. */
  readonly isTTY: { readonly stdout: boolean; readonly stderr: boolean; readonly stdin: boolean };
  /** The terminal's size (stdout), when it is one. */
  readonly rows?: number;
  readonly columns?: number;
  readonly env: Readonly<Record<string, string | undefined>>;
  /**
   * Subscribe to Ctrl-C (SIGINT), and to whatever else of `signals` (default SIGINT only; record
   * takes SIGTERM too) for the length of a command; the handler is told which signal came.
   * Returns the unsubscribe. Absent: nothing interrupts the command.
   */
  readonly onInterrupt?: (handler: (signal: StopSignal) => void, signals?: readonly StopSignal[]) => () => void;
}

/** The signals a command may take as "stop where you are". */
export type StopSignal = 'SIGINT' | 'SIGTERM';

/** Subscribe to io's Ctrl-C, or do nothing when it has none. */
export function onInterrupt(io: CliIo, handler: (signal: StopSignal) => void): () => void {
  return io.onInterrupt?.(handler) ?? (() => {});
}

/**
 * Under CI, as ink judges it (is-in-ci): CI or CONTINUOUS_INTEGRATION set, even empty, and not
 * '0' or 'false'. ink then draws nothing until it exits, so no live display can work.
 */
export function inCi(env: CliIo['env']): boolean {
  const set = (k: string): boolean => k in env && env[k] !== undefined && env[k] !== '0' && env[k] !== 'false';
  return set('CI') || set('CONTINUOUS_INTEGRATION');
}

/** Write to a stream and wait until it is taken (a pipe may be slower than us). */
export function writeAll(stream: Writable, text: string): Promise<void> {
  return new Promise((resolve, reject) => stream.write(text, (e) => (e ? reject(e) : resolve())));
}
