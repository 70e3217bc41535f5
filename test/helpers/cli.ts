import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { ROOT } from './golden.js';

export interface CliResult {
  readonly status: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Run the built CLI (bin/spfperf.js -> dist/) as a user would. */
export function spfperf(args: readonly string[], opts: { cwd?: string } = {}): CliResult {
  const r = spawnSync(process.execPath, [join(ROOT, 'bin', 'spfperf.js'), ...args], {
    cwd: opts.cwd ?? ROOT,
    encoding: 'utf8',
    env: { ...process.env, SPFPERF_DEBUG: '' },
  });
  return { status: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}
