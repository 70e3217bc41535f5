import { createReadStream, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { UsageError } from '../../src/errors.js';
import { readTrace, type TraceSample } from '../../src/trace/ndjson-reader.js';
import { ROOT } from '../helpers/golden.js';

const fixture = (name: string): string => join(ROOT, 'fixtures', 'traces', name);

async function read(input: Readable | string | Buffer[], name = 't') {
  const stream = typeof input === 'string' ? Readable.from([Buffer.from(input)]) : Array.isArray(input) ? Readable.from(input) : input;
  const warnings: string[] = [];
  const samples: { s: TraceSample; line: number }[] = [];
  const st = await readTrace(stream, { sample: (s, line) => samples.push({ s, line }) }, { name, warn: (m) => warnings.push(m) });
  return { st, samples, warnings };
}

const HEADER = '{"type":"header","trace_format":1,"events":["faults"]}';
const sample = (ts: number, comm = 'x'): string => JSON.stringify({ type: 'sample', ts, cpu: 0, pid: 1, tid: 2, comm, event: 'faults' });
const SUMMARY = '{"type":"summary","samples":{"faults":2}}';

describe('readTrace', () => {
  it('reads a recorded trace: header, every sample with its line number, summary', async () => {
    const { st, samples, warnings } = await read(createReadStream(fixture('ebizzy-spf.ndjson')));
    const lines = readFileSync(fixture('ebizzy-spf.ndjson'), 'utf8').trim().split('\n');
    expect(warnings).toEqual([]);
    expect(st.header?.trace_format).toBe(1);
    expect(st.samples).toBe(lines.length - 2);
    expect(samples[0].line).toBe(2);
    expect(st.summary?.type).toBe('summary');
    expect(st.lines).toBe(lines.length);
    expect(st.skipped).toBe(0);
  });

  it('joins lines split across chunks, multi-byte characters included', async () => {
    const text = [HEADER, sample(1, 'héllo→'), sample(2), SUMMARY].join('\n') + '\n';
    const buf = Buffer.from(text);
    const chunks: Buffer[] = [];
    for (let i = 0; i < buf.length; i += 7) chunks.push(buf.subarray(i, i + 7));
    const { st, samples } = await read(chunks);
    expect(samples.map((x) => [x.s.ts, x.s.comm, x.line])).toEqual([[1, 'héllo→', 2], [2, 'x', 3]]);
    expect(st.summary).not.toBeNull();
  });

  it('accepts CRLF line ends, blank lines and a last line without its newline', async () => {
    const { st, samples, warnings } = await read(`${HEADER}\r\n\r\n${sample(1)}\r\n${SUMMARY}`);
    expect(warnings).toEqual([]);
    expect(samples.map((x) => x.line)).toEqual([3]);
    expect(st.summary).not.toBeNull();
  });

  it('reports a line cut short at the end of the input with its number, and goes on', async () => {
    const { st, samples, warnings } = await read(`${HEADER}\n${sample(1)}\n${sample(2).slice(0, 30)}`, 'cut.ndjson');
    expect(samples).toHaveLength(1);
    expect(warnings).toEqual(['spfperf: cut.ndjson:3: skipped: truncated line (the file ends in the middle of it)\n']);
    expect(st.skipped).toBe(1);
    expect(st.summary).toBeNull();
  });

  it('skips corrupt lines and records that are not samples, naming each line', async () => {
    const { st, samples, warnings } = await read(
      [HEADER, sample(1), '{"type":"sample",', '[1]', '{"type":"sample","ts":1}', '{"type":"what"}', '{"x":1}', HEADER, sample(2), SUMMARY].join('\n') + '\n',
      'c',
    );
    expect(samples.map((x) => x.line)).toEqual([2, 9]);
    expect(st.skipped).toBe(6);
    expect(warnings.map((w) => w.replace(/\(.*\)/, '(...)'))).toEqual([
      'spfperf: c:3: skipped: not valid JSON (...)\n',
      'spfperf: c:4: skipped: not a trace record (...)\n',
      "spfperf: c:5: skipped: sample without an 'event'\n",
      "spfperf: c:6: skipped: unknown record type 'what'\n",
      "spfperf: c:7: skipped: record without a 'type'\n",
      'spfperf: c:8: skipped: a second header line\n',
    ]);
  });

  // Found by the CLI fuzz test (test/cli/fuzz.test.ts): a sample whose vm_end was a number got to
  // report's vma key, which called .replace on it (exit 70).
  it('skips a sample whose optional field has the wrong type, naming the field', async () => {
    const bad = (k: string, v: unknown): string => JSON.stringify({ ...JSON.parse(sample(1)), [k]: v });
    const { samples, warnings } = await read([HEADER, bad('vm_end', -1), bad('period', '2'), bad('retry', 1), bad('address', null), sample(5), SUMMARY].join('\n'), 'o');
    expect(samples.map((x) => x.line)).toEqual([6]);
    expect(warnings).toEqual([
      "spfperf: o:2: skipped: sample with a number for 'vm_end' (a string expected)\n",
      "spfperf: o:3: skipped: sample with a string for 'period' (a number expected)\n",
      "spfperf: o:4: skipped: sample with a number for 'retry' (a boolean expected)\n",
      "spfperf: o:5: skipped: sample with null for 'address' (a string expected)\n",
    ]);
  });

  it('lists the first 20 skipped lines and counts the rest', async () => {
    const bad = Array.from({ length: 30 }, () => 'nope');
    const { st, warnings } = await read([HEADER, ...bad, SUMMARY].join('\n'), 'b');
    expect(st.skipped).toBe(30);
    expect(warnings).toHaveLength(21);
    expect(warnings[20]).toBe('spfperf: b: more skipped lines are counted, not listed\n');
  });

  it('fails without a header, on an unknown trace format, and on empty input', async () => {
    await expect(read(`${sample(1)}\n`, 'h')).rejects.toThrow(/^h:1: not an spfperf trace: no header line/);
    await expect(read('garbage\n', 'h')).rejects.toThrow(/^h:1: not an spfperf trace/);
    await expect(read('{"type":"header","trace_format":99}\n', 'h')).rejects.toThrow("h: trace format 99 is not one this spfperf reads (it reads format 1)");
    await expect(read('{"type":"header"}\n', 'h')).rejects.toThrow('trace format null');
    await expect(read('', 'h')).rejects.toBeInstanceOf(UsageError);
  });

  it('skips a line longer than 16 MB without holding it', async () => {
    const big = Buffer.alloc(1 << 20, 'x');
    const chunks = [Buffer.from(`${HEADER}\n`), ...Array.from({ length: 17 }, () => big), Buffer.from(`\n${sample(1)}\n`)];
    const { st, samples, warnings } = await read(chunks, 'l');
    expect(samples.map((x) => x.line)).toEqual([3]);
    expect(warnings[0]).toMatch(/^spfperf: l:2: skipped: line longer than/);
    expect(st.skipped).toBe(1);
  });

  it('waits for afterChunk() before reading on', async () => {
    const order: string[] = [];
    const stream = Readable.from([Buffer.from(`${HEADER}\n`), Buffer.from(`${sample(1)}\n`)]);
    await readTrace(
      stream,
      {
        sample: () => order.push('sample'),
        afterChunk: () => {
          order.push('chunk');
          return new Promise<void>((r) => setImmediate(() => (order.push('resumed'), r())));
        },
      },
      { name: 'a' },
    );
    expect(order).toEqual(['chunk', 'resumed', 'sample', 'chunk', 'resumed']);
  });

  it('without a sample handler counts sample lines without parsing them, and still finds the summary', async () => {
    const summary = '{"type":"summary","elapsed":1}';
    // The second "sample" is not even JSON: not parsed, so not reported; counted as written.
    const stream = Readable.from([Buffer.from(`${HEADER}\n${sample(1)}\n{"type":"sample",oops\n${summary}\n`)]);
    let got: unknown = null;
    const st = await readTrace(stream, { summary: (s) => (got = s) }, { name: 'a' });
    expect(st.samples).toBe(2);
    expect(st.skipped).toBe(0);
    expect(got).toEqual({ type: 'summary', elapsed: 1 });
  });

  it('a cpu-clock sample\'s callchain: an array of {ip, sym[, dso]} strings, or the line is skipped', async () => {
    const base = { type: 'sample', ts: 1, cpu: 0, pid: 1, tid: 2, comm: 'x', event: 'cpu-clock', period: 250000 };
    const good = { ...base, callchain: [{ ip: '0xffffffff81000010', sym: 'f+0x10' }, { ip: '0x401010', sym: 'a.spf:1', dso: 'a.spf' }] };
    const lines = [HEADER, JSON.stringify(good), JSON.stringify({ ...base, callchain: 'f;g' }), JSON.stringify({ ...base, callchain: [{ ip: 1, sym: 'f' }] }), SUMMARY];
    const { samples, warnings } = await read(lines.join('\n'), 'g');
    expect(samples.map((x) => x.s.callchain)).toEqual([good.callchain]);
    expect(warnings).toEqual([
      "spfperf: g:3: skipped: sample with a string for 'callchain' (an array expected)\n",
      "spfperf: g:4: skipped: sample with a 'callchain' frame that is not {ip, sym[, dso]} (strings)\n",
    ]);
  });
});
