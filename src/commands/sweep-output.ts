/**
 * The output directory of `spfperf sweep` (docs/sweep.md): DIR/sweep.json, the index, and
 * DIR/points/NNNN-<slug>.json, one `stat --save` document per point.
 *
 * A directory is taken when it does not exist, is empty, or holds a sweep (a sweep.json of this
 * format, or only what a sweep writes: points/ with point files, a sweep.json.tmp); the old
 * sweep's files are removed before the new one runs, other files are left alone. A directory that
 * holds something else is refused unless --force. The files written and removed are checked
 * against the run's inputs (refuseRunClobbering: the workload script, --config files).
 */
import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { UsageError } from '../errors.js';
import { refuseRunClobbering } from './outputs.js';

export const INDEX_FILE = 'sweep.json';
export const POINTS_DIR = 'points';
/** The name of a point's file (sweep-axes.ts pointFileName). */
const POINT_FILE = /^\d{4,}-.*\.json$/;

/** Whether `dir/sweep.json` is a sweep's index. */
function holdsIndex(dir: string): boolean {
  try {
    const doc = JSON.parse(readFileSync(join(dir, INDEX_FILE), 'utf8')) as unknown;
    return typeof doc === 'object' && doc !== null && 'spfperf_sweep' in doc;
  } catch {
    return false;
  }
}

/** The point files of `dir/points`, or null when it holds anything else. */
function pointFiles(dir: string): string[] | null {
  const p = join(dir, POINTS_DIR);
  const st = statSync(p, { throwIfNoEntry: false });
  if (st === undefined) return [];
  if (!st.isDirectory()) return null;
  const names = readdirSync(p);
  return names.every((n) => POINT_FILE.test(n)) ? names.map((n) => join(p, n)) : null;
}

/**
 * Check `-o DIR` before anything runs: refuse a file, or a directory holding something other than
 * a sweep without `force`, or one whose files to write or remove are inputs of the run. Returns the
 * old sweep's files, to be removed by clearOldSweep() once the sweep is sure to run.
 */
export function checkOutputDir(dir: string, force: boolean, writes: readonly string[], workloadArg: string, config: readonly string[]): string[] {
  const st = statSync(dir, { throwIfNoEntry: false });
  if (st !== undefined && !st.isDirectory()) throw new UsageError(`option '-o': '${dir}' is not a directory`);
  let old: string[] = [];
  if (st !== undefined) {
    const entries = readdirSync(dir);
    const points = pointFiles(dir);
    const ours = entries.every((e) => e === INDEX_FILE || e === `${INDEX_FILE}.tmp` || e === POINTS_DIR) && points !== null;
    const isSweep = entries.length === 0 || (ours && (!entries.includes(INDEX_FILE) || holdsIndex(dir))) || holdsIndex(dir);
    if (!isSweep && !force) {
      throw new UsageError(`option '-o': '${dir}' is not empty and holds no sweep (${INDEX_FILE}); give --force to write into it, or another directory`);
    }
    old = [...(entries.includes(INDEX_FILE) ? [join(dir, INDEX_FILE)] : []), ...(points ?? [])];
  }
  const outputs = [...new Set([...writes, ...old])].map((path) => ({ what: "option '-o'", path }));
  refuseRunClobbering(workloadArg, config, outputs);
  return old;
}

function cannotWrite(path: string, e: unknown): never {
  throw new UsageError(`option '-o': cannot write '${path}': ${(e as Error).message}`);
}

/** Remove the old sweep's files and make DIR/points. */
export function clearOldSweep(dir: string, old: readonly string[]): void {
  try {
    for (const f of old) rmSync(f, { force: true });
    mkdirSync(join(dir, POINTS_DIR), { recursive: true });
  } catch (e) {
    cannotWrite(dir, e);
  }
}

/** Write one file of the sweep (a point's document). */
export function writeSweepFile(path: string, text: string): void {
  try {
    writeFileSync(path, text);
  } catch (e) {
    cannotWrite(path, e);
  }
}

/** Write the index: to sweep.json.tmp, then renamed, so a reader never sees half of one. */
export function writeIndex(dir: string, doc: unknown): void {
  const path = join(dir, INDEX_FILE);
  try {
    writeFileSync(`${path}.tmp`, JSON.stringify(doc, null, 2) + '\n');
    renameSync(`${path}.tmp`, path);
  } catch (e) {
    cannotWrite(path, e);
  }
}
