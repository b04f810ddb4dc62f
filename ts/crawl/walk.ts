/**
 * Walking one node's table from distance 256 down. An answer holds at most 16 records, so the walk
 * adapts to what comes back (each record's distance from the peer tells which bucket it came
 * from): a full single bucket is complete, and the next distance is asked alone; an answer under 16
 * means every bucket asked was complete, and the next three distances go together; a cut-off
 * answer to several distances re-asks the one it was cut in; an empty answer to three distances is
 * followed by one sweep of the next 16 (tables can have gaps), and an empty sweep ends the walk.
 */

/** An answer's cap: a node sends at most this many records for one FINDNODE. */
export const ANSWER_CAP = 16;

/** A node's table holds at most 256 buckets of 16: more neighbours than that are not kept. */
export const MAX_NEIGHBORS = 256 * 16;

/** Distances in the sweep that follows three empty ones (see `nextDistances`). */
const SWEEP = 16;

const below = (lowest: number, count: number) =>
  Array.from({ length: count }, (_, i) => lowest - 1 - i).filter((d) => d >= 1);

/** What to ask next after `asked` returned records at the distances `found` (see the file comment). */
export function nextDistances(asked: number[], found: number[]): number[] | undefined {
  const lowest = Math.min(...asked);
  if (found.length >= ANSWER_CAP) {
    if (asked.length === 1) return lowest > 1 ? [lowest - 1] : undefined;
    // Cut off: the deepest distance that appears may be partial; ask it alone.
    return [Math.min(...found)];
  }
  let next: number[];
  if (found.length > 0 || asked.length === 1) next = below(lowest, 3);
  // Three empty buckets usually mean the table is done, but a table can have a gap (a node that has
  // not yet filled its far buckets holds one node at 256 and then its own neighbourhood lower
  // down), and what lies below a gap may be known nowhere else. One request for the next 16
  // distances settles it; only an empty sweep ends the walk.
  else if (asked.length <= 3) next = below(lowest, SWEEP);
  else return undefined;
  return next.length > 0 ? next : undefined;
}

/**
 * The first request of fast mode's near walk: three distances where a node's buckets are complete.
 * A bucket at log-distance d is one of 2^(257-d) parts of the network, so with n nodes it holds
 * n / 2^(257-d) of them, all of them (not the 16 it can keep) from about d = 257 - log2(n / 16) down.
 * Asked one below that, an answer is complete, about 8 records, and each node appears in the
 * answers of about 8 nodes that share 10-12 leading bits with it. `known`, the crawl's count of
 * nodes so far, stands for n; while it is low the answers come back cut off and the walk goes on
 * deeper.
 */
export function nearDistances(known: number): number[] {
  const top = Math.max(3, 256 - completeLevel(known));
  return [top, top - 1, top - 2];
}

/** The level (prefix length, 256 - log-distance) from which a table's buckets are complete, for `known` nodes. */
export function completeLevel(known: number): number {
  return Math.ceil(Math.log2(Math.max(known, 16) / 16));
}
