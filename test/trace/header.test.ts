/**
 * One validation of what the readers take from a file (src/trace/header.ts): report, script and
 * diff give the same one-line answer for the same bad header, and all accept a UTF-8 BOM, as a
 * .spf script does (issue 13 item 13).
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { headerProblem, savedProblem, summaryProblem } from '../../src/trace/header.js';
import { spfperf } from '../helpers/cli.js';
import { ROOT } from '../helpers/golden.js';

const dir = mkdtempSync(join(tmpdir(), 'spfperf-header-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const TRACE = join(ROOT, 'fixtures', 'traces', 'ebizzy-faults.ndjson');
const text = readFileSync(TRACE, 'utf8');
const lines = text.split('\n');

/** The fixture trace with its header's JSON changed by `edit`. */
function withHeader(name: string, edit: (h: Record<string, unknown>) => void): string {
  const h = JSON.parse(lines[0]) as Record<string, unknown>;
  edit(h);
  const p = join(dir, name);
  writeFileSync(p, [JSON.stringify(h), ...lines.slice(1)].join('\n'));
  return p;
}

const readers = (f: string): string[][] => [
  ['report', '--stdio', '-i', f],
  ['script', '-i', f],
  ['diff', TRACE, f],
];

describe('every reader validates a trace header the same way', () => {
  it('a header field of the wrong type is exit 1 and one line naming the field (not exit 70)', async () => {
    const cases: Array<[string, (h: Record<string, unknown>) => void, string]> = [
      ['events.ndjson', (h) => (h.events = 'faults'), `header field 'events' is the string "faults", not an array of strings`],
      ['cpus.ndjson', (h) => (h.cpus = '2'), `header field 'cpus' is the string "2", not a number`],
      ['workload.ndjson', (h) => (h.workload = { name: 7 }), `header field 'workload' is an object, not an object whose 'name' is a string`],
    ];
    for (const [name, edit, why] of cases) {
      const f = withHeader(name, edit);
      for (const args of readers(f)) {
        const r = await spfperf(args);
        expect(r.status, args.join(' ')).toBe(1);
        expect(r.stderr, args.join(' ')).toBe(`spfperf: ${f}:1: ${why}\n`);
      }
    }
  });

  it('a trace_format other than the number 1 is refused by all three', async () => {
    for (const tf of [99, '1', null]) {
      const f = withHeader(`tf-${String(tf)}.ndjson`, (h) => (h.trace_format = tf));
      for (const args of readers(f)) {
        const r = await spfperf(args);
        expect(r.status, args.join(' ')).toBe(1);
        expect(r.stderr, args.join(' ')).toMatch(/is not one this spfperf reads \(it reads format 1\)\n$/);
      }
    }
  });

  it('a UTF-8 BOM before the header is accepted by report, script and diff, for a trace and a --save document', async () => {
    const bom = join(dir, 'bom.ndjson');
    writeFileSync(bom, '\uFEFF' + text);
    for (const args of readers(bom)) {
      const r = await spfperf(args);
      expect(r.status, `${args.join(' ')}: ${r.stderr}`).toBe(0);
    }
    const plain = await spfperf(['script', '-i', TRACE]);
    expect((await spfperf(['script', '-i', bom])).stdout).toBe(plain.stdout);
    const saved = join(dir, 's.json');
    const s = await spfperf(['stat', '--save', saved, '-e', 'faults', '--cpus', '1', 'page_fault1', 'threads=1', 'iterations=1', 'size=64K']);
    expect(s.status).toBe(0);
    writeFileSync(join(dir, 'sbom.json'), '\uFEFF' + readFileSync(saved, 'utf8'));
    const d = await spfperf(['diff', saved, join(dir, 'sbom.json')]);
    expect(d.status, d.stderr).toBe(0);
  });

  it('a --save document with a format that is not a whole number this build reads is refused by diff', async () => {
    const saved = join(dir, 's.json');
    const doc = JSON.parse(readFileSync(saved, 'utf8')) as Record<string, unknown>;
    for (const [fmt, msg] of [['1', /document field 'format' is the string "1", not a format this spfperf reads/], [99, /has format 99, newer than this spfperf reads/], [0, /field 'format' is number 0/]] as const) {
      const f = join(dir, `fmt-${String(fmt)}.json`);
      writeFileSync(f, JSON.stringify({ ...doc, format: fmt }));
      const r = await spfperf(['diff', saved, f]);
      expect(r.status).toBe(1);
      expect(r.stderr).toMatch(msg);
    }
  });
});

describe('the checks themselves', () => {
  it('what the writers write passes; absent fields are not required', () => {
    expect(headerProblem(JSON.parse(lines[0]))).toBeNull();
    expect(summaryProblem(JSON.parse(lines.filter((l) => l.includes('"type":"summary"'))[0]))).toBeNull();
    expect(headerProblem({ type: 'header', trace_format: 1 })).toBeNull();
    expect(headerProblem({ workload: { params: { mode: 'threads', threads: 4 } } })).toBeNull();
    expect(summaryProblem({ stopped: 'yes' })).toBe(`summary field 'stopped' is the string "yes", not true or false`);
    expect(savedProblem({ spfperf: '0.1.0' })).toBe("no 'format' field");
  });
});
