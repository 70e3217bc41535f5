/**
 * Rules of the house (CONTRIBUTING.md, docs/architecture.md), checked on the source tree: files
 * stay under 500 lines unless their opening comment says why (a line with '500 lines:'), runtime imports form no cycle (a
 * cycle through `import type` is fine: it vanishes at run time), and the formatters and trace
 * writers know no design by name (they read what the design registry declares).
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, expect, test } from 'vitest';
import { DESIGNS } from '../src/mm/spf/index.js';
import { ROOT } from './helpers/golden.js';

const SRC = join(ROOT, 'src');

function walk(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => {
    const p = join(dir, f);
    return statSync(p).isDirectory() ? walk(p) : /\.tsx?$/.test(f) && !f.endsWith('.gen.ts') ? [p] : [];
  });
}

const FILES = walk(SRC);

/** The relative modules a source text imports at run time (not `import type`, not `{ type A }` only). */
function importsOf(text: string): string[] {
  const out: string[] = [];
  const re = /^(?:import|export)\s+(type\s+)?([^'";]*?\sfrom\s+)?['"](\.[^'"]+)['"]/gm;
  for (let m = re.exec(text); m !== null; m = re.exec(text)) {
    if (m[1] !== undefined) continue;
    const braces = /^\s*\{([^}]*)\}\s*from\s+$/.exec(m[2] ?? '');
    if (braces !== null) {
      const names = braces[1].split(',').map((n) => n.trim()).filter(Boolean);
      if (names.length > 0 && names.every((n) => n.startsWith('type '))) continue;
    }
    out.push(m[3]);
  }
  return out;
}

/** The runtime imports of a file, as absolute .ts/.tsx paths. */
function runtimeImports(file: string): string[] {
  return importsOf(readFileSync(file, 'utf8')).flatMap((spec) => {
    const base = resolve(dirname(file), spec).replace(/\.js$/, '');
    return ['.ts', '.tsx'].map((ext) => base + ext).filter((p) => FILES.includes(p));
  });
}

/** Every cycle a depth-first walk of `graph` meets, as "a -> b -> a". */
function findCycles(graph: ReadonlyMap<string, readonly string[]>): string[] {
  const cycles: string[] = [];
  const state = new Map<string, 1 | 2>();
  const stack: string[] = [];
  const visit = (f: string): void => {
    state.set(f, 1);
    stack.push(f);
    for (const g of graph.get(f) ?? []) {
      if (state.get(g) === 1) cycles.push([...stack.slice(stack.indexOf(g)), g].join(' -> '));
      else if (state.get(g) === undefined) visit(g);
    }
    stack.pop();
    state.set(f, 2);
  };
  for (const f of graph.keys()) if (state.get(f) === undefined) visit(f);
  return cycles;
}

describe('the source tree', () => {
  test('no file over 500 lines without a reason at its top', () => {
    const long = FILES.filter((f) => readFileSync(f, 'utf8').split('\n').length > 500);
    const unexplained = long.filter((f) => !/\b500 lines:/.test(readFileSync(f, 'utf8').slice(0, 3000)));
    expect(unexplained.map((f) => relative(ROOT, f))).toEqual([]);
  });

  test('no import cycle at run time', () => {
    const graph = new Map(FILES.map((f) => [relative(SRC, f), runtimeImports(f).map((g) => relative(SRC, g))]));
    expect(findCycles(graph)).toEqual([]);
  });

  test('the import check keeps runtime imports, drops type-only ones, and finds cycles', () => {
    const text = "import { a } from './x.js';\nimport type { B } from './y.js';\nimport { type C, type D } from './z.js';\nimport { type E, f } from './w.js';\nexport { g } from './v.js';\nexport type { H } from './u.js';\n";
    expect(importsOf(text)).toEqual(['./x.js', './w.js', './v.js']);
    const g = new Map([['a', ['b']], ['b', ['c']], ['c', ['a']], ['d', ['a']]]);
    expect(findCycles(g)).toEqual(['a -> b -> c -> a']);
    expect(findCycles(new Map([['a', ['b']], ['b', []]]))).toEqual([]);
  });

  test('formatters and trace writers name no design', () => {
    const names = DESIGNS.map((d) => d.name).filter((n) => n !== 'none');
    const re = new RegExp(`\\b(${names.join('|')})\\b`, 'i');
    const hits = FILES.filter((f) => /[\\/]src[\\/](format|trace)[\\/]/.test(f)).filter((f) => re.test(readFileSync(f, 'utf8')));
    expect(hits.map((f) => relative(ROOT, f))).toEqual([]);
  });
});
