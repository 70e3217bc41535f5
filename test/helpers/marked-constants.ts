import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';

/**
 * The grep side of the declared-constants test: every numeric constant in src/ whose comment
 * calls it an estimate, a derivation, calibrated or fitted. A comment (a run of `//` lines or a
 * `/** ... *\/` block) carrying one of those words marks the declarations that follow it, up to
 * the next blank or comment line; a trailing `// ...` comment marks its own line. A declaration is
 * `name: <number or [numbers]>,` (a table's key) or `const NAME = <number>;`.
 */
export const MARKER = /\b(estimat\w*|calibrat\w*|fitted|derivation)\b/i;

export interface MarkedConstant {
  /** Path from the repository root, e.g. src/config/arch.ts. */
  readonly file: string;
  readonly line: number;
  /** The identifier declared (a table key or a const's name). */
  readonly symbol: string;
  /** Its literal value (underscores dropped), or an array of them; undefined for an expression. */
  readonly value: number | readonly number[] | undefined;
}

const DECL = /^\s*(?:export\s+)?(?:const\s+([A-Za-z_]\w*)(?::[^=]+)?\s*=|'?([A-Za-z_][\w-]*)'?\s*:)\s*(.+?)\s*[,;]?\s*(\/\/.*)?$/;

function literal(text: string): number | readonly number[] | undefined {
  const t = text.replace(/[,;]\s*$/, '').replace(/_/g, '');
  if (/^-?\d+(\.\d+)?(e\d+)?$/i.test(t)) return Number(t);
  if (/^\[[\d.,\s]+\]$/.test(t)) return JSON.parse(t) as number[];
  return undefined;
}

function* files(dir: string): Generator<string> {
  for (const f of readdirSync(dir).sort()) {
    const p = join(dir, f);
    if (statSync(p).isDirectory()) yield* files(p);
    else if (/\.tsx?$/.test(f)) yield p;
  }
}

/** The marked constants of one file's text. */
export function scanText(file: string, text: string): MarkedConstant[] {
  const out: MarkedConstant[] = [];
  const lines = text.split('\n');
  let marked = false; // the last comment seen carried a marker and no break came since
  let inBlock = false;
  let blockMarked = false;
  for (let i = 0; i < lines.length; i++) {
    const l = lines[i];
    const s = l.trim();
    if (inBlock) {
      if (MARKER.test(s)) blockMarked = true;
      if (s.includes('*/')) {
        inBlock = false;
        marked = blockMarked;
      }
      continue;
    }
    if (s.startsWith('/*')) {
      blockMarked = MARKER.test(s);
      if (s.includes('*/')) marked = blockMarked;
      else inBlock = true;
      continue;
    }
    if (s.startsWith('//')) {
      // A run of // lines is one comment: a marker anywhere in it marks what follows.
      const prevComment = i > 0 && lines[i - 1].trim().startsWith('//');
      marked = (prevComment && marked) || MARKER.test(s);
      continue;
    }
    if (s === '') {
      marked = false;
      continue;
    }
    const m = DECL.exec(l);
    if (m === null) {
      marked = false;
      continue;
    }
    const trailingMark = m[4] !== undefined && MARKER.test(m[4]);
    const inline = /^\{(.*)\}$/.exec(m[3].replace(/,$/, ''));
    if (inline !== null) {
      // An object on one line (`costs: { trapEntryNs: 60, syscallNs: 50 },`): each key is a declaration.
      if (marked || trailingMark) {
        for (const kv of inline[1].matchAll(/([A-Za-z_]\w*)\s*:\s*([-\d_.e]+|\[[^\]]*\])/g)) out.push({ file, line: i + 1, symbol: kv[1], value: literal(kv[2]) });
      }
      marked = false;
      continue;
    }
    const symbol = m[1] ?? m[2];
    const value = literal(m[3]);
    if ((marked || trailingMark) && (value !== undefined || m[1] !== undefined)) out.push({ file, line: i + 1, symbol, value });
    if (m[1] !== undefined) marked = false; // a const ends its comment's reach
  }
  return out;
}

/** Every marked constant under `root`/src. */
export function scanSrc(root: string): MarkedConstant[] {
  const out: MarkedConstant[] = [];
  for (const p of files(join(root, 'src'))) {
    const rel = relative(root, p).split('\\').join('/');
    out.push(...scanText(rel, readFileSync(p, 'utf8')));
  }
  return out;
}
