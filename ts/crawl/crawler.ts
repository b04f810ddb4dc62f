/**
 * A crawler that enumerates a whole network (DESIGN.md, "Crawling fast"): for every node found it
 * asks for the node's current record (FINDNODE [0]) and walks its table three distances per request
 * from 256 down, until a request comes back empty. Many requests are in flight at once (default
 * 256), never more than a few per peer; unreachable nodes cost one timeout and are reported, not
 * waited on. Every record is verified (in batches, with a cache) by the node doing the asking.
 */

import { setMaxListeners } from 'node:events';
import type { Enr } from '../enr/enr.js';
import type { Discv5 } from '../service/discv5.js';
import { idKey } from '../session/keys.js';

export interface CrawlOptions {
  /** Requests in flight at once (default 256). */
  concurrency?: number;
  /** Requests in flight to one peer (default 2). */
  perPeer?: number;
  /** Stop after this long (default: when nothing is left to ask). */
  timeoutMs?: number;
  signal?: AbortSignal;
  /** Sees each node once its crawl is done (answered or not). */
  onNode?: (node: CrawledNode) => void;
}

export interface CrawledNode {
  enr: Enr;
  answered: boolean;
  /** Round trip of the first answer. */
  rttMs: number | undefined;
  firstSeen: number;
  lastSeen: number;
  error: string | undefined;
  /** Ids (hex) of the nodes its table returned. */
  neighbors: Set<string>;
}

export interface CrawlSummary {
  nodes: CrawledNode[];
  found: number;
  answered: number;
  requests: number;
  durationMs: number;
  stop: 'done' | 'timeout' | 'aborted';
}

interface Task {
  node: CrawledNode;
  /** null: FINDNODE [0]; otherwise the highest distance of the triple to ask. */
  distance: number | null;
}

export async function crawl(asker: Discv5, seeds: Enr[], options: CrawlOptions = {}): Promise<CrawlSummary> {
  const concurrency = options.concurrency ?? 256;
  const perPeer = options.perPeer ?? 2;
  const started = performance.now();
  const nodes = new Map<string, CrawledNode>();
  const queue: Task[] = [];
  const inFlightPerPeer = new Map<string, number>();
  const pendingPerNode = new Map<string, number>();
  let inFlight = 0;
  let requests = 0;
  let stop: CrawlSummary['stop'] = 'done';
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

  const discover = (enr: Enr) => {
    const key = idKey(enr.nodeId);
    const now = Date.now();
    const known = nodes.get(key);
    if (known !== undefined) {
      if (enr.seq > known.enr.seq) known.enr = enr;
      known.lastSeen = now;
      return;
    }
    if (key === idKey(asker.nodeId)) return;
    const node: CrawledNode = {
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
    queue.push({ node, distance: null }, { node, distance: 256 });
  };
  for (const s of seeds) discover(s);

  const finishTask = (node: CrawledNode) => {
    const key = idKey(node.enr.nodeId);
    const left = (pendingPerNode.get(key) ?? 1) - 1;
    if (left > 0) pendingPerNode.set(key, left);
    else {
      pendingPerNode.delete(key);
      options.onNode?.(node);
    }
  };

  let wake: (() => void) | undefined;
  const runTask = async (task: Task) => {
    const { node } = task;
    const peer = idKey(node.enr.nodeId);
    const distances =
      task.distance === null ? [0] : [task.distance, task.distance - 1, task.distance - 2].filter((d) => d >= 1);
    const t0 = performance.now();
    requests++;
    try {
      const records = await asker.findNodes(node.enr, distances, { signal: controller.signal, retries: 0 });
      node.answered = true;
      node.rttMs ??= Math.round(performance.now() - t0);
      node.lastSeen = Date.now();
      node.error = undefined;
      if (task.distance === null) {
        const self = records.find((r) => idKey(r.nodeId) === peer);
        if (self !== undefined && self.seq > node.enr.seq) node.enr = self;
      } else {
        for (const r of records) {
          node.neighbors.add(r.nodeIdHex);
          discover(r);
        }
        // Walk on down the table while it still returns something.
        const next = task.distance - 3;
        if (records.length > 0 && next >= 1) {
          pendingPerNode.set(peer, (pendingPerNode.get(peer) ?? 0) + 1);
          queue.push({ node, distance: next });
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
        const task = queue[i] as Task;
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
      await new Promise<void>((resolve) => {
        const onEnd = () => resolve();
        wake = () => {
          controller.signal.removeEventListener('abort', onEnd);
          resolve();
        };
        controller.signal.addEventListener('abort', onEnd, { once: true });
      });
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
