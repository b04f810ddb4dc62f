/**
 * What a converged network's tables hold, computed from the global view instead of reached by
 * bootstrap traffic: for every member and every log-distance, the `k` other members at that distance
 * that are XOR-closest to it (all of them when there are at most `k`). A bucket is a subtree of
 * the id space, so on the ids sorted as 256-bit numbers it is a contiguous range, and its k closest
 * members are reached by walking down that subtree on the member's own bits first. Cost per member
 * is about k × 256 comparisons per bucket, with only the ~log2(n) + few non-empty buckets visited:
 * 10,000 members take well under a second.
 */

/** A 32-byte id as a 256-bit unsigned number. */
function toBig(id: Uint8Array): bigint {
  let hex = '0x';
  for (const b of id) hex += (b < 16 ? '0' : '') + b.toString(16);
  return BigInt(hex);
}

/** The first index in `sorted[lo, hi)` whose value is >= `v`. */
function lowerBound(sorted: bigint[], lo: number, hi: number, v: bigint): number {
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((sorted[mid] as bigint) < v) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * For each member (by index into `ids`), the indices of its table entries, nearest buckets last:
 * per log-distance, the `k` members at that distance XOR-closest to it. Ids must be distinct.
 * With `only`, just those members' entries are computed (the others' are left empty): a process
 * of a sharded testnet fills only its own nodes.
 */
export function prefillBuckets(ids: readonly Uint8Array[], k = 16, only?: ReadonlySet<number>): number[][] {
  const keys = ids.map(toBig);
  const order = keys.map((_, i) => i).sort((a, b) => ((keys[a] as bigint) < (keys[b] as bigint) ? -1 : 1));
  const sorted = order.map((i) => keys[i] as bigint);
  for (let i = 1; i < sorted.length; i++)
    if (sorted[i] === sorted[i - 1]) throw new RangeError('prefillBuckets: ids must be distinct');

  /** Appends to `out` up to `want` members of sorted[lo, hi) (all sharing the bits above `bit`), closest to `x` first. */
  const take = (x: bigint, lo: number, hi: number, bit: number, want: number, out: number[]): number => {
    if (want <= 0 || lo >= hi) return 0;
    if (hi - lo <= want || bit < 0) {
      const n = Math.min(hi - lo, want);
      for (let i = lo; i < lo + n; i++) out.push(order[i] as number);
      return n;
    }
    // The subtree splits at `bit`: members with it clear sort first.
    const base = ((sorted[lo] as bigint) >> BigInt(bit + 1)) << BigInt(bit + 1);
    const mid = lowerBound(sorted, lo, hi, base | (1n << BigInt(bit)));
    const mine = ((x >> BigInt(bit)) & 1n) === 1n;
    const [nearLo, nearHi, farLo, farHi] = mine ? [mid, hi, lo, mid] : [lo, mid, mid, hi];
    const got = take(x, nearLo, nearHi, bit - 1, want, out);
    return got + take(x, farLo, farHi, bit - 1, want - got, out);
  };

  const result: number[][] = Array.from({ length: ids.length }, () => []);
  for (let pos = 0; pos < sorted.length; pos++) {
    if (only !== undefined && !only.has(order[pos] as number)) continue;
    const x = sorted[pos] as bigint;
    // Buckets closer than the nearest neighbour are empty: the longest shared prefix bounds the walk.
    let nearestXor = 1n << 256n;
    if (pos > 0) nearestXor = x ^ (sorted[pos - 1] as bigint);
    if (pos + 1 < sorted.length) {
      const next = x ^ (sorted[pos + 1] as bigint);
      if (next < nearestXor) nearestXor = next;
    }
    const lowestBit = nearestXor.toString(2).length - 1;
    const entries: number[] = [];
    for (let bit = 255; bit >= lowestBit && sorted.length > 1; bit--) {
      // Log-distance bit + 1: the members that share x's bits above `bit` and differ at it.
      const prefix = (x >> BigInt(bit)) ^ 1n;
      const start = prefix << BigInt(bit);
      const lo = lowerBound(sorted, 0, sorted.length, start);
      const hi = lowerBound(sorted, lo, sorted.length, start + (1n << BigInt(bit)));
      take(x, lo, hi, bit - 1, k, entries);
    }
    result[order[pos] as number] = entries;
  }
  return result;
}
