/**
 * An iterative lookup (spec §8): start from the closest known nodes, ask up to `alpha` at a time
 * for the three distances around the target ([d, d+1, d-1] within 1..256), keep the k closest seen,
 * and stop as soon as the k closest have all answered (or nothing is left to ask, or the time is up,
 * or the signal fires). Candidates are ranked by XOR distance in one backend call per round.
 */
import type { Crypto } from '../crypto/crypto.js';
import type { Enr } from '../enr/enr.js';
import { logDistance } from '../kademlia/distance.js';
import { concatBytes, idKey } from '../util/bytes.js';
import { callSafely, type FailureCounter } from '../util/safe.js';
import { Waker } from '../util/wake.js';

/** What a lookup needs of a record: discv5 looks up `Enr`s, discv4 `V4Node`s. */
export interface LookupRecord {
  readonly nodeId: Uint8Array;
  readonly seq: bigint;
}

export interface LookupOptions<R extends LookupRecord = Enr> {
  target: Uint8Array;
  localId: Uint8Array;
  /** Nodes to start from (the table's closest to the target). */
  seeds: R[];
  /** FINDNODE to one peer (discv4 asks for the target itself and ignores `distances`). */
  query: (peer: R, distances: number[], signal: AbortSignal) => Promise<R[]>;
  crypto: Crypto;
  alpha: number;
  k: number;
  timeoutMs: number;
  signal?: AbortSignal;
  /** Sees every record the lookup learns (to feed the table, or a predicate search). */
  onRecord?: (enr: R) => void;
  /** Stops the lookup early when true (a predicate search that has what it needs). */
  done?: () => boolean;
  /** Where failures of `onRecord` and `done` are counted. */
  counters?: FailureCounter;
}

export interface LookupResult<R extends LookupRecord = Enr> {
  /** The k closest nodes that answered, closest first. */
  closest: R[];
  /** FINDNODE requests sent. */
  queries: number;
  /** Requests that failed (timeout or error). */
  failures: number;
  /** Why it stopped. */
  stop: 'converged' | 'exhausted' | 'timeout' | 'aborted' | 'done';
}

/** The distances to ask a peer for: its own log-distance d to the target and the two beside it (as geth). */
export function lookupDistances(target: Uint8Array, peer: Uint8Array): number[] {
  const d = logDistance(target, peer);
  const out: number[] = [];
  for (const x of [d, d + 1, d - 1]) if (x >= 1 && x <= 256 && !out.includes(x)) out.push(x);
  return out.length > 0 ? out : [1];
}

type State = 'new' | 'asking' | 'answered' | 'failed';

export async function lookup<R extends LookupRecord = Enr>(o: LookupOptions<R>): Promise<LookupResult<R>> {
  const candidates = new Map<string, { enr: R; state: State }>();
  const selfKey = idKey(o.localId);
  const add = (enr: R) => {
    const key = idKey(enr.nodeId);
    if (key === selfKey) return;
    const known = candidates.get(key);
    if (known === undefined) candidates.set(key, { enr, state: 'new' });
    else if (enr.seq > known.enr.seq) known.enr = enr;
  };
  for (const s of o.seeds) add(s);

  const controller = new AbortController();
  const waker = new Waker(controller.signal);
  const onAbort = () => controller.abort();
  // A signal that fired before the lookup began fires no event: check it as well as listen.
  if (o.signal?.aborted) controller.abort();
  else o.signal?.addEventListener('abort', onAbort, { once: true });
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    controller.abort();
  }, o.timeoutMs);

  let queries = 0;
  let failures = 0;
  let inFlight = 0;

  /** Candidates that have not failed, closest first. */
  const ranked = () => {
    const list = [...candidates.values()].filter((c) => c.state !== 'failed');
    if (list.length === 0) return list;
    const ids = concatBytes(...list.map((c) => c.enr.nodeId));
    return Array.from(o.crypto.closest(o.target, ids, list.length), (i) => list[i] as (typeof list)[0]);
  };

  let stop: LookupResult<R>['stop'] = 'exhausted';
  try {
    for (;;) {
      if (controller.signal.aborted) {
        stop = timedOut ? 'timeout' : 'aborted';
        break;
      }
      if (o.done !== undefined && callSafely(o.counters, 'done', o.done, false)) {
        stop = 'done';
        break;
      }
      const top = ranked().slice(0, o.k);
      // Converged once the k closest have all answered (spec §8). Answers still on their way come
      // from nodes outside the k closest; waiting for them measured no better results and costs up to
      // a timeout whenever one of them is dead.
      if (top.length > 0 && top.every((c) => c.state === 'answered')) {
        stop = 'converged';
        break;
      }
      const next = top.filter((c) => c.state === 'new');
      while (inFlight < o.alpha && next.length > 0) {
        const c = next.shift() as { enr: R; state: State };
        c.state = 'asking';
        inFlight++;
        queries++;
        // A query that throws instead of rejecting (a record we cannot reach) fails this candidate
        // only; whatever the callbacks do, nothing leaves this chain as a rejection.
        Promise.resolve()
          .then(() => o.query(c.enr, lookupDistances(o.target, c.enr.nodeId), controller.signal))
          .then(
            (records) => {
              c.state = 'answered';
              for (const r of records) {
                if (o.onRecord !== undefined) callSafely(o.counters, 'onRecord', () => o.onRecord?.(r), undefined);
                add(r);
              }
            },
            () => {
              c.state = 'failed';
              failures++;
            },
          )
          .catch(() => {
            c.state = 'failed';
            failures++;
          })
          .finally(() => {
            inFlight--;
            waker.wake();
          });
      }
      if (inFlight === 0) break; // nothing left to ask among the k closest
      // Wait for a query to finish (or the lookup to end).
      await waker.wait();
    }
  } finally {
    clearTimeout(timer);
    o.signal?.removeEventListener('abort', onAbort);
    controller.abort(); // cancels whatever is still in flight
  }
  const closest = ranked()
    .filter((c) => c.state === 'answered')
    .slice(0, o.k)
    .map((c) => c.enr);
  return { closest, queries, failures, stop };
}
