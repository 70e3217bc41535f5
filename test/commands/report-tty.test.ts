import { EventEmitter } from 'node:events';
import type { Readable, Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { run } from '../../src/commands/report.js';
import type { CliIo } from '../../src/io.js';
import { ROOT } from '../helpers/golden.js';

/**
 * A terminal's output: what was written, in writes, and its size. (Not marked isTTY: the command
 * goes by io.isTTY, and ink would then also hide the cursor and restore it at process exit.)
 */
class TtyOut extends EventEmitter {
  columns = 100;
  rows = 20;
  readonly writes: string[] = [];
  write(s: string | Uint8Array, ...rest: unknown[]): boolean {
    this.writes.push(typeof s === 'string' ? s : Buffer.from(s).toString('utf8'));
    const cb = rest.find((x) => typeof x === 'function') as (() => void) | undefined;
    cb?.();
    return true;
  }
}

/** A terminal's input in raw mode (the shape ink reads: 'readable', then read()). */
class TtyIn extends EventEmitter {
  readonly isTTY = true;
  private data: string | null = null;
  setEncoding(): void {}
  setRawMode(): void {}
  ref(): void {}
  unref(): void {}
  resume(): void {}
  pause(): void {}
  read(): string | null {
    const d = this.data;
    this.data = null;
    return d;
  }
  type(s: string): void {
    this.data = s;
    this.emit('readable');
  }
}

describe('spfperf report on a terminal', () => {
  it('draws on the alternate screen and gives the terminal back when it quits', async () => {
    const stdout = new TtyOut();
    const stdin = new TtyIn();
    const io: CliIo = {
      stdout: stdout as unknown as Writable,
      stderr: new TtyOut() as unknown as Writable,
      stdin: stdin as unknown as Readable,
      isTTY: { stdout: true, stderr: true, stdin: true },
      env: {},
    };
    // The view listens to its input once it is up (no timer: wait for ink's listener).
    const listening = new Promise<void>((resolve) => stdin.on('newListener', (ev) => ev === 'readable' && queueMicrotask(resolve)));
    const done = run({ input: `${ROOT}/fixtures/traces/ebizzy-spf.ndjson` }, io);
    await listening;
    stdin.type('q');
    expect(await done).toBe(0);
    expect(stdout.writes[0]).toBe('\u001B[?1049h');
    expect(stdout.writes[stdout.writes.length - 1]).toBe('\u001B[?1049l');
    const all = stdout.writes.join('');
    expect(all).toContain('  Overhead  Command  Shared Object      Symbol');
    expect(all).toContain('[k] pte_map_lock');
    expect(stdin.listenerCount('readable')).toBe(0);
    expect(stdout.listenerCount('resize')).toBe(0);
  });
});
