import { describe, expect, test } from 'vitest';
import { decodeWire, encodeWire } from '../../src/pool/wire-value.js';
import { mapPool } from '../../src/pool/pool.js';
import { runSpecOf } from '../../src/pool/run-job.js';

/** Through JSON as BullMQ stores it. */
const roundTrip = (v: unknown): unknown => decodeWire(JSON.parse(JSON.stringify(encodeWire(v))));

describe('values through JSON as a structured clone keeps them', () => {
  test('numbers JSON would change: NaN, the infinities, -0', () => {
    const back = roundTrip([NaN, Infinity, -Infinity, -0, 0, 1.5e-300, 0.1 + 0.2]) as number[];
    expect(back.map((x) => Object.is(x, NaN) || x)).toEqual([true, Infinity, -Infinity, -0, 0, 1.5e-300, 0.1 + 0.2]);
    expect(Object.is(back[3], -0)).toBe(true);
    expect(Object.is(back[4], 0)).toBe(true);
  });

  test('Maps, Sets, typed arrays (every byte), undefined, bigint, Date', () => {
    const f = new Float64Array([1, -0, NaN, 2 ** 53 + 2, -Infinity]);
    const v = { m: new Map<unknown, unknown>([['a', 1], [2, { x: undefined }]]), s: new Set([1, 'b']), f, i: new Int32Array([-1, 7]), u: undefined, arr: [undefined, null], big: 2n ** 70n, d: new Date(86_400_000) };
    const back = roundTrip(v) as typeof v;
    expect(back).toStrictEqual(v);
    expect(back.f).toBeInstanceOf(Float64Array);
    expect(Buffer.from(back.f.buffer).equals(Buffer.from(f.buffer))).toBe(true);
    expect('u' in back).toBe(true);
    expect(back.arr).toStrictEqual([undefined, null]);
  });

  test('a plain object with the tag\'s own key comes back as it was', () => {
    const v = { $wire: 'Map', v: [[1, 2]], nested: { $wire: 'undefined' } };
    expect(roundTrip(v)).toStrictEqual(v);
  });

  test('what a structured clone refuses is refused (functions, class instances)', () => {
    expect(() => encodeWire({ f: () => 1 })).toThrow(/cannot encode a function/);
    expect(() => encodeWire(new (class Foo {})())).toThrow(/instance of Foo/);
  });

  test('a run\'s result comes back equal, to the byte of its JSON', async () => {
    const { results } = await mapPool('run', [runSpecOf('page_fault1', ['threads=2', 'iterations=1', 'size=256K'], { cpus: '2', seed: '3' })], { jobs: 1 });
    const back = roundTrip(results[0]);
    expect(back).toStrictEqual(results[0]);
    expect(JSON.stringify(back)).toBe(JSON.stringify(results[0]));
  });
});
