/**
 * The discovery service's lookups: one round after another, `intervalMs` apart (never two at
 * once), until the signal fires, which also aborts a round under way and clears the pause's timer.
 * A round is a random lookup, or a findNodesMatching search for records passing the filter.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { Enr } from '../enr/enr.js';
import type { Discv5 } from '../service/discv5.js';

/** Records a 'filter' round collects before it ends (the table's k). */
const FILTER_ROUND_COUNT = 16;
/** A 'filter' round also ends after this many records in a row that it had already seen. */
const FILTER_ROUND_STALE = 2 * FILTER_ROUND_COUNT;

export interface SearchOptions {
  node: Discv5;
  mode: 'random' | 'filter';
  /** The app's filter, already behind the safe boundary (never throws). */
  filter: (enr: Enr) => boolean;
  intervalMs: number;
  signal: AbortSignal;
  /** A round ended with these records. */
  found: (records: Enr[]) => void;
  /** A round failed (not counting an abort). */
  failed: (err: unknown) => void;
}

export async function searchLoop(o: SearchOptions): Promise<void> {
  const { node, signal } = o;
  while (!signal.aborted) {
    try {
      o.found(o.mode === 'filter' ? await filterRound(node, o.filter, signal) : await node.findRandomNode({ signal }));
    } catch (err) {
      if (signal.aborted) return;
      o.failed(err);
    }
    try {
      await sleep(o.intervalMs, undefined, { signal });
    } catch {
      return; // aborted: the timer went with it
    }
  }
}

/**
 * One findNodesMatching round: up to 16 records passing the filter, ending early once its lookups
 * only bring records the round has already seen (a small network is exhausted fast, a large one is
 * not), so that a round never spins on a network that has nothing new to give.
 */
async function filterRound(node: Discv5, filter: (enr: Enr) => boolean, signal: AbortSignal): Promise<Enr[]> {
  const round = new AbortController();
  const onAbort = () => round.abort();
  signal.addEventListener('abort', onAbort, { once: true });
  const seen = new Set<string>();
  let stale = 0;
  const predicate = (enr: Enr): boolean => {
    if (!seen.has(enr.nodeIdHex)) {
      seen.add(enr.nodeIdHex);
      stale = 0;
    } else if (++stale >= FILTER_ROUND_STALE) {
      round.abort();
    }
    return filter(enr);
  };
  try {
    return await node.findNodesMatching(predicate, { count: FILTER_ROUND_COUNT, signal: round.signal });
  } finally {
    signal.removeEventListener('abort', onAbort);
  }
}
