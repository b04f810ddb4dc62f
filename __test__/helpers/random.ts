/** A seeded generator (sfc32) so that equivalence and fuzz inputs are reproducible from the seed. */
import { isValidPrivateKey } from '../../ts/crypto/validate.js';

export class Rng {
  #a: number;
  #b: number;
  #c: number;
  #d: number;

  constructor(seed: number) {
    this.#a = 0x9e3779b9;
    this.#b = 0x243f6a88;
    this.#c = 0xb7e15162;
    this.#d = seed >>> 0;
    for (let i = 0; i < 15; i++) this.next();
  }

  /** A uniform 32-bit unsigned integer. */
  next(): number {
    const t = (((this.#a + this.#b) | 0) + this.#d) | 0;
    this.#d = (this.#d + 1) | 0;
    this.#a = this.#b ^ (this.#b >>> 9);
    this.#b = (this.#c + (this.#c << 3)) | 0;
    this.#c = (this.#c << 21) | (this.#c >>> 11);
    this.#c = (this.#c + t) | 0;
    return t >>> 0;
  }

  /** An integer in [0, n). */
  int(n: number): number {
    return Math.floor((this.next() / 0x100000000) * n);
  }

  bytes(n: number): Uint8Array {
    const out = new Uint8Array(n);
    for (let i = 0; i < n; i++) out[i] = this.next() & 0xff;
    return out;
  }

  /** `p` with 1-3 random edits (a byte changed, inserted or deleted, or the tail cut at `minLength` or later). */
  mutate(p: Uint8Array, minLength = 0): Uint8Array {
    const b = Array.from(p);
    for (let n = 1 + this.int(3); n > 0; n--) {
      const at = this.int(b.length + 1);
      const op = this.int(4);
      if (op === 0) b[at] = this.int(256);
      else if (op === 1) b.splice(at, 0, this.int(256));
      else if (op === 2) b.splice(at, 1);
      else b.length = Math.max(minLength, at);
    }
    return Uint8Array.from(b);
  }

  privateKey(): Uint8Array {
    for (;;) {
      const k = this.bytes(32);
      if (isValidPrivateKey(k)) return k;
    }
  }
}
