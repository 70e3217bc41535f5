/**
 * spfperf diff A B [C...]: compare saved runs (`stat --save` files, or the header and summary
 * lines of `record` traces) in one table, deltas against the first. Prints to stdout, like
 * perf diff.
 */
import { basename } from 'node:path';
import { UsageError } from '../errors.js';
import { writeAll, type CliIo } from '../io.js';
import { formatDiff, type DiffColumn } from '../format/diff.js';
import { loadRunSummary } from '../stats/load.js';

export async function run(files: readonly string[], io: CliIo): Promise<number> {
  if (files.length < 2) throw new UsageError('diff needs at least two files to compare');
  const cols: DiffColumn[] = [];
  for (const f of files) {
    const run = await loadRunSummary(f);
    cols.push({ label: run.config?.label ?? 'custom', altLabel: basename(f), file: f, run });
  }
  // Clashing file names (same name, other directories): the paths as given.
  const base = cols.map((c) => c.altLabel);
  const fixed = cols.map((c) => (base.filter((b) => b === c.altLabel).length > 1 ? { ...c, altLabel: c.file! } : c));
  await writeAll(io.stdout, formatDiff(fixed));
  return 0;
}
