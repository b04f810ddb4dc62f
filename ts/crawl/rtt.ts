/**
 * Time limits that follow the network: a crawl's requests to nodes that never answer cost it
 * their whole time limit, so a limit far above the round trips actually seen wastes time, and one
 * below them loses nodes. The limit for a node that has answered is a few of its own round trips;
 * for a first contact (a handshake: two round trips before the answer) it is set from the round
 * trips of the nodes answered so far (their 95th percentile), and generous until enough are seen.
 */

export interface RttLimits {
  /** The shortest limit ever set (default 500 ms). */
  minMs: number;
  /** The longest limit ever set (default 2,000 ms): also the limit until enough round trips are seen. */
  maxMs: number;
}

export const DEFAULT_RTT_LIMITS: RttLimits = { minMs: 500, maxMs: 2_000 };

/** Round trips kept for the percentile (the latest ones). */
const WINDOW = 512;
/** Round trips needed before the first-contact limit follows them. */
const ENOUGH = 32;
/** The percentile is recomputed every this many new round trips. */
const RECOMPUTE_EVERY = 64;

export class RttEstimator {
  readonly #limits: RttLimits;
  readonly #samples = new Float64Array(WINDOW);
  #count = 0;
  #p95: number | undefined;
  #sinceRecompute = 0;

  constructor(limits: Partial<RttLimits> = {}) {
    this.#limits = { ...DEFAULT_RTT_LIMITS, ...limits };
    if (this.#limits.minMs > this.#limits.maxMs) this.#limits.minMs = this.#limits.maxMs;
  }

  /** A round trip seen (of an answer to a request sent in an established session, or of a first contact: both are recorded as measured). */
  add(ms: number): void {
    if (!(ms >= 0)) return;
    this.#samples[this.#count % WINDOW] = ms;
    this.#count++;
    if (++this.#sinceRecompute >= RECOMPUTE_EVERY || this.#count === ENOUGH) {
      this.#sinceRecompute = 0;
      const kept = this.#samples.slice(0, Math.min(this.#count, WINDOW)).sort();
      this.#p95 = kept[Math.floor(0.95 * (kept.length - 1))];
    }
  }

  #clamp(ms: number): number {
    return Math.round(Math.min(this.#limits.maxMs, Math.max(this.#limits.minMs, ms)));
  }

  /** The limit for a node not heard from yet: three times the 95th percentile of first answers, once enough are seen. */
  firstContactMs(): number {
    if (this.#count < ENOUGH || this.#p95 === undefined) return this.#limits.maxMs;
    return this.#clamp(3 * this.#p95);
  }

  /** The limit for a node whose first round trip was `rttMs`. */
  knownMs(rttMs: number): number {
    return this.#clamp(3 * rttMs + 100);
  }
}
