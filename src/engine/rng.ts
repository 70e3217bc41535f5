/**
 * The one seeded PRNG of a simulation (sfc32, seeded through splitmix32). Nothing in the engine or
 * the mm model may use the host's random source: every random choice is drawn from here, so the same seed gives
 * byte-identical output.
 */
export class Rng {
  /**
   * The state words a, b, c, d as int32 (read back with >>> 0): a class field holding a value of
   * 2^31 or more is a heap number, and every draw stored four (an allocation each).
   */
  private readonly s = new Int32Array(4);

  constructor(seed: number) {
    let s = seed >>> 0;
    const split = (): number => {
      s = (s + 0x9e3779b9) >>> 0;
      let z = s;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
      return (z ^ (z >>> 16)) >>> 0;
    };
    for (let i = 0; i < 4; i++) this.s[i] = split();
    for (let i = 0; i < 12; i++) this.u32();
  }

  /** A uniform 32-bit unsigned integer. */
  u32(): number {
    const st = this.s;
    const a = st[0];
    const b = st[1];
    const c = st[2];
    const d = st[3];
    const t = (a + b + d) | 0;
    st[3] = (d + 1) | 0;
    st[0] = b ^ (b >>> 9);
    st[1] = (c + (c << 3)) | 0;
    const c2 = (c << 21) | (c >>> 11);
    st[2] = (c2 + t) | 0;
    return t >>> 0;
  }

  /** A uniform float in [0, 1). */
  float(): number {
    return this.u32() / 4294967296;
  }

  /** A uniform float in [0, 1) with 53 random bits (every double of the form k / 2^53). */
  float53(): number {
    return ((this.u32() >>> 5) * 67108864 + (this.u32() >>> 6)) / 9007199254740992;
  }

  /** A uniform integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.float() * n);
  }
}

/**
 * The seed of a sub-stream: a hash of a parent seed and a path of small integers (which process,
 * which statement, which thread), so that a stream is a function of where its user sits in the
 * workload and not of the order in which tasks happened to draw.
 */
export function streamSeed(parent: number, ...path: readonly number[]): number {
  let h = (parent >>> 0) ^ 0x5bd1e995;
  for (const p of path) {
    h = Math.imul(h ^ (p >>> 0), 0x9e3779b1) >>> 0;
    h = Math.imul(h ^ (h >>> 15), 0x85ebca6b) >>> 0;
    h = (h ^ (h >>> 13)) >>> 0;
  }
  return h;
}
