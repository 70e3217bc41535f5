import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { ROOT } from './golden.js';

/**
 * A real redis-server of the tests' own, on 127.0.0.1 and a free port, with nothing saved to
 * disk. Started when a test file asks; `stop()` ends it. .ci/run installs the Debian package
 * when it is missing; a developer's machine without it skips the tests that need it.
 */

/** Whether redis-server can be run here. */
export const HAVE_REDIS = spawnSync('redis-server', ['--version'], { stdio: 'ignore' }).status === 0;

/** A port no one listens on now (the kernel's choice of a free one, closed again). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      s.close(() => (typeof a === 'object' && a !== null ? resolve(a.port) : reject(new Error('no port'))));
    });
  });
}

export interface RedisServer {
  readonly url: string;
  readonly port: number;
  stop(): Promise<void>;
}

/** Start redis-server and resolve once it accepts connections (its own log line says so). */
export async function startRedis(): Promise<RedisServer> {
  const port = await freePort();
  const p = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--daemonize', 'no'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  await new Promise<void>((resolve, reject) => {
    const onData = (b: Buffer): void => {
      log += b.toString();
      if (/Ready to accept connections/.test(log)) {
        p.stdout!.off('data', onData);
        resolve();
      }
    };
    p.stdout!.on('data', onData);
    p.stderr!.on('data', (b: Buffer) => (log += b.toString()));
    p.once('exit', (code) => reject(new Error(`redis-server exited with code ${code} before it was ready:\n${log}`)));
  });
  p.stdout!.resume();
  return { url: `redis://127.0.0.1:${port}/0`, port, stop: () => stopProcess(p) };
}

/** Signal a child (SIGTERM: redis-server and spfperf worker both end on it) and wait for its exit. */
export function stopProcess(p: ChildProcess, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
  if (p.exitCode !== null || p.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    p.once('exit', () => resolve());
    p.kill(signal);
  });
}

/** A `spfperf worker` process on `url` (the compiled CLI), its stderr gathered. */
export interface WorkerProcess {
  readonly p: ChildProcess;
  /** Its stderr so far. */
  stderr(): string;
  /** Resolves with the first stderr line that matches. */
  line(re: RegExp): Promise<string>;
  /** Resolves with its exit code (null when killed by a signal) once it has exited. */
  readonly exited: Promise<number | null>;
}

export function startWorker(url: string, args: readonly string[] = []): WorkerProcess {
  const p = spawn(process.execPath, [join(ROOT, 'bin', 'spfperf.js'), 'worker', '--queue', url, ...args], { cwd: ROOT, stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  const waiters: { re: RegExp; resolve: (l: string) => void }[] = [];
  const exited = new Promise<number | null>((resolve) => p.once('exit', (code) => resolve(code)));
  p.stderr!.on('data', (b: Buffer) => {
    err += b.toString();
    for (const w of [...waiters]) {
      const m = err.split('\n').find((l) => w.re.test(l));
      if (m !== undefined) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve(m);
      }
    }
  });
  return {
    p,
    stderr: () => err,
    exited,
    line: (re) =>
      new Promise((resolve, reject) => {
        const m = err.split('\n').find((l) => re.test(l));
        if (m !== undefined) return resolve(m);
        waiters.push({ re, resolve });
        void exited.then((code) => reject(new Error(`spfperf worker exited (${code}) before a line matching ${re}:\n${err}`)));
      }),
  };
}
