/**
 * A crawler that enumerates a whole network (DESIGN.md, "Crawling fast"): for every node found it
 * asks for the node's current record (FINDNODE [0], full mode) and walks its table from distance
 * 256 down (walk.ts). Many requests are in flight at once (default 512), never more than a few per
 * peer and identity; a node that never answers costs three time limits, which follow the round
 * trips seen (rtt.ts), and is reported, not waited on. Seeds get patience: several rounds with
 * back-off and longer limits. A node that drops requests after answering (a per-requester rate
 * limit) is paced; with several identities (askers), each with its own socket and key, each node is
 * asked from one of them, and one that limits from all of them in turn.
 *
 * What a crawl keeps is bounded whatever the network answers: at most `maxNodes` nodes, at most
 * `maxNodesPerIp` node ids per IP address (so that a peer answering with thousands of made-up
 * identities that name one victim's address cannot aim the crawl's requests at it), and at most
 * one full table's worth of neighbours per node. The user's `onNode` runs behind the library's
 * safe boundary: whatever it throws is counted, and the crawl goes on.
 */

import type { Enr } from '../enr/enr.js';
import { logDistance } from '../kademlia/distance.js';
import { callSafely, detach, type FailureCounter } from '../util/safe.js';
import { Waker } from '../util/wake.js';
import { IpCap } from './ip-cap.js';
import { Pacing } from './pace.js';
import { errorText, type Peer, type Task } from './peer.js';
import { PrefixProbes } from './probes.js';
import { RttEstimator } from './rtt.js';
import type { CrawlAsker, CrawledNode, CrawlOptions, CrawlRecord, CrawlSummary } from './types.js';
import { ANSWER_CAP, completeLevel, MAX_NEIGHBORS, nearDistances, nextDistances } from './walk.js';

export type { CrawlAsker, CrawledNode, CrawlMode, CrawlOptions, CrawlRecord, CrawlSummary } from './types.js';
export { MAX_NEIGHBORS, nextDistances } from './walk.js';

/** Defaults of `maxNodes` and `maxNodesPerIp`. */
export const DEFAULT_MAX_NODES = 200_000;
export const DEFAULT_MAX_NODES_PER_IP = 16;

