/**
 * Stack frames of the single binary (scripts/build-binary.mjs): there the whole CLI is one bundled
 * file, so every frame of the model, the engine and this layer names that one file, where lock
 * contention, cpu-clock's call chains and check's step log (lock-contention.ts, cpu-clock.ts,
 * src/check/strategies.ts) tell the engine's frames from the model's by the file a frame is in.
 * The bundle registers itself here with the table of its lines (which module of dist/ or
 * node_modules/ each run of lines came from, from the bundle's source map at build time), and a
 * frame's file is then the module its line came from, as it would be outside the bundle: the
 * URL the module would have beside the bundle (dist/engine/rwsem.js, node_modules/...).
 *
 * Outside the binary nothing registers, and a frame's file is its own.
 */

/** A bundle's lines by module: `starts[i]` is the first line (1-based) of `files[i]`, in order. */
export interface BundleModules {
  readonly starts: readonly number[];
  /** Each run's module, relative to the directory that holds dist/ (dist/engine/rwsem.js). */
  readonly files: readonly string[];
}

interface Registered {
  /** The bundle's URL, as a frame names it. */
  readonly url: string;
  /** Read when a frame first needs it (not at start-up). */
  readonly load: () => BundleModules;
  table?: { readonly starts: readonly number[]; readonly urls: readonly string[] };
}

let bundle: Registered | undefined;

/**
 * Called by the bundle's entry (scripts/binary/entry.mjs) before any model code runs: `url` is the
 * bundle's own URL (import.meta.url), and its modules' files are resolved against its directory's
 * parent (the bundle is dist/spfperf.mjs of a tree laid out as the package).
 */
export function setBundleModules(url: string, load: () => BundleModules): void {
  bundle = { url, load };
}

function tableOf(b: Registered): NonNullable<Registered['table']> {
  if (b.table === undefined) {
    const m = b.load();
    if (m.starts.length !== m.files.length) throw new Error(`bundle module table: ${m.starts.length} starts for ${m.files.length} files`);
    const root = new URL('../', b.url);
    b.table = { starts: m.starts, urls: m.files.map((f) => new URL(f, root).href) };
  }
  return b.table;
}

/** The file a frame at `line` of `file` is in: the bundled module's, or `file` itself. */
export function moduleFile(file: string, line: number): string {
  if (bundle === undefined || file !== bundle.url) return file;
  const { starts, urls } = tableOf(bundle);
  // The last run that starts at or before the line.
  let lo = 0;
  let hi = starts.length - 1;
  if (hi < 0 || line < starts[0]) return file;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (starts[mid] <= line) lo = mid;
    else hi = mid - 1;
  }
  return urls[lo];
}
