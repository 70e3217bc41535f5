import { describe, expect, it } from 'vitest';
import { Rng, streamSeed } from '../../src/engine/rng.js';

const draw = (r: Rng, n: number): number[] => Array.from({ length: n }, () => r.u32());

describe('Rng', () => {
  it('gives the same sequence for the same seed', () => {
    expect(draw(new Rng(42), 100)).toEqual(draw(new Rng(42), 100));
    const a = new Rng(7);
    const b = new Rng(7);
    for (let i = 0; i < 50; i++) {
      expect(a.float()).toBe(b.float());
      expect(a.int(1000)).toBe(b.int(1000));
    }
  });

  it('gives different sequences for different seeds (including neighbours and 0)', () => {
    const seqs = [0, 1, 2, 3, 42, 0xffffffff].map((s) => draw(new Rng(s), 8).join(','));
    expect(new Set(seqs).size).toBe(seqs.length);
  });

  it('does not repeat a value early in the stream', () => {
    const xs = draw(new Rng(1), 1000);
    expect(new Set(xs).size).toBe(1000);
  });

  it('u32 is an unsigned 32-bit integer', () => {
    const r = new Rng(3);
    const bad = draw(r, 2000).filter((x) => !Number.isInteger(x) || x < 0 || x >= 2 ** 32);
    expect(bad).toEqual([]);
  });

  it('float is in [0, 1) and roughly uniform', () => {
    const r = new Rng(99);
    const n = 20_000;
    let sum = 0;
    let below = 0;
    for (let i = 0; i < n; i++) {
      const f = r.float();
      if (!(f >= 0 && f < 1)) expect.fail(`float() gave ${f}`);
      sum += f;
      if (f < 0.25) below++;
    }
    expect(sum / n).toBeGreaterThan(0.48);
    expect(sum / n).toBeLessThan(0.52);
    expect(below / n).toBeGreaterThan(0.23);
    expect(below / n).toBeLessThan(0.27);
  });

  it('int(n) is an integer in [0, n) and hits every value', () => {
    for (const n of [1, 2, 6, 1000]) {
      const r = new Rng(n);
      const seen = new Set<number>();
      const bad: number[] = [];
      for (let i = 0; i < 20 * n + 200; i++) {
        const x = r.int(n);
        if (!Number.isInteger(x) || x < 0 || x >= n) bad.push(x);
        seen.add(x);
      }
      expect(bad).toEqual([]);
      if (n <= 6) expect(seen.size).toBe(n);
      else expect(seen.size).toBeGreaterThan(0.99 * n);
    }
  });

  it('int(1) is always 0', () => {
    const r = new Rng(5);
    for (let i = 0; i < 100; i++) expect(r.int(1)).toBe(0);
  });
});

describe('float53 and streamSeed', () => {
  it('float53 is in [0, 1) and uses more than 32 bits', () => {
    const r = new Rng(5);
    const xs = Array.from({ length: 2000 }, () => r.float53());
    expect(xs.filter((x) => x < 0 || x >= 1)).toEqual([]);
    // A float of 32 bits is a multiple of 2^-32; one of 53 bits almost never is.
    expect(xs.filter((x) => Number.isInteger(x * 2 ** 32)).length).toBeLessThan(5);
  });

  it('streamSeed is a function of the parent and the whole path', () => {
    expect(streamSeed(1, 2, 3)).toBe(streamSeed(1, 2, 3));
    const seeds = [streamSeed(1, 2, 3), streamSeed(2, 2, 3), streamSeed(1, 3, 2), streamSeed(1, 2), streamSeed(1, 2, 3, 0), streamSeed(1, 2, 4)];
    expect(new Set(seeds).size).toBe(seeds.length);
    for (const s of seeds) expect(Number.isInteger(s) && s >= 0 && s < 2 ** 32).toBe(true);
  });
});
