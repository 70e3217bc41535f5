// The launcher of the single binary dist/spfperf-linux-x64 (scripts/build-binary.mjs; the SEA
// entry of Node 20 must be CommonJS, and can require only Node's own modules). The binary holds,
// as SEA assets, a tree laid out as the package: package.json, workloads/, twins/, dist/ with the
// whole CLI bundled into dist/spfperf.mjs and its chunks, and in node_modules/ resvg's native addon
// and the DejaVu fonts (files Node or resvg read only from disk). On its first run it unpacks that tree into the
// cache directory (where calibrate keeps its twins: $SPFPERF_CACHE_DIR, else
// $XDG_CACHE_HOME/spfperf, else ~/.cache/spfperf), once per build (the directory is named by the
// build's hash), and then runs the bundle from there: every file the CLI reads beside its code,
// the pool's worker threads and import() behave as they do in the npm package. See docs/binary.md.
'use strict';
const { createRequire } = require('node:module');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const sea = require('node:sea');

/** The cache directory, as src/calibrate/twins.ts's cacheDir() finds it. */
function cacheDir(env) {
  if (env.SPFPERF_CACHE_DIR) return env.SPFPERF_CACHE_DIR;
  if (env.XDG_CACHE_HOME) return path.join(env.XDG_CACHE_HOME, 'spfperf');
  const home = env.HOME || os.homedir();
  return home ? path.join(home, '.cache', 'spfperf') : path.join(os.tmpdir(), 'spfperf-cache');
}

/** Write the tree into a new directory beside `root`, then move it to `root` in one rename. */
function unpack(manifest, root) {
  fs.mkdirSync(path.dirname(root), { recursive: true });
  const tmp = fs.mkdtempSync(`${root}.tmp-`);
  try {
    for (const f of manifest.files) {
      const to = path.join(tmp, f);
      fs.mkdirSync(path.dirname(to), { recursive: true });
      fs.writeFileSync(to, new Uint8Array(sea.getRawAsset(f)));
    }
    fs.renameSync(tmp, root);
  } catch (e) {
    fs.rmSync(tmp, { recursive: true, force: true });
    // Another run of the binary unpacked it first: use theirs.
    if ((e.code === 'ENOTEMPTY' || e.code === 'EEXIST') && fs.existsSync(path.join(root, manifest.bundle))) return;
    throw e;
  }
}

const manifest = JSON.parse(sea.getAsset('manifest.json', 'utf8'));
const root = path.join(cacheDir(process.env), `binary-${manifest.version}-${manifest.hash}`);
try {
  // Every file, not only the entry: a cleaner of old files (a tmp directory's) may have taken some.
  // (~100 stat calls: well under a millisecond.)
  if (manifest.files.some((f) => !fs.existsSync(path.join(root, f)))) {
    // An incomplete tree is moved aside (runs started from it keep their open files) and unpacked
    // again. Another run may have moved it first.
    if (fs.existsSync(root)) {
      const old = `${root}.old-${process.pid}`;
      try {
        fs.renameSync(root, old);
        fs.rmSync(old, { recursive: true, force: true });
      } catch (e) {
        if (e.code !== 'ENOENT') throw e;
      }
    }
    unpack(manifest, root);
  }
} catch (e) {
  process.stderr.write(`spfperf: cannot unpack the binary's files into ${path.dirname(root)}: ${e.message}; set SPFPERF_CACHE_DIR to a writable directory\n`);
  process.exit(70);
}
let entries;
try {
  entries = createRequire(path.join(root, 'package.json'))(`./${manifest.bundle}`).ENTRIES;
} catch (e) {
  process.stderr.write(`spfperf: cannot load the binary's files from ${root}: ${e.message.split('\n')[0]}\n`);
  process.exit(70);
}
entries['dist/main.js']();
