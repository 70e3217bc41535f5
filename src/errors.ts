/**
 * Typed errors. Only src/cli.ts turns them into exit codes and messages; anything else thrown is
 * a bug in spfperf (exit 70, "internal error").
 */

/** Bad command-line usage: an option or argument at fault. Exit 1 (perf's convention for usage). */
export class UsageError extends Error {
  readonly exitCode: number;
  /** Print the message as it is, without the 'spfperf: ' prefix (perf's own multi-line messages). */
  readonly bare: boolean;
  constructor(message: string, exitCode = 1, bare = false) {
    super(message);
    this.name = 'UsageError';
    this.exitCode = exitCode;
    this.bare = bare;
  }
}

/** A workload script that does not parse or check. Exit 2. */
export class WorkloadSyntaxError extends Error {
  constructor(
    readonly file: string,
    readonly line: number,
    readonly col: number,
    readonly detail: string,
    /** The offending source line, without its newline, for the caret display. */
    readonly sourceLine: string,
  ) {
    super(`${file}:${line}:${col}: ${detail}`);
    this.name = 'WorkloadSyntaxError';
  }

  /** `file:line:col: message`, the source line, and a caret under the column. */
  render(): string {
    const caret = ' '.repeat(Math.max(0, this.col - 1)) + '^';
    return `${this.message}\n${this.sourceLine}\n${caret}`;
  }
}

/** A kernel config, arch or machine that cannot be used. Exit 2. */
export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

/** A workload that failed at run time in a way the model detected (e.g. a task that never wakes). Exit 3. */
export class SimulationError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SimulationError';
  }
}

/**
 * The user asked twice to stop (Ctrl-C while a run was already stopping): give up at once. Exit
 * 128 + the signal (130 for SIGINT, 143 for SIGTERM), as a shell reports a process killed by it;
 * `discarded`, when given, says what was thrown away (one line).
 */
export class InterruptedError extends Error {
  readonly exitCode: number;
  constructor(
    readonly signal: 'SIGINT' | 'SIGTERM' = 'SIGINT',
    readonly discarded?: string,
  ) {
    super('interrupted');
    this.name = 'InterruptedError';
    this.exitCode = signal === 'SIGTERM' ? 143 : 130;
  }
}

/** strerror()-style text of some errno codes a user meets with files and pipes. */
const ERRNO_TEXT: Readonly<Record<string, string>> = {
  ENOENT: 'No such file or directory',
  EACCES: 'Permission denied',
  EISDIR: 'Is a directory',
  ENOTDIR: 'Not a directory',
  ENOSPC: 'No space left on device',
  EROFS: 'Read-only file system',
  EPERM: 'Operation not permitted',
  EEXIST: 'File exists',
  EIO: 'Input/output error',
  EFBIG: 'File too large',
  EDQUOT: 'Disk quota exceeded',
  EPIPE: 'Broken pipe',
  EBADF: 'Bad file descriptor',
};

/** strerror()-style text of a Node file-system error. */
export function errnoText(e: NodeJS.ErrnoException): string {
  return (e.code !== undefined ? ERRNO_TEXT[e.code] : undefined) ?? e.message;
}
