/**
 * A crawler that enumerates a whole network (DESIGN.md, "Crawling fast"): for every node found it
 * asks for the node's current record (FINDNODE [0]) and walks its table from distance 256 down.
 * An answer holds at most 16 records, so the walk adapts to what comes back (each record's distance
 * from the peer tells which bucket it came from): a full single bucket is complete, and the next
 * distance is asked alone; an answer under 16 means every bucket asked was complete, and the next
 * three distances go together; a cut-off answer to several distances re-asks the one it was cut in;
 * an empty answer to three distances is followed by one sweep of the next 16 (tables can have
 * gaps), and an empty sweep ends the walk. Many requests are in flight at once (default 256), never
 * more than a few per peer; a node that never answers costs two timeouts and is reported, not
 * waited on. Every record is verified (in batches, with a cache) by the node doing the asking.
 *
 * What a crawl keeps is bounded whatever the network answers: at most `maxNodes` nodes, at most
 * `maxNodesPerIp` node ids per IP address (so that a peer answering with thousands of made-up
 * identities that name one victim's address cannot aim the crawl's requests at it), and at most
 * one full table's worth of neighbours per node. The user's `onNode` runs behind the library's
 * safe boundary: whatever it throws is counted, and the crawl goes on.
 */

import { setMaxListeners } from 'node:events';
import type { Enr } from '../enr/enr.js';
import { logDistance } from '../kademlia/distance.js';
import { isLoopback } from '../policy/ip-class.js';
import { idKey } from '../util/bytes.js';
import { callSafely, detach, type FailureCounter } from '../util/safe.js';
import { Waker } from '../util/wake.js';

/** What the crawl needs of a record: a `Discv5` node crawls with `Enr`s. */
export interface CrawlRecord {
  readonly nodeId: Uint8Array;
  readonly nodeIdHex: string;
  readonly seq: bigint;
  /** The addresses the record names, if the record type has them (an `Enr` does): `maxNodesPerIp` counts them. */
  readonly ip?: string | undefined;
  readonly ip6?: string | undefined;
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
  /**
   * Sees each node once its crawl is done (answered or not). What it throws (or rejects with) is
   * counted (`callbackErrors`, and `counters` if given) and does not stop the crawl.
   */
  onNode?: (node: CrawledNode<R>) => void;
  /** Nodes to keep at most (default 200,000); ids found beyond it are not asked (`refusedMaxNodes`). */
  maxNodes?: number;
  /**
   * Node ids per IP address at most (default 16); more ids naming an address already at the cap are
   * not asked (`refusedPerIp`). Loopback addresses are exempt: a local testnet runs many nodes on one.
   */
  maxNodesPerIp?: number;
  /** Where failures of `onNode` are counted (`callback.error.onNode`), e.g. a node's `Counters`. */
  counters?: FailureCounter;
}

export interface CrawledNode<R extends CrawlRecord = Enr> {
  enr: R;
  answered: boolean;
  /** Round trip of the first answer. */
  rttMs: number | undefined;
  firstSeen: number;
  lastSeen: number;
  error: string | undefined;
  /** Ids (hex) of the nodes its table returned (at most `MAX_NEIGHBORS`, a full table). */
  neighbors: Set<string>;
}

export interface CrawlSummary<R extends CrawlRecord = Enr> {
  nodes: CrawledNode<R>[];
  found: number;
  answered: number;
  requests: number;
  durationMs: number;
  stop: 'done' | 'timeout' | 'aborted';
  /** Records of new nodes not followed because `maxNodes` was reached (each time one arrived). */
  refusedMaxNodes: number;
  /** Records of new nodes not followed because their IP address had `maxNodesPerIp` ids already (each time one arrived). */
  refusedPerIp: number;
  /** Times `onNode` threw or rejected. */
  callbackErrors: number;
}

/** One request to make: [0] for the node's own record; otherwise the distances to ask, highest first. */
type Task = number[];

/** The crawl's own bookkeeping for one node. */
interface Peer<R extends CrawlRecord> {
  node: CrawledNode<R>;
  /** Requests in flight to it. */
  inFlight: number;
  /** Requests made or still to make; at 0 its crawl is done and it is reported. */
  pending: number;
  /** Requests held back while it is at its per-peer limit. */
  held: Task[];
}

/** An answer's cap: a node sends at most this many records for one FINDNODE. */
const ANSWER_CAP = 16;

/** A node's table holds at most 256 buckets of 16: more neighbours than that are not kept. */
export const MAX_NEIGHBORS = 256 * 16;

/** Defaults of `maxNodes` and `maxNodesPerIp`. */
export const DEFAULT_MAX_NODES = 200_000;
export const DEFAULT_MAX_NODES_PER_IP = 16;

/** The non-loopback addresses a record names: what `maxNodesPerIp` counts. */
function cappedAddresses(r: CrawlRecord): string[] {
  const out: string[] = [];
  for (const ip of [r.ip, r.ip6]) if (typeof ip === 'string' && !isLoopback(ip)) out.push(ip);
  return out;
}

