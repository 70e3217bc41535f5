import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { EV, NUM_EVENTS, parseEventList } from '../../src/events/catalog.js';
import { kernelIp, ksym, ksymName as siteName } from '../../src/events/ksym.js';
import { AtomicFile, NdjsonWriter, RecordSink, StreamOutput, type ChunkOutput } from '../../src/trace/ndjson-writer.js';
import { FAULT_MAJOR, FAULT_RETRIED, FAULT_SIGNAL_SHIFT, FAULT_SPEC, FAULT_VMA_LOCK, type EventSource } from '../../src/trace/sink.js';

class Collect implements ChunkOutput {
  chunks: string[] = [];
  write(c: string): undefined {
    this.chunks.push(c);
    return undefined;
  }
  async end(): Promise<void> {}
}

const src = (over: Partial<EventSource> = {}): EventSource => ({
  idx: 0,
  tid: 1001,
  pid: 1000,
  comm: 'ebizzy',
  cpuNow: () => 3,
  timeNow: () => 1234.6,
  ...over,
});

describe('NdjsonWriter', () => {
  it('batches lines into chunks of about chunkBytes and loses none', async () => {
    const out = new Collect();
    const w = new NdjsonWriter(out, 100);
    const lines = Array.from({ length: 50 }, (_, i) => `{"n":${i}}\n`);
    for (const l of lines) w.line(l);
    expect(out.chunks.length).toBeGreaterThan(3);
    expect(out.chunks.length).toBeLessThan(10);
    await w.end();
    expect(out.chunks.join('')).toBe(lines.join(''));
    expect(w.lines).toBe(50);
  });

  it('writes nothing until a chunk is full, then everything on end()', async () => {
    const out = new Collect();
    const w = new NdjsonWriter(out);
    w.line('{"a":1}\n');
    expect(out.chunks).toEqual([]);
    await w.end();
    expect(out.chunks).toEqual(['{"a":1}\n']);
  });

  it('waits for a stream that pushes back (drain() pends until the reader reads)', async () => {
    const pipe = new PassThrough({ highWaterMark: 64 });
    const w = new NdjsonWriter(new StreamOutput(pipe), 32);
    for (let i = 0; i < 20; i++) w.line(`{"line":${i},"pad":"xxxxxxxxxxxxxxxxxxxx"}\n`);
    const wait = w.drain();
    expect(wait).toBeInstanceOf(Promise);
    let drained = false;
    void wait!.then(() => (drained = true));
    await new Promise((r) => setImmediate(r));
    expect(drained).toBe(false);
    const got: Buffer[] = [];
    pipe.on('data', (b: Buffer) => got.push(b));
    await w.end();
    expect(drained).toBe(true);
    const text = Buffer.concat(got).toString();
    expect(text.split('\n').filter(Boolean).map((l) => JSON.parse(l).line)).toEqual([...Array(20).keys()]);
  });
});

