/** spfperf diff: not built yet (it arrives with the perf-compatible outputs). */
import { UsageError } from '../errors.js';

export async function run(..._args: unknown[]): Promise<number> {
  throw new UsageError('diff is not available yet in this build');
}
