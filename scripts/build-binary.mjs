#!/usr/bin/env node
// npm run binary: dist/spfperf-linux-x64, one file that runs spfperf without Node or npm on a
// linux-x64 machine (docs/binary.md). After the build (tsc's dist/):
//  1. rolldown bundles scripts/binary/entry.mjs, all of dist/ and the packages the CLI imports as
//     ES modules (ink and yoga-layout use top-level await, which a CommonJS bundle cannot hold):
//     dist/spfperf.mjs and chunks beside it, split where the CLI imports lazily; names kept (no
//     minification: lock contention, cpu-clock and check name the model's functions by their
//     JavaScript names); each module's import.meta.url the URL it would have in the package laid
//     out beside the chunks; react-devtools-core (ink's, only with DEV=true) a stub;
//  2. the chunks' source maps give their tables of modules by line (spfperf.modules.json, read by
//     src/trace/bundle-frames.ts): lock contention and check tell the engine's frames from the
//     model's by their module's file;
//  3. the tree the binary unpacks, laid out as the package: the chunks and their tables, the pool
//     worker's file, package.json, workloads/, twins/, resvg's native addon and the DejaVu fonts
//     (everything the CLI reads beside its code, and the one file Node loads only from a file);
//  4. @yao-pkg/pkg's SEA builder (pinned at 6.14: from 6.15 on it refuses a Node older than 22,
//     checked 2026-12-07) with the launcher scripts/binary/sea-main.cjs as the SEA's main and the
//     tree's files as its assets, baked into a stripped copy of this machine's node (pkg's
//     nodePath: no download); pkg runs `npx postject`, found in node_modules/.bin;
//  5. the result must be a SEA (postject's and pkg's failures can leave a plain copy of node): the
//     build fails unless the SEA fuse is set in the file and the binary, run from an empty
//     directory, prints spfperf's version.
import { createHash } from 'node:crypto';
import { execFileSync, spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const DIST = join(ROOT, 'dist');
export const BINARY = join(DIST, 'spfperf-linux-x64');
/** The staging directory: the tree the binary unpacks, and the SEA's config and blob. */
const STAGE = join(DIST, 'binary');
const TREE = join(STAGE, 'tree');
const ENTRY = join(ROOT, 'scripts', 'binary', 'entry.mjs');
const LAUNCHER = join(ROOT, 'scripts', 'binary', 'sea-main.cjs');
/** The bundle's entry chunk, relative to the tree (dist/ of a tree laid out as the package); its other chunks sit beside it. */
const BUNDLE = 'dist/spfperf.mjs';
/** The SEA fuse postject flips to :1 in a binary that is a SEA (Node's src/node_sea.cc). */
const FUSE = `NODE_SEA_FUSE_fce680ab2cc467b6e072b8b5df1996b2`;
const NODE_MODULES = `${sep}node_modules${sep}`;

function fail(msg) {
  throw new Error(`scripts/build-binary.mjs: ${msg}`);
}

/** Where a bundled module would be in the tree: dist/... for the CLI's, node_modules/... for a package's. */
function treePath(id) {
  const n = id.lastIndexOf(NODE_MODULES);
  if (n >= 0) return `node_modules/${id.slice(n + NODE_MODULES.length).split(sep).join('/')}`;
  const rel = relative(ROOT, id);
  if (rel.startsWith(`dist${sep}`) || rel.startsWith(`scripts${sep}`)) return rel.split(sep).join('/');
  return null;
}

/**
 * import.meta.url in each module: the URL of its file in the tree, reached from the bundle's own
 * (`new URL('../../workloads/', import.meta.url)` in dist/workload/load.js finds the tree's
 * workloads/, as in the package). The entry is the bundle itself.
 */
const moduleUrls = {
  name: 'module-urls',
  transform(code, id) {
    // The entry and the bundler's runtime (\0rolldown/runtime.js, its require()) are the bundle's own.
    if (id === ENTRY || id.startsWith('\0') || !code.includes('import.meta.url')) return null;
    const at = treePath(id);
    if (at === null) fail(`${id} uses import.meta.url and has no place in the tree`);
    const rel = relative('dist', at).split(sep).join('/');
    const url = `new URL(${JSON.stringify(rel.startsWith('.') ? rel : `./${rel}`)}, import.meta.url).href`;
    // On the same line: the source map's lines stay the module's (map: null, no change of lines).
    return { code: code.replace(/\bimport\.meta\.url\b/g, url), map: null };
  },
};

/** ink imports react-devtools-core only when DEV=true; it is not installed (ink's own advice). */
const devtoolsStub = {
  name: 'react-devtools-core-stub',
  resolveId: (id) => (id === 'react-devtools-core' ? '\0react-devtools-core' : null),
  load: (id) => (id === '\0react-devtools-core' ? 'export default { initialize() {}, connectToDevTools() {} };' : null),
};

/** Decode a source map's VLQ mappings into each generated line's first source index (or -1). */
export function lineSources(mappings) {
  const out = [];
  let source = 0;
  for (const line of mappings.split(';')) {
    let first = -1;
    for (const seg of line.split(',')) {
      if (seg === '') continue;
      const fields = [];
      let value = 0;
      let shift = 0;
      for (const ch of seg) {
        const d = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/'.indexOf(ch);
        if (d < 0) fail(`bad source map character ${ch}`);
        value += (d & 31) << shift;
        if (d & 32) shift += 5;
        else {
          fields.push(value & 1 ? -(value >>> 1) : value >>> 1);
          value = 0;
          shift = 0;
        }
      }
      if (fields.length >= 4) {
        source += fields[1];
        if (first < 0) first = source;
      }
    }
    out.push(first);
  }
  return out;
}

/** A chunk's modules by line (src/trace/bundle-frames.ts's BundleModules): runs of lines of one module. */
function moduleTable(map) {
  const files = map.sources.map((s) => treePath(resolve(join(TREE, 'dist'), s)) ?? '');
  const starts = [];
  const names = [];
  lineSources(map.mappings).forEach((src, i) => {
    if (src < 0) return; // the bundler's own lines: they stay with the module before
    const f = files[src];
    if (names.length === 0 || names[names.length - 1] !== f) {
      starts.push(i + 1);
      names.push(f);
    }
  });
  return { starts, files: names };
}

/** The module of each line of a chunk's code, by its table. */
function moduleAt(code, table, index) {
  const line = code.slice(0, index).split('\n').length;
  let i = 0;
  while (i + 1 < table.starts.length && table.starts[i + 1] <= line) i++;
  return table.files[i] ?? '';
}

async function bundle() {
  const { build } = await import('rolldown');
  const out = await build({
    input: ENTRY,
    platform: 'node',
    logLevel: 'warn',
    plugins: [moduleUrls, devtoolsStub],
    external: (id) => id.startsWith('node:') || EXTERNAL.has(id),
    output: {
      dir: join(TREE, 'dist'),
      format: 'esm',
      // Split where the CLI imports lazily (a verb, ink, vega): a start-up reads the command table
      // and its verb, not the whole CLI; and a package's names do not clash with dist/'s. Every
      // chunk sits beside the entry, in dist/, where moduleUrls's URLs are relative to.
      entryFileNames: 'spfperf.mjs',
      chunkFileNames: 'spfperf-[name]-[hash].mjs',
      keepNames: true,
      minify: false,
      sourcemap: 'hidden',
      banner: '// Generated by scripts/build-binary.mjs from dist/ and the packages it imports (their licences: node_modules/*/LICENSE). Not committed.',
    },
  });
  const tables = {};
  for (const chunk of out.output.filter((c) => c.type === 'chunk')) {
    // (No map: a chunk of no code of its own, re-exports only.)
    const table = chunk.map ? moduleTable(chunk.map) : { starts: [], files: [] };
    tables[chunk.fileName] = table;
    // A class of dist/ renamed by the bundler (two modules of a chunk with a class of one name)
    // keeps its new name in stack frames (keepNames sets a function's name, not a class's type
    // name), where Class.method keys the model's kernel names (lock contention, cpu-clock).
    const renamed = [...chunk.code.matchAll(/\bclass ([\w$]+\$\d+)\b|\b([\w$]+\$\d+) = class\b/g)]
      .map((m) => ({ name: m[1] ?? m[2], module: moduleAt(chunk.code, table, m.index) }))
      .filter((c) => c.module.startsWith('dist/'));
    if (renamed.length > 0) fail(`the bundler renamed classes of dist/: ${renamed.map((c) => `${c.name} (${c.module})`).join(', ')}`);
    rmSync(join(TREE, 'dist', `${chunk.fileName}.map`), { force: true });
  }
  writeFileSync(join(TREE, 'dist', 'spfperf.modules.json'), JSON.stringify(tables));
}

function copyTree(from, to, keep = () => true) {
  for (const f of readdirSync(from)) {
    const p = join(from, f);
    if (statSync(p).isDirectory()) copyTree(p, join(to, f), keep);
    else if (keep(f)) {
      mkdirSync(to, { recursive: true });
      copyFileSync(p, join(to, f));
    }
  }
}

/** Every file of the tree, relative to it, sorted. */
function filesOf(dir, base = dir) {
  return readdirSync(dir)
    .flatMap((f) => (statSync(join(dir, f)).isDirectory() ? filesOf(join(dir, f), base) : [relative(base, join(dir, f)).split(sep).join('/')]))
    .sort();
}

/**
 * Package files the tree holds as files, not in the bundle: resvg's native addon, which Node can
 * load only from a file (and its JavaScript, which finds it beside itself), and the two DejaVu
 * fonts plot draws and measures with (src/plot/render.ts finds them through the package).
 */
const PACKAGE_FILES = {
  '@resvg/resvg-js': ['package.json', 'LICENSE', 'index.js', 'js-binding.js'],
  '@resvg/resvg-js-linux-x64-gnu': ['package.json', 'resvgjs.linux-x64-gnu.node'],
  'dejavu-fonts-ttf': ['package.json', 'LICENSE', 'ttf/DejaVuSans.ttf', 'ttf/DejaVuSans-Bold.ttf'],
};
/** Imported by the bundle at run time from the tree's node_modules/ (PACKAGE_FILES). */
const EXTERNAL = new Set(['@resvg/resvg-js']);

function stageTree() {
  rmSync(STAGE, { recursive: true, force: true });
  mkdirSync(join(TREE, 'dist', 'pool'), { recursive: true });
  // The pool starts its workers from dist/pool/worker.js beside dist/pool/pool.js (src/pool/pool.ts).
  writeFileSync(join(TREE, 'dist', 'pool', 'worker.js'), "// The pool's worker thread in the single binary (scripts/build-binary.mjs).\nimport { ENTRIES } from '../spfperf.mjs';\nawait ENTRIES['dist/pool/worker.js']();\n");
  const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'));
  writeFileSync(join(TREE, 'package.json'), `${JSON.stringify({ name: pkg.name, version: pkg.version, type: 'module', license: pkg.license }, null, 2)}\n`);
  copyTree(join(ROOT, 'workloads'), join(TREE, 'workloads'), (f) => f.endsWith('.spf'));
  copyTree(join(ROOT, 'twins'), join(TREE, 'twins'));
  for (const [name, files] of Object.entries(PACKAGE_FILES)) {
    for (const f of files) {
      const to = join(TREE, 'node_modules', name, f);
      mkdirSync(dirname(to), { recursive: true });
      copyFileSync(join(ROOT, 'node_modules', name, f), to);
    }
  }
  return pkg.version;
}

async function makeSea(version) {
  const files = filesOf(TREE);
  const hash = createHash('sha256');
  for (const f of files) hash.update(f).update('\0').update(readFileSync(join(TREE, f))).update('\0');
  hash.update(readFileSync(LAUNCHER));
  const manifest = { version, hash: hash.digest('hex').slice(0, 16), bundle: BUNDLE, files };
  writeFileSync(join(STAGE, 'manifest.json'), JSON.stringify(manifest));
  const assets = { 'manifest.json': join(STAGE, 'manifest.json'), ...Object.fromEntries(files.map((f) => [f, join(TREE, f)])) };
  // node's symbols are ~10 MB of the file and nothing at run time needs them (binutils' strip;
  // without it the binary is that much bigger, and works the same).
  const node = join(STAGE, 'node');
  rmSync(node, { force: true });
  copyFileSync(process.execPath, node);
  const strip = spawnSync('strip', [node], { encoding: 'utf8' });
  if (strip.error === undefined && strip.status !== 0) fail(`strip ${relative(ROOT, node)} failed: ${strip.stderr.trim()}`);
  const stripped = strip.error === undefined;
  rmSync(BINARY, { force: true });
  // pkg's SEA builder: node --experimental-sea-config (the node of PATH: this one, first on it),
  // then `npx postject` into a copy of nodePath. npx must neither prompt nor look on the network:
  // npm_config_yes, and postject (a devDependency) on PATH. pkg logs its steps on stdout and
  // postject's LIEF warns that the section names of node's notes moved: both are kept from the
  // build's output unless the result is not a SEA (verify() says so then).
  const { default: sea } = createRequire(import.meta.url)('@yao-pkg/pkg/lib-es5/sea');
  const env = { ...process.env };
  process.env.npm_config_yes = 'true';
  process.env.PATH = [dirname(process.execPath), join(ROOT, 'node_modules', '.bin'), process.env.PATH].join(':');
  const [out, err] = [process.stdout.write, process.stderr.write];
  let said = '';
  process.stdout.write = process.stderr.write = (chunk) => ((said += String(chunk)), true);
  try {
    await sea(LAUNCHER, {
      targets: [{ nodeRange: `node${process.versions.node.split('.')[0]}`, platform: 'linux', arch: 'x64', output: BINARY }],
      nodePath: node,
      seaConfig: { disableExperimentalSEAWarning: true, useSnapshot: false, useCodeCache: false, assets },
    });
  } catch (e) {
    fail(`@yao-pkg/pkg's SEA builder failed: ${e.message}\n${said}`);
  } finally {
    [process.stdout.write, process.stderr.write] = [out, err];
    process.env.PATH = env.PATH;
    if (env.npm_config_yes === undefined) delete process.env.npm_config_yes;
    else process.env.npm_config_yes = env.npm_config_yes;
  }
  return { ...manifest, stripped, said };
}

/** The output must be a SEA (the fuse flipped) that runs as spfperf, not a plain copy of node. */
function verify(version, said) {
  const bin = readFileSync(BINARY);
  if (!bin.includes(`${FUSE}:1`)) fail(`${relative(ROOT, BINARY)} is not a single executable application (its SEA fuse is not set): pkg's postject step failed silently; what pkg said:\n${said}`);
  const empty = mkdtempSync(join(tmpdir(), 'spfperf-binary-'));
  try {
    const env = { PATH: '/usr/bin:/bin', HOME: empty, SPFPERF_CACHE_DIR: join(empty, 'cache') };
    const got = execFileSync(BINARY, ['--version'], { cwd: empty, env, encoding: 'utf8' }).trim();
    if (got !== version) fail(`${relative(ROOT, BINARY)} --version printed '${got}', not spfperf's version ${version}`);
  } finally {
    rmSync(empty, { recursive: true, force: true });
  }
}

export async function buildBinary() {
  if (process.platform !== 'linux' || process.arch !== 'x64') fail(`builds a linux-x64 binary with this machine's Node, and this is ${process.platform}-${process.arch}`);
  const version = stageTree();
  await bundle();
  const manifest = await makeSea(version);
  verify(version, manifest.said);
  const mb = (statSync(BINARY).size / 2 ** 20).toFixed(1);
  process.stdout.write(`${relative(ROOT, BINARY)}: ${mb} MiB${manifest.stripped ? '' : ' (not stripped: no strip program)'}, Node ${process.version}, ${manifest.files.length} files unpacked on first run (build ${manifest.hash})\n`);
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  try {
    await buildBinary();
  } catch (e) {
    process.stderr.write(`${e.message}\n`);
    process.exit(1);
  }
}
