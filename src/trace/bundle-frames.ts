/**
 * Stack frames of the single binary (scripts/build-binary.mjs): there the CLI is bundled into a few
 * files (chunks), so the frames of the model, the engine and this layer name a chunk, where lock
 * contention, cpu-clock's call chains and check's step log (lock-contention.ts, cpu-clock.ts,
 * src/check/strategies.ts) tell the engine's frames from the model's by the file a frame is in.
 * The bundle registers itself here with the table of its chunks' lines (which module of dist/ or
 * node_modules/ each run of lines came from, from the chunks' source maps at build time), and a
 * frame's file is then the module its line came from, as it would be outside the bundle: the
 * URL the module would have in the package laid out beside the chunks (dist/engine/rwsem.js).
 *
 * Outside the binary nothing registers, and a frame's file is its own.
 */

/** A chunk's lines by module: `starts[i]` is the first line (1-based) of `files[i]`, in order. */
export interface BundleModules {
  readonly starts: readonly number[];
  /** Each run's module, relative to the directory that holds dist/ (dist/engine/rwsem.js). */
  readonly files: readonly string[];
}

/** Each chunk's table, by the chunk's file name (its directory: dist/). */
export type BundleTables = Readonly<Record<string, BundleModules>>;

interface Table {
  readonly starts: readonly number[];
  readonly urls: readonly string[];
}

interface Registered {
  /** The URL of the chunks' directory (dist/ of the tree), with its trailing slash. */
  readonly dir: string;
  /** Read when a frame first needs it (not at start-up). */
  readonly load: () => BundleTables;
  tables?: ReadonlyMap<string, Table>;
}

let bundle: Registered | undefined;

/**
 * Called by the bundle's entry (scripts/binary/entry.mjs) before any model code runs: `dir` is the
 * URL of the directory of its chunks, and their modules' files are resolved against its parent
 * (the chunks are in dist/ of a tree laid out as the package).
 */
export function setBundleModules(dir: string, load: () => BundleTables): void {
  bundle = { dir: dir.endsWith('/') ? dir : `${dir}/`, load };
}

function tablesOf(b: Registered): ReadonlyMap<string, Table> {
  if (b.tables === undefined) {
    const root = new URL('../', b.dir);
    const tables = new Map<string, Table>();
    for (const [chunk, m] of Object.entries(b.load())) {
      if (m.starts.length !== m.files.length) throw new Error(`bundle module table of ${chunk}: ${m.starts.length} starts for ${m.files.length} files`);
      tables.set(new URL(chunk, b.dir).href, { starts: m.starts, urls: m.files.map((f) => new URL(f, root).href) });
    }
    b.tables = tables;
  }
  return b.tables;
}

/** The file a frame at `line` of `file` is in: the bundled module's, or `file` itself. */
export function moduleFile(file: string, line: number): string {
  if (bundle === undefined || !file.startsWith(bundle.dir)) return file;
  const t = tablesOf(bundle).get(file);
  if (t === undefined || t.starts.length === 0 || line < t.starts[0]) return file;
  // The last run that starts at or before the line.
  let lo = 0;
  let hi = t.starts.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (t.starts[mid] <= line) lo = mid;
    else hi = mid - 1;
  }
  return t.urls[lo];
}
