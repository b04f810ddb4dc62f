/**
 * A crawler that enumerates a whole network (DESIGN.md, "Crawling fast"): for every node found it
 * asks for the node's current record (FINDNODE [0]) and walks its table from distance 256 down.
 * An answer holds at most 16 records, so the walk adapts to what comes back (each record's distance
 * from the peer tells which bucket it came from): a full single bucket is complete, and the next
 * distance is asked alone; an answer under 16 means every bucket asked was complete, and the next
 * three distances go together; a cut-off answer to several distances re-asks the one it was cut in;
 * an empty answer to three distances is followed by one sweep of the next 16 (tables can have
 * gaps), and an empty sweep ends the walk. Many requests are in flight at once (default
 * 256), never more than a few per peer; a node that never answers costs two timeouts and is reported, not
 * waited on. Every record is verified (in batches, with a cache) by the node doing the asking.
 */

import { setMaxListeners } from 'node:events';
import type { Enr } from '../enr/enr.js';
import { logDistance } from '../kademlia/distance.js';
import { idKey } from '../session/keys.js';
import { wakeable } from '../util/wake.js';

/** What the crawl needs of a record: a `Discv5` node crawls with `Enr`s. */
export interface CrawlRecord {
  readonly nodeId: Uint8Array;
  readonly nodeIdHex: string;
  readonly seq: bigint;
}

/**
 * The node that asks: a `Discv5` is one. The walk and its scheduling depend only on this, so the
 * system benchmark can run the very same crawl on another discv5 implementation.
 */
export interface CrawlAsker<R extends CrawlRecord = Enr> {
  readonly nodeId: Uint8Array;
  findNodes(enr: NoInfer<R>, distances: number[], options: { signal: AbortSignal; retries: number }): Promise<R[]>;
}

export interface CrawlOptions<R extends CrawlRecord = Enr> {
  /** Requests in flight at once (default 256). */
  concurrency?: number;
  /** Requests in flight to one peer (default 2). */
  perPeer?: number;
  /** Stop after this long (default: when nothing is left to ask). */
  timeoutMs?: number;
  signal?: AbortSignal;
  /** Sees each node once its crawl is done (answered or not). */
  onNode?: (node: CrawledNode<R>) => void;
}

export interface CrawledNode<R extends CrawlRecord = Enr> {
  enr: R;
  answered: boolean;
  /** Round trip of the first answer. */
  rttMs: number | undefined;
  firstSeen: number;
  lastSeen: number;
  error: string | undefined;
  /** Ids (hex) of the nodes its table returned. */
  neighbors: Set<string>;
}

export interface CrawlSummary<R extends CrawlRecord = Enr> {
  nodes: CrawledNode<R>[];
  found: number;
  answered: number;
  requests: number;
  durationMs: number;
  stop: 'done' | 'timeout' | 'aborted';
}

interface Task<R extends CrawlRecord> {
  node: CrawledNode<R>;
  /** [0] for the node's own record; otherwise the distances to ask, highest first. */
  distances: number[];
}

/** An answer's cap: a node sends at most this many records for one FINDNODE. */
const ANSWER_CAP = 16;

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

