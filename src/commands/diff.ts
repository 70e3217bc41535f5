/**
 * spfperf diff A B [C...]: compare saved runs (`stat --save` files, or the header and summary
 * lines of `record` traces) in one table, deltas against the first. Two cpu-clock recordings
 * (`record -e cpu-clock [-g]`) are compared as perf diff compares two profiles: by shared object
 * and symbol, Baseline and Delta Abs (docs/profile.md). Prints to stdout, like perf diff.
 */
import { closeSync, openSync, readSync } from 'node:fs';
import { basename } from 'node:path';
import { UsageError } from '../errors.js';
import { writeAll, type CliIo } from '../io.js';
import { formatDiff, type DiffColumn } from '../format/diff.js';
import { formatProfileDiff } from '../format/profile-diff.js';
import { loadRunSummary } from '../stats/load.js';
import { isProfileHeader, loadProfile } from '../stats/profile.js';
import type { TraceHeader } from '../trace/ndjson-reader.js';

export async function run(files: readonly string[], io: CliIo): Promise<number> {
  if (files.length < 2) throw new UsageError('diff needs at least two files to compare');
  const profiles = files.map((f) => isProfileHeader(firstLineHeader(f)));
  if (profiles.some((p) => p)) {
    if (!profiles.every((p) => p)) throw new UsageError(`diff: ${files[profiles.indexOf(false)]} is not a cpu-clock recording like ${files[profiles.indexOf(true)]}: a profile is compared with a profile`);
    if (files.length !== 2) throw new UsageError('diff of cpu-clock recordings compares two: a baseline and one other');
    const warn = (m: string): void => void io.stderr.write(m);
    const [a, b] = [await loadProfile(files[0], io.stdin, warn), await loadProfile(files[1], io.stdin, warn)];
    await writeAll(io.stdout, formatProfileDiff(a, b));
    return 0;
  }
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

/** The trace header on a file's first line, or null (another kind of file; loadRunSummary says what is wrong). */
function firstLineHeader(path: string): TraceHeader | null {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch {
    return null;
  }
  try {
    const buf = Buffer.alloc(1 << 16);
    const n = readSync(fd, buf, 0, buf.length, 0);
    const line = buf.subarray(0, n).toString('utf8').split('\n', 1)[0];
    const h = JSON.parse(line) as { type?: unknown };
    return h !== null && typeof h === 'object' && h.type === 'header' ? (h as unknown as TraceHeader) : null;
  } catch {
    return null;
  } finally {
    closeSync(fd);
  }
}