/** Crawls from `seeds`, asking through `asker` (or spreading requests over several identities). */
export async function crawl<R extends CrawlRecord = Enr>(
  asker: CrawlAsker<R> | readonly CrawlAsker<R>[],
  seeds: NoInfer<R>[],
  options: CrawlOptions<R> = {},
): Promise<CrawlSummary<R>> {
  const askers = Array.isArray(asker) ? (asker as readonly CrawlAsker<R>[]) : [asker as CrawlAsker<R>];
  if (askers.length === 0) throw new RangeError('crawl: at least one asker');
  const concurrency = options.concurrency ?? 512;
  const perPeer = options.perPeer ?? 2;
  const maxNodes = options.maxNodes ?? DEFAULT_MAX_NODES;
  const maxPerIp = options.maxNodesPerIp ?? DEFAULT_MAX_NODES_PER_IP;
  const mode = options.mode ?? 'full';
  const seedAttempts = Math.max(1, options.seedAttempts ?? 5);
  const seedTimeoutMs = options.seedTimeoutMs ?? 5_000;
  const rtt = new RttEstimator(options.rtt);
  const started = performance.now();
  const peers = new Map<string, Peer<R>>();
  // Requests ready to go, first in first out (a head index, not shift(): the queue can be long).
  const ready: [Peer<R>, Task][] = [];
  let head = 0;
  let inFlight = 0;
  let requests = 0;
  /** Seed rounds waiting for their back-off to pass. */
  const waiting = new Set<ReturnType<typeof setTimeout>>();
  let stop: CrawlSummary<R>['stop'] = 'done';
  let refusedMaxNodes = 0;
  let refusedPerIp = 0;
  let callbackErrors = 0;
  const ipCap = new IpCap(maxPerIp);
  const counters: FailureCounter = {
    inc(name, by = 1) {
      if (name === 'callback.error.onNode' || name === 'callback.error.onFound') callbackErrors += by;
      options.counters?.inc(name, by);
    },
  };
  const selves = new Set(askers.map((a) => Buffer.from(a.nodeId).toString('hex')));
  const controller = new AbortController();
  const waker = new Waker(controller.signal);
  /**
   * Requests are not given the crawl's signal: a listener added and removed per request cost 2% of
   * the crawl. When the crawl ends early, what is still in flight ends by its own time limit (or
   * the node's stop), and its outcome is ignored.
   */
  let over = false;
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

  /** A newer record of a node replaces the one held, unless it moves the node to an address at its cap. */
  const replace = (node: CrawledNode<R>, enr: R) => {
    if (enr.seq <= node.enr.seq) return;
    if (!ipCap.fits(enr, node.enr)) {
      refusedPerIp++;
      return;
    }
    ipCap.count(node.enr, -1);
    ipCap.count(enr, 1);
    node.enr = enr;
  };

  const probes = new PrefixProbes();
  const pacing = new Pacing(askers.length);
  const enqueue = (peer: Peer<R>, ...tasks: Task[]) => {
    peer.pending += tasks.length;
    for (const t of tasks) ready.push([peer, t]);
  };
  /** Fast mode: the far buckets `peer` is the first of its prefixes to be asked for. */
  const probeFrom = (peer: Peer<R>) => {
    for (const d of probes.claim(peer.node.enr.nodeId, completeLevel(peers.size)))
      enqueue(peer, { distances: [d], walk: 'probe' });
  };

  /** Takes in a record: the node's bookkeeping (made and followed if the node is new), or undefined if refused. */
  const discover = (enr: R, isSeed = false): Peer<R> | undefined => {
    const key = enr.nodeIdHex;
    const known = peers.get(key);
    if (known !== undefined) {
      replace(known.node, enr);
      known.node.lastSeen = Date.now();
      return known;
    }
    if (selves.has(key) || visited?.has(key)) return undefined;
    if (peers.size >= maxNodes) {
      refusedMaxNodes++;
      return undefined;
    }
    if (!ipCap.fits(enr)) {
      refusedPerIp++;
      return undefined;
    }
    ipCap.count(enr, 1);
    const now = Date.now();
    const node: CrawledNode<R> = {
      enr,
      answered: false,
      rttMs: undefined,
      firstSeen: now,
      lastSeen: now,
      error: undefined,
      neighbors: new Set(),
      requests: 0,
      askedAt: undefined,
      failedDistances: [],
    };
    const peer: Peer<R> = {
      node,
      inFlight: 0,
      pending: 0,
      held: [],
      seedRound: 0,
      isSeed,
      pace: pacing.forNode(peers.size),
      reported: false,
      failed: false,
    };
    peers.set(key, peer);
    if (options.onFound) callSafely(counters, 'onFound', () => options.onFound?.(enr), undefined);
    // Full: the node's record and its whole table from 256 down. Fast: its near buckets, and once
    // it has answered (a third of the records in a real network name nodes that are gone), the far
    // ones that no node of its prefixes has been asked for yet (probes.ts).
    if (mode === 'full') enqueue(peer, { distances: [0], walk: 'record' }, { distances: [256], walk: 'down' });
    else if (options.askRecords === true)
      enqueue(peer, { distances: [0], walk: 'record' }, { distances: [], walk: 'near' });
    else enqueue(peer, { distances: [], walk: 'near' });
    return peer;
  };
  const visited = options.resume?.visited;
  for (const s of seeds) discover(s, true);
  for (const r of options.resume?.pending ?? []) discover(r);

  /** A seed that has not answered gets another round after a back-off (0.5, 1, 2, ... s). */
  const retrySeed = (peer: Peer<R>, task: Task): boolean => {
    if (!peer.isSeed || peer.node.answered || peer.seedRound + 1 >= seedAttempts || controller.signal.aborted)
      return false;
    peer.seedRound++;
    const t = setTimeout(
      () => {
        waiting.delete(t);
        ready.push([peer, task]);
        waker.wake();
      },
      500 * 2 ** (peer.seedRound - 1),
    );
    waiting.add(t);
    return true;
  };

  // Total: whatever the asker or the records do, the bookkeeping in `finally` runs and nothing rejects.
  const run = async (peer: Peer<R>, task: Task) => {
    const { node } = peer;
    const distances = task.distances.length > 0 ? task.distances : nearDistances(peers.size);
    requests++;
    node.requests++;
    node.askedAt ??= Date.now();
    let again = false;
    try {
      // Lost packets must not lose a node: a request that goes unanswered is sent twice more, the
      // last time with twice the limit (the limit follows the round trips seen, and a busy node or
      // crawler can be slower than those); at 1% loss per datagram a first contact (four or more
      // datagrams) fails about one time in twenty, so three tries miss about one node in 8,000.
      // Once a node has failed all its tries its other requests are not sent.
      let limit =
        node.rttMs !== undefined
          ? rtt.knownMs(node.rttMs)
          : peer.isSeed
            ? Math.max(seedTimeoutMs, rtt.firstContactMs())
            : rtt.firstContactMs();
      let records: R[];
      let sent: number;
      for (let attempt = 1; ; attempt++) {
        if (peer.pace.paceMs > 0) await peer.pace.wait(askers.length);
        if (over) return;
        if (peer.failed) throw new Error(node.error ?? 'ERR_REQUEST_TIMEOUT');
        sent = performance.now();
        try {
          const from = askers[peer.pace.next(askers.length)] as CrawlAsker<R>;
          records = await from.findNodes(node.enr, distances, { retries: 0, timeoutMs: limit });
          break;
        } catch (err) {
          if (attempt >= 3 || over) throw err;
          if (attempt === 2) limit *= 2;
          if (node.answered) pacing.dropped(peer.pace);
        }
      }
      if (over) return;
      if (node.rttMs === undefined) {
        node.rttMs = Math.round(performance.now() - sent);
        rtt.add(node.rttMs);
      }
      peer.pace.answered();
      if (!node.answered && mode === 'fast') probeFrom(peer);
      node.answered = true;
      node.lastSeen = Date.now();
      node.error = undefined;
      if (task.walk === 'record') {
        for (const r of records) if (r.nodeIdHex === node.enr.nodeIdHex) replace(node, r);
      } else {
        const found: number[] = [];
        for (const r of records) {
          if (node.neighbors.size < MAX_NEIGHBORS) node.neighbors.add(r.nodeIdHex);
          found.push(logDistance(node.enr.nodeId, r.nodeId));
          discover(r);
        }
        // Fast: a probe is one request; the near walk ends with a complete answer (under 16: its
        // buckets there are not cut off), as the nodes deeper down are listed by their own near walks.
        const settled = mode === 'fast' && (task.walk === 'probe' || records.length < ANSWER_CAP);
        const next = settled ? undefined : nextDistances(distances, found);
        if (next !== undefined) {
          peer.pending++;
          ready.push([peer, { distances: next, walk: task.walk }]);
        }
      }
    } catch (err) {
      if (task.walk === 'probe') probes.release(node.enr.nodeId, distances[0] as number);
      if (!node.answered && !over) {
        node.error ??= errorText(err);
        again = retrySeed(peer, task);
        if (!again) peer.failed = true;
      } else if (!over) {
        peer.failed = true; // it answered, then went (or limits us beyond our pace)
        if (task.walk !== 'record' && node.failedDistances.length < 256) node.failedDistances.push(...distances);
      }
    } finally {
      inFlight--;
      peer.inFlight--;
      // Once the crawl has ended nothing more is started or reported.
      if (!over) {
        const held = peer.held.shift();
        if (held !== undefined) ready.push([peer, held]);
        // Reported once, when its first round of requests is done (fast mode's final pass may ask it again).
        if (!again && --peer.pending === 0 && !peer.reported) {
          peer.reported = true;
          callSafely(counters, 'onNode', () => options.onNode?.(node), undefined);
        }
        waker.wake();
      }
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
        if (peer.inFlight >= perPeer * (peer.pace.limited ? askers.length : 1)) {
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
      if (inFlight === 0 && head >= ready.length && waiting.size === 0) {
        // Fast: the count of nodes has grown since the first were probed, and probes of nodes that
        // did not answer were released: the answered nodes (those that have not gone quiet since)
        // take up what is left, until nothing is.
        if (mode === 'fast') for (const p of peers.values()) if (p.node.answered && !p.failed) probeFrom(p);
        if (head >= ready.length) break;
        continue;
      }
      await waker.wait();
    }
  } finally {
    over = true;
    if (timer !== undefined) clearTimeout(timer);
    for (const t of waiting) clearTimeout(t);
    waiting.clear();
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
    mode,
    refusedMaxNodes,
    refusedPerIp,
    callbackErrors,
  };
}
