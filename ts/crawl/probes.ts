/**
 * Fast mode's reach into every part of the id space. Asking node y for log-distance 256 - j lists
 * nodes of the subtree that shares y's first j bits and differs at the next one. If, for every
 * level j where buckets are cut off and every prefix of length j + 1 that holds a found node, one
 * such node is asked for 256 - j, then every subtree at the level where buckets become complete
 * has a found node, and the near walks (walk.ts `nearDistances`) list the rest. That is one request
 * per prefix, about n / 8 in all for n nodes, instead of walking every table. A probe that goes
 * unanswered is released, and the next node found under that prefix (or the final pass over the
 * answered nodes) takes it.
 */

function bitsOf(id: Uint8Array): string {
  let s = '';
  for (const b of id) s += b.toString(2).padStart(8, '0');
  return s;
}

export class PrefixProbes {
  /** `${j}:${first j + 1 bits}` of the prefixes claimed (a probe under way or done). */
  readonly #claimed = new Set<string>();
  readonly #bits = new WeakMap<Uint8Array, string>();

  #bitsOf(id: Uint8Array): string {
    let s = this.#bits.get(id);
    if (s === undefined) {
      s = bitsOf(id);
      this.#bits.set(id, s);
    }
    return s;
  }

  /** Claims the unclaimed prefixes of `id` below `level`; returns the distances to ask it for. */
  claim(id: Uint8Array, level: number): number[] {
    const bits = this.#bitsOf(id);
    const out: number[] = [];
    for (let j = 0; j < Math.min(level, 256); j++) {
      const key = `${j}:${bits.slice(0, j + 1)}`;
      if (this.#claimed.has(key)) continue;
      this.#claimed.add(key);
      out.push(256 - j);
    }
    return out;
  }

  /** A probe of `id` for `distance` went unanswered: its prefix is free for another node. */
  release(id: Uint8Array, distance: number): void {
    const j = 256 - distance;
    this.#claimed.delete(`${j}:${this.#bitsOf(id).slice(0, j + 1)}`);
  }
}