export async function crawl<R extends CrawlRecord = Enr>(
  asker: CrawlAsker<R>,
  seeds: NoInfer<R>[],
  options: CrawlOptions<R> = {},
): Promise<CrawlSummary<R>> {
  const concurrency = options.concurrency ?? 256;
  const perPeer = options.perPeer ?? 2;
  const started = performance.now();
  const nodes = new Map<string, CrawledNode<R>>();
  const queue: Task<R>[] = [];
  const inFlightPerPeer = new Map<string, number>();
  const pendingPerNode = new Map<string, number>();
  let inFlight = 0;
  let requests = 0;
  let stop: CrawlSummary<R>['stop'] = 'done';
  const controller = new AbortController();
  // Every request in flight listens on this one signal (and stops listening when it ends).
  setMaxListeners(concurrency + 16, controller.signal);
  const abort = () => controller.abort();
  if (options.signal?.aborted) controller.abort();
  else options.signal?.addEventListener('abort', abort, { once: true });
  const timer =
    options.timeoutMs === undefined
      ? undefined
      : setTimeout(() => {
          stop = 'timeout';
          controller.abort();
        }, options.timeoutMs);

  const discover = (enr: R) => {
    const key = idKey(enr.nodeId);
    const now = Date.now();
    const known = nodes.get(key);
    if (known !== undefined) {
      if (enr.seq > known.enr.seq) known.enr = enr;
      known.lastSeen = now;
      return;
    }
    if (key === idKey(asker.nodeId)) return;
    const node: CrawledNode<R> = {
      enr,
      answered: false,
      rttMs: undefined,
      firstSeen: now,
      lastSeen: now,
      error: undefined,
      neighbors: new Set(),
    };
    nodes.set(key, node);
    pendingPerNode.set(key, 2);
    queue.push({ node, distances: [0] }, { node, distances: [256] });
  };
  for (const s of seeds) discover(s);

  const finishTask = (node: CrawledNode<R>) => {
    const key = idKey(node.enr.nodeId);
    const left = (pendingPerNode.get(key) ?? 1) - 1;
    if (left > 0) pendingPerNode.set(key, left);
    else {
      pendingPerNode.delete(key);
      options.onNode?.(node);
    }
  };

  let wake: (() => void) | undefined;
  const runTask = async (task: Task<R>) => {
    const { node } = task;
    const peer = idKey(node.enr.nodeId);
    const { distances } = task;
    const t0 = performance.now();
    requests++;
    try {
      // One lost packet must not lose a node's whole table: until it has answered, a request is
      // sent again once; after that an answer proves it is there, and none is retried.
      const retries = node.answered ? 0 : 1;
      const records = await asker.findNodes(node.enr, distances, { signal: controller.signal, retries });
      node.answered = true;
      node.rttMs ??= Math.round(performance.now() - t0);
      node.lastSeen = Date.now();
      node.error = undefined;
      if (distances[0] === 0) {
        const self = records.find((r) => idKey(r.nodeId) === peer);
        if (self !== undefined && self.seq > node.enr.seq) node.enr = self;
      } else {
        for (const r of records) {
          node.neighbors.add(r.nodeIdHex);
          discover(r);
        }
        const next = nextDistances(
          distances,
          records.map((r) => logDistance(node.enr.nodeId, r.nodeId)),
        );
        if (next !== undefined) {
          pendingPerNode.set(peer, (pendingPerNode.get(peer) ?? 0) + 1);
          queue.push({ node, distances: next });
        }
      }
    } catch (err) {
      if (!node.answered) node.error = (err as { code?: string }).code ?? (err as Error).message;
    } finally {
      inFlight--;
      inFlightPerPeer.set(peer, (inFlightPerPeer.get(peer) ?? 1) - 1);
      finishTask(node);
      wake?.();
    }
  };

  try {
    for (;;) {
      if (controller.signal.aborted) {
        if (stop === 'done') stop = 'aborted';
        break;
      }
      // Start what the limits allow; tasks for a busy peer wait their turn.
      for (let i = 0; i < queue.length && inFlight < concurrency; ) {
        const task = queue[i] as Task<R>;
        const peer = idKey(task.node.enr.nodeId);
        if ((inFlightPerPeer.get(peer) ?? 0) >= perPeer) {
          i++;
          continue;
        }
        queue.splice(i, 1);
        inFlight++;
        inFlightPerPeer.set(peer, (inFlightPerPeer.get(peer) ?? 0) + 1);
        void runTask(task);
      }
      if (inFlight === 0 && queue.length === 0) break;
      const w = wakeable(controller.signal);
      wake = w.wake;
      await w.wait;
      wake = undefined;
    }
  } finally {
    if (timer !== undefined) clearTimeout(timer);
    options.signal?.removeEventListener('abort', abort);
    controller.abort();
  }
  const list = [...nodes.values()];
  return {
    nodes: list,
    found: list.length,
    answered: list.filter((n) => n.answered).length,
    requests,
    durationMs: Math.round(performance.now() - started),
    stop,
  };
}
