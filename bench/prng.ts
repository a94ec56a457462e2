/**
 * A small seeded pseudo-random generator (sfc32), so every generated input is a pure function
 * of its seed: two machines running the bench with the same seed time the same bytes.
 * Math.random is not seedable, hence this.
 */
export class Prng {
  // The state lives in an Int32Array and all arithmetic is int32: object fields holding
  // uint32 values above 2^31 are boxed, which made each draw ~10x slower.
  readonly #s = new Int32Array(4);

  constructor(seed: number) {
    // splitmix32 spreads a small integer seed over the 128-bit state, so seeds 1 and 2 do not
    // start with nearly identical streams.
    let x = seed | 0;
    for (let i = 0; i < 4; i++) {
      x = (x + 0x9e3779b9) | 0;
      let z = x;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
      this.#s[i] = z ^ (z >>> 16);
    }
    // The first outputs of sfc32 are weakly mixed; discarding a few is the usual remedy.
    for (let i = 0; i < 16; i++) this.nextUint32();
  }

  /** A uniformly distributed integer in [0, 2^32). */
  nextUint32(): number {
    const s = this.#s;
    const a = s[0] ?? 0;
    const b = s[1] ?? 0;
    const c = s[2] ?? 0;
    const d = s[3] ?? 0;
    const t = (((a + b) | 0) + d) | 0;
    s[3] = (d + 1) | 0;
    s[0] = b ^ (b >>> 9);
    s[1] = (c + (c << 3)) | 0;
    s[2] = (((c << 21) | (c >>> 11)) + t) | 0;
    return t >>> 0;
  }

  /** A uniformly distributed float in [0, 1). */
  nextFloat(): number {
    return this.nextUint32() / 4294967296;
  }

  /** A uniformly distributed integer in [0, n) for n <= 2^32 (bias is negligible for the small n used here). */
  nextInt(n: number): number {
    return Math.floor(this.nextFloat() * n);
  }
}
