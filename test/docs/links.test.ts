/**
 * The documentation holds together: every relative link of README.md, CONTRIBUTING.md and
 * docs/*.md names a file that exists and, with `#anchor`, a heading of that file (GitHub's
 * slugs); README.md stays a newcomer's page (at most 300 lines).
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { describe, expect, test } from 'vitest';
import { ROOT } from '../helpers/golden.js';

const DOCS = [
  'README.md',
  'CONTRIBUTING.md',
  ...readdirSync(join(ROOT, 'docs')).filter((f) => f.endsWith('.md')).sort().map((f) => `docs/${f}`),
];

/** The lines of a markdown text outside fenced code blocks (a `# ...` line in a block is not a heading). */
function proseLines(text: string): string[] {
  const out: string[] = [];
  let fence = false;
  for (const line of text.split('\n')) {
    if (/^\s*```/.test(line)) fence = !fence;
    else if (!fence) out.push(line);
  }
  return out;
}

/**
 * GitHub's anchor for a heading: lower-case, punctuation dropped except `-` and `_`, each space
 * a `-`; a repeated heading gets `-1`, `-2`, ... (inline code and emphasis marks are dropped
 * with the punctuation; a link keeps its text).
 */
export function slug(heading: string): string {
  return heading
    .replace(/\[([^\]]*)\]\([^)]*\)/g, '$1')
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\s_-]/gu, '')
    .replace(/ /g, '-');
}

export function anchors(text: string): Set<string> {
  const seen = new Map<string, number>();
  const out = new Set<string>();
  for (const line of proseLines(text)) {
    const m = /^#{1,6}\s+(.*?)\s*#*\s*$/.exec(line);
    if (m === null) continue;
    const base = slug(m[1]!);
    const n = seen.get(base) ?? 0;
    seen.set(base, n + 1);
    out.add(n === 0 ? base : `${base}-${n}`);
  }
  return out;
}

/** Relative link targets of a markdown text: `[text](target)`, outside code blocks and code spans. */
export function relativeLinks(text: string): string[] {
  const out: string[] = [];
  for (const line of proseLines(text)) {
    const prose = line.replace(/`[^`]*`/g, '');
    for (const m of prose.matchAll(/\]\(([^)\s]+)(?:\s+"[^"]*")?\)/g)) {
      const target = m[1]!;
      if (/^[a-z][a-z0-9+.-]*:/i.test(target)) continue; // https:, mailto:
      out.push(target);
    }
  }
  return out;
}

/** Problems with the relative links of `file` (a path under ROOT): one line each. */
export function brokenLinks(file: string, read: (path: string) => string | null): string[] {
  const text = read(file);
  if (text === null) return [`${file}: cannot be read`];
  const bad: string[] = [];
  for (const target of relativeLinks(text)) {
    const [path, anchor] = target.split('#', 2) as [string, string | undefined];
    const dest = path === '' ? file : relative(ROOT, join(ROOT, dirname(file), decodeURIComponent(path)));
    const destText = read(dest);
    if (destText === null) {
      bad.push(`${file}: link '${target}': no file ${dest}`);
      continue;
    }
    if (anchor !== undefined && anchor !== '' && !anchors(destText).has(anchor)) {
      bad.push(`${file}: link '${target}': no heading '#${anchor}' in ${dest}`);
    }
  }
  return bad;
}

function readDoc(path: string): string | null {
  const full = join(ROOT, path);
  if (!existsSync(full)) return null;
  // A link to a folder (docs/) is fine: it exists and has no headings.
  try {
    return readFileSync(full, 'utf8');
  } catch {
    return '';
  }
}

describe('documentation links', () => {
  test('the documents are there', () => {
    for (const f of ['README.md', 'CONTRIBUTING.md', 'docs/stat.md', 'docs/trace-format.md', 'docs/saved-run.md',
      'docs/designs.md', 'docs/model.md', 'docs/workload-language.md', 'docs/architecture.md']) {
      expect(DOCS, f).toContain(f);
    }
  });

  test.each(DOCS)('%s: every relative link resolves', (file) => {
    expect(brokenLinks(file, readDoc)).toEqual([]);
  });

  test('README.md is at most 300 lines', () => {
    const lines = readFileSync(join(ROOT, 'README.md'), 'utf8').split('\n');
    if (lines[lines.length - 1] === '') lines.pop();
    expect(lines.length).toBeLessThanOrEqual(300);
  });
});

describe('the link checker', () => {
  const files: Record<string, string> = {
    'a.md': '# Title\n\n## CSV (`-x SEP`)\n\n## Twice\n\n## Twice\n\n```\n# not a heading\n```\n',
    'b.md': [
      '[ok](a.md#csv--x-sep) [ok](a.md#twice-1) [ok](#here) [ext](https://example.com/x.md)',
      '## Here',
      '`[in code](nope.md)`',
      '[gone](c.md) [bad anchor](a.md#twice-2) [block](a.md#not-a-heading)',
    ].join('\n'),
  };
  const read = (p: string): string | null => files[p] ?? null;

  test('GitHub slugs: case, punctuation, spaces, inline code', () => {
    expect(slug('CSV (`-x SEP`)')).toBe('csv--x-sep');
    expect(slug('`stat --save FILE`: the saved-run document')).toBe('stat---save-file-the-saved-run-document');
    expect(slug('How close is it?')).toBe('how-close-is-it');
    expect(slug("The workload's metric and the /proc/vmstat lines")).toBe('the-workloads-metric-and-the-procvmstat-lines');
  });

  test('finds a missing file, a missing anchor and a heading inside a code block', () => {
    expect(brokenLinks('b.md', read)).toEqual([
      "b.md: link 'c.md': no file c.md",
      "b.md: link 'a.md#twice-2': no heading '#twice-2' in a.md",
      "b.md: link 'a.md#not-a-heading': no heading '#not-a-heading' in a.md",
    ]);
  });
});
