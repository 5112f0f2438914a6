/**
 * Seeded random numbers: xoshiro128** (Blackman & Vigna) seeded through splitmix32. 32-bit integer
 * arithmetic only, so the sequence is the same on every platform, and the whole state is four integers
 * plus the cached Box-Muller spare, which makes checkpoint/resume bit-identical.
 */
export interface RngState {
  /** The four xoshiro128** state words, as unsigned 32-bit integers. */
  s: [number, number, number, number];
  /** Second normal deviate of the last Box-Muller pair, not yet returned. */
  spare: number | null;
}

export interface Rng {
  /** Uniform unsigned 32-bit integer. */
  uint32(): number;
  /** Uniform in [0, 1), 53 bits of precision. */
  float(): number;
  /** Uniform integer in [0, n), without modulo bias; n in [1, 2^32]. */
  int(n: number): number;
  /** Standard normal deviate. */
  normal(): number;
  /** Fisher-Yates shuffle in place; returns the same array. */
  shuffle<T extends Int32Array | Uint32Array>(values: T): T;
  getState(): RngState;
  setState(state: RngState): void;
}

const TWO_32 = 4294967296;

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}

function splitmix32(seed: number): () => number {
  let state = seed | 0;
  return () => {
    state = (state + 0x9e3779b9) | 0;
    let z = state;
    z = Math.imul(z ^ (z >>> 16), 0x21f0aaad);
    z = Math.imul(z ^ (z >>> 15), 0x735a2d97);
    return (z ^ (z >>> 15)) >>> 0;
  };
}

export function createRng(seed: number): Rng {
  if (!Number.isSafeInteger(seed)) throw new RangeError(`seed must be a safe integer, got ${seed}`);
  // Both halves of the seed feed the state, so seeds differing only above bit 32 still differ.
  const low = splitmix32(seed >>> 0);
  const high = splitmix32(Math.floor(seed / TWO_32) ^ 0x5bd1e995);
  const s = new Uint32Array(4);
  s[0] = low() ^ high();
  s[1] = low();
  s[2] = low() ^ high();
  s[3] = low();
  if ((s[0] | s[1] | s[2] | s[3]) === 0) s[0] = 1;
  return new Xoshiro128(s);
}

class Xoshiro128 implements Rng {
  private readonly s: Uint32Array;
  private spare: number | null = null;

  constructor(s: Uint32Array) {
    this.s = s;
  }

  uint32(): number {
    const s = this.s;
    const result = Math.imul(rotl(Math.imul(s[1], 5), 7), 9) >>> 0;
    const t = s[1] << 9;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 11);
    return result;
  }

  float(): number {
    const high = this.uint32() >>> 5; // 27 bits
    const low = this.uint32() >>> 6; // 26 bits
    return (high * 67108864 + low) / 9007199254740992;
  }

  int(n: number): number {
    if (!Number.isInteger(n) || n < 1 || n > TWO_32) throw new RangeError(`int(n) needs 1 <= n <= 2^32, got ${n}`);
    // Reject the top partial block of 2^32 so every residue is equally likely.
    const limit = TWO_32 - (TWO_32 % n);
    let x = this.uint32();
    while (x >= limit) x = this.uint32();
    return x % n;
  }

  normal(): number {
    if (this.spare !== null) {
      const value = this.spare;
      this.spare = null;
      return value;
    }
    const u1 = 1 - this.float(); // in (0, 1], so the log is finite
    const u2 = this.float();
    const radius = Math.sqrt(-2 * Math.log(u1));
    const angle = 2 * Math.PI * u2;
    this.spare = radius * Math.sin(angle);
    return radius * Math.cos(angle);
  }

  shuffle<T extends Int32Array | Uint32Array>(values: T): T {
    for (let i = values.length - 1; i > 0; i--) {
      const j = this.int(i + 1);
      const tmp = values[i];
      values[i] = values[j];
      values[j] = tmp;
    }
    return values;
  }

  getState(): RngState {
    return { s: [this.s[0], this.s[1], this.s[2], this.s[3]], spare: this.spare };
  }

  setState(state: RngState): void {
    const words = state.s;
    if (words.length !== 4 || words.some((w) => !Number.isInteger(w) || w < 0 || w >= TWO_32)) {
      throw new RangeError('RngState.s must be four unsigned 32-bit integers');
    }
    if (words.every((w) => w === 0)) throw new RangeError('RngState.s must not be all zero');
    this.s.set(words);
    this.spare = state.spare;
  }
}