function errorText(err: unknown): string {
  if (typeof err === 'object' && err !== null) {
    const { code, message } = err as { code?: unknown; message?: unknown };
    if (typeof code === 'string') return code;
    if (typeof message === 'string') return message;
  }
  return String(err);
}

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
  const maxNodes = options.maxNodes ?? DEFAULT_MAX_NODES;
  const maxPerIp = options.maxNodesPerIp ?? DEFAULT_MAX_NODES_PER_IP;
  const started = performance.now();
  const peers = new Map<string, Peer<R>>();
  // Requests ready to go, first in first out (a head index, not shift(): the queue can be long).
  const ready: [Peer<R>, Task][] = [];
  let head = 0;
  let inFlight = 0;
  let requests = 0;
  let stop: CrawlSummary<R>['stop'] = 'done';
  let refusedMaxNodes = 0;
  let refusedPerIp = 0;
  let callbackErrors = 0;
  // Node ids per (non-loopback) IP address, over the nodes kept.
  const perIp = new Map<string, number>();
  const counters: FailureCounter = {
    inc(name, by = 1) {
      if (name === 'callback.error.onNode') callbackErrors += by;
      options.counters?.inc(name, by);
    },
  };
  const selfKey = idKey(asker.nodeId);
  const controller = new AbortController();
  const waker = new Waker(controller.signal);
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

  /** Whether `enr`'s addresses have room for one more id (`old`, the id's record so far, does not count). */
  const fits = (enr: R, old?: R) => {
    const mine = old === undefined ? [] : cappedAddresses(old);
    return cappedAddresses(enr).every((ip) => mine.includes(ip) || (perIp.get(ip) ?? 0) < maxPerIp);
  };
  const count = (enr: R, by: 1 | -1) => {
    for (const ip of cappedAddresses(enr)) {
      const n = (perIp.get(ip) ?? 0) + by;
      if (n > 0) perIp.set(ip, n);
      else perIp.delete(ip);
    }
  };
  /** A newer record of a node replaces the one held, unless it moves the node to an address at its cap. */
  const replace = (node: CrawledNode<R>, enr: R) => {
    if (enr.seq <= node.enr.seq) return;
    if (!fits(enr, node.enr)) {
      refusedPerIp++;
      return;
    }
    count(node.enr, -1);
    count(enr, 1);
    node.enr = enr;
  };

  const discover = (enr: R) => {
    const key = idKey(enr.nodeId);
    const now = Date.now();
    const known = peers.get(key);
    if (known !== undefined) {
      replace(known.node, enr);
      known.node.lastSeen = now;
      return;
    }
    if (key === selfKey) return;
    if (peers.size >= maxNodes) {
      refusedMaxNodes++;
      return;
    }
    if (!fits(enr)) {
      refusedPerIp++;
      return;
    }
    count(enr, 1);
    const node: CrawledNode<R> = {
      enr,
      answered: false,
      rttMs: undefined,
      firstSeen: now,
      lastSeen: now,
      error: undefined,
      neighbors: new Set(),
    };
    const peer: Peer<R> = { node, inFlight: 0, pending: 2, held: [] };
    peers.set(key, peer);
    ready.push([peer, [0]], [peer, [256]]);
  };
  for (const s of seeds) discover(s);

  // Total: whatever the asker or the records do, the bookkeeping in `finally` runs and nothing rejects.
  const run = async (peer: Peer<R>, distances: Task) => {
    const { node } = peer;
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
        const self = records.find((r) => r.nodeIdHex === node.enr.nodeIdHex);
        if (self !== undefined) replace(node, self);
      } else {
        const found: number[] = [];
        for (const r of records) {
          if (node.neighbors.size < MAX_NEIGHBORS) node.neighbors.add(r.nodeIdHex);
          found.push(logDistance(node.enr.nodeId, r.nodeId));
          discover(r);
        }
        const next = nextDistances(distances, found);
        if (next !== undefined) {
          peer.pending++;
          ready.push([peer, next]);
        }
      }
    } catch (err) {
      if (!node.answered) node.error = errorText(err);
    } finally {
      inFlight--;
      peer.inFlight--;
      const held = peer.held.shift();
      if (held !== undefined) ready.push([peer, held]);
      if (--peer.pending === 0) callSafely(counters, 'onNode', () => options.onNode?.(node), undefined);
      waker.wake();
    }
  };

  try {
    for (;;) {
      if (controller.signal.aborted) {
        if (stop === 'done') stop = 'aborted';
        break;
      }
      // Start what the limits allow; a request for a busy peer waits with that peer.
      while (inFlight < concurrency && head < ready.length) {
        const [peer, task] = ready[head++] as [Peer<R>, Task];
        if (peer.inFlight >= perPeer) {
          peer.held.push(task);
          continue;
        }
        inFlight++;
        peer.inFlight++;
        detach(run(peer, task), options.counters, 'crawl.request');
      }
      if (head > 1024 && head * 2 > ready.length) {
        ready.splice(0, head);
        head = 0;
      }
      if (inFlight === 0 && head >= ready.length) break;
      await waker.wait();
    }
  } finally {
    if (timer !== undefined) clearTimeout(timer);
    options.signal?.removeEventListener('abort', abort);
    controller.abort();
  }
  const list = [...peers.values()].map((p) => p.node);
  return {
    nodes: list,
    found: list.length,
    answered: list.filter((n) => n.answered).length,
    requests,
    durationMs: Math.round(performance.now() - started),
    stop,
    refusedMaxNodes,
    refusedPerIp,
    callbackErrors,
  };
}