describe('RecordSink', () => {
  it('writes a sample per count() call of a selected software event, nothing for others', async () => {
    const out = new Collect();
    const w = new NdjsonWriter(out);
    const sink = new RecordSink(parseEventList(['faults']), w, NUM_EVENTS);
    const t2 = src({ idx: 1, tid: 1002, cpuNow: () => 0 });
    sink.count(EV.PAGE_FAULTS, src(), 1);
    sink.count(EV.MINOR_FAULTS, src(), 1);
    sink.count(EV.PAGE_FAULTS, t2, 2);
    sink.faultDone(src(), 1000.2, 1800.6, 0);
    sink.faultDone(t2, 1000, 1500, 0);
    await w.end();
    const lines = out.chunks.join('').trim().split('\n').map((l) => JSON.parse(l));
    const mmap = { path: 'mmap', retry: false, major: false };
    expect(lines).toEqual([
      { type: 'sample', ts: 1235, cpu: 3, pid: 1000, tid: 1001, comm: 'ebizzy', event: 'faults', ...mmap, latency_ns: 800 },
      { type: 'sample', ts: 1235, cpu: 0, pid: 1000, tid: 1002, comm: 'ebizzy', event: 'faults', period: 2, ...mmap, latency_ns: 500 },
    ]);
    expect(sink.written[EV.PAGE_FAULTS]).toBe(2);
    expect(sink.traced.size).toBe(0);
  });

  it('writes pagefault:* fields as 0x strings, the caller as a 64-bit kernel address with its symbol', async () => {
    const out = new Collect();
    const w = new NdjsonWriter(out);
    const sink = new RecordSink(parseEventList(['pagefault:*']), w, NUM_EVENTS);
    expect(sink.traced.has(EV.SPF_VMA_CHANGED)).toBe(true);
    const ip = ksym('pte_map_lock') + 0x4c;
    sink.sample(EV.SPF_VMA_CHANGED, src(), [ip, 0x7ffff7000000, 0x7ffff7080000, 0x7ffff7001000]);
    sink.count(EV.SPF_VMA_CHANGED, src(), 1); // the count half of a hit: not a second sample
    await w.end();
    const lines = out.chunks.join('').trim().split('\n');
    expect(lines).toHaveLength(1);
    const s = JSON.parse(lines[0]);
    expect(s).toEqual({
      type: 'sample', ts: 1235, cpu: 3, pid: 1000, tid: 1001, comm: 'ebizzy', event: 'pagefault:spf_vma_changed',
      caller: `0x${kernelIp(ip)}`, sym: siteName(ip), vm_start: '0x7ffff7000000', vm_end: '0x7ffff7080000', address: '0x7ffff7001000',
    });
    expect(s.caller).toBe(`0xffffffff${ip.toString(16)}`);
    expect(s.sym).toBe('pte_map_lock+0x4c');
  });

  it('writes exceptions:page_fault_user as address, ip (0x strings) and error_code (a number)', async () => {
    const out = new Collect();
    const w = new NdjsonWriter(out);
    const sink = new RecordSink(parseEventList(['exceptions:page_fault_user']), w, NUM_EVENTS);
    sink.sample(EV.PAGE_FAULT_USER, src(), [0x7f0000001000, 0x401000, 6]);
    await w.end();
    const s = JSON.parse(out.chunks.join(''));
    expect(s.address).toBe('0x7f0000001000');
    expect(s.ip).toBe('0x401000');
    expect(s.error_code).toBe(6);
  });

  it('escapes a comm that needs it', async () => {
    const out = new Collect();
    const w = new NdjsonWriter(out);
    const sink = new RecordSink(parseEventList(['faults']), w, NUM_EVENTS);
    sink.count(EV.PAGE_FAULTS, src({ comm: 'a "q" \\ é' }), 1);
    sink.flushOpen();
    await w.end();
    expect(JSON.parse(out.chunks.join('')).comm).toBe('a "q" \\ é');
  });

  it('gives each fault sample its fault\'s outcome and latency, holding the fault\'s lines until it ends', async () => {
    const out = new Collect();
    const w = new NdjsonWriter(out);
    const sink = new RecordSink(parseEventList(['faults,minor-faults,major-faults,spf,pagefault:*']), w, NUM_EVENTS);
    expect(sink.wantsFaults).toBe(true);
    const t2 = src({ idx: 1, tid: 1002 });
    // Thread 0 enters a fault, aborts speculatively, then thread 1 takes a whole fault, then 0 ends.
    sink.count(EV.PAGE_FAULTS, src(), 1);
    sink.sample(EV.SPF_PTE_LOCK, src(), [ksym('pte_map_lock') + 0xc0, 0x1000, 0x2000, 0x1000]);
    sink.count(EV.PAGE_FAULTS, t2, 1);
    sink.count(EV.SPF, t2, 1);
    sink.count(EV.MINOR_FAULTS, t2, 1);
    sink.faultDone(t2, 100, 600, FAULT_SPEC);
    expect(out.chunks).toEqual([]);
    sink.count(EV.MAJOR_FAULTS, src(), 1);
    sink.faultDone(src(), 0, 4321.4, FAULT_RETRIED | FAULT_MAJOR);
    await w.end();
    const lines = out.chunks.join('').trim().split('\n').map((l) => JSON.parse(l));
    expect(lines.map((l) => `${l.tid} ${l.event} ${l.path} ${l.retry} ${l.major} ${l.latency_ns}`)).toEqual([
      '1002 faults spec false false 500',
      '1002 spf spec false false 500',
      '1002 minor-faults spec false false 500',
      '1001 faults mmap true true 4321',
      '1001 pagefault:spf_pte_lock undefined undefined undefined undefined',
      '1001 major-faults mmap true true 4321',
    ]);
  });

  it('names the per-VMA lock path and a fault\'s signal; faults the run stopped in are written without an outcome', async () => {
    const out = new Collect();
    const w = new NdjsonWriter(out);
    const sink = new RecordSink(parseEventList(['faults']), w, NUM_EVENTS);
    sink.count(EV.PAGE_FAULTS, src(), 1);
    sink.faultDone(src(), 0, 10, FAULT_SPEC | FAULT_VMA_LOCK);
    sink.count(EV.PAGE_FAULTS, src(), 1);
    sink.faultDone(src(), 0, 10, 11 << FAULT_SIGNAL_SHIFT);
    sink.count(EV.PAGE_FAULTS, src({ idx: 2 }), 1);
    sink.flushOpen();
    await w.end();
    const lines = out.chunks.join('').trim().split('\n').map((l) => JSON.parse(l));
    expect(lines.map((l) => [l.path, l.signal, l.latency_ns])).toEqual([['vma', undefined, 10], ['mmap', 11, 10], [undefined, undefined, undefined]]);
    expect(sink.written[EV.PAGE_FAULTS]).toBe(3);
  });

  it('recording only tracepoints holds nothing back (no fault outcome wanted)', async () => {
    const out = new Collect();
    const w = new NdjsonWriter(out, 1);
    const sink = new RecordSink(parseEventList(['exceptions:page_fault_user']), w, NUM_EVENTS);
    expect(sink.wantsFaults).toBe(false);
    sink.count(EV.PAGE_FAULTS, src(), 1);
    sink.sample(EV.PAGE_FAULT_USER, src(), [0x1000, 0x401000, 6]);
    expect(out.chunks).toHaveLength(1);
    await w.end();
  });
});

describe('AtomicFile', () => {
  it('writes FILE.tmp and renames it to FILE on commit', () => {
    const dir = mkdtempSync(join(tmpdir(), 'spfperf-atomic-'));
    const path = join(dir, 'out.ndjson');
    writeFileSync(path, 'old');
    const f = new AtomicFile(path);
    expect(existsSync(`${path}.tmp`)).toBe(true);
    expect(readFileSync(path, 'utf8')).toBe('old');
    f.commit();
    expect(existsSync(`${path}.tmp`)).toBe(false);
    expect(readFileSync(path, 'utf8')).toBe('');
  });

  it('leaves the old file alone and no .tmp behind on discard', () => {
    const dir = mkdtempSync(join(tmpdir(), 'spfperf-atomic-'));
    const path = join(dir, 'out.ndjson');
    writeFileSync(path, 'old');
    new AtomicFile(path).discard();
    expect(existsSync(`${path}.tmp`)).toBe(false);
    expect(readFileSync(path, 'utf8')).toBe('old');
  });
});
