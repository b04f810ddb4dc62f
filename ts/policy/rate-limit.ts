/**
 * Token buckets keyed by something (an IP, a node id, or one key for the total): `rate` tokens a
 * second up to `burst`. The keys kept are bounded (least recently used go first), so a flood of
 * fresh sources costs bounded memory; a forgotten source simply starts with a full bucket again.
 */
import { LruMap } from '../util/lru.js';

export interface BucketRate {
  /** Tokens added per second. */
  rate: number;
  /** Bucket size. */
  burst: number;
}

interface Bucket {
  tokens: number;
  at: number;
}

export class RateLimiter {
  readonly #rate: BucketRate;
  readonly #buckets: LruMap<string, Bucket>;
  readonly #now: () => number;

  constructor(rate: BucketRate, maxKeys: number, now: () => number = Date.now) {
    this.#rate = rate;
    this.#buckets = new LruMap(Math.max(1, maxKeys));
    this.#now = now;
  }

  /** Takes one token for `key`; false when its bucket is empty. A rate of 0 disables the limit. */
  take(key: string): boolean {
    if (this.#rate.rate <= 0) return true;
    const now = this.#now();
    let b = this.#buckets.get(key);
    if (b === undefined) {
      b = { tokens: this.#rate.burst, at: now };
      this.#buckets.set(key, b);
    } else {
      b.tokens = Math.min(this.#rate.burst, b.tokens + ((now - b.at) / 1000) * this.#rate.rate);
      b.at = now;
    }
    if (b.tokens < 1) return false;
    b.tokens -= 1;
    return true;
  }

  get size(): number {
    return this.#buckets.size;
  }
}
