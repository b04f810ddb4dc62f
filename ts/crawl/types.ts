/** What a crawl works with and reports (crawler.ts). */
import type { Enr } from '../enr/enr.js';
import type { FailureCounter } from '../util/safe.js';
import type { RttLimits } from './rtt.js';

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
  findNodes(enr: NoInfer<R>, distances: number[], options: { retries: number; timeoutMs: number }): Promise<R[]>;
}

/**
 * `full` walks every table (the neighbour graph needs it) and asks every node for its newest
 * record; `fast` finds every node with the fewest requests: it stops walking a table once an answer
 * brings nothing new, and takes records as others serve them.
 */
export type CrawlMode = 'full' | 'fast';

export interface CrawlOptions<R extends CrawlRecord = Enr> {
  /** Requests in flight at once (default 512: most of them, in a real network, wait on nodes that are gone). */
  concurrency?: number;
  /** Requests in flight to one peer from each identity (default 2). */
  perPeer?: number;
  /** Stop after this long (default: when nothing is left to ask). */
  timeoutMs?: number;
  signal?: AbortSignal;
  /** Default `full`. */
  mode?: CrawlMode;
  /**
   * Fast mode: ask each node for its own record too (distance [0]), as full mode does. For
   * protocols whose answers carry no records (discv4's NEIGHBORS: a key and an endpoint), this is
   * the only way to have them. Default false.
   */
  askRecords?: boolean;
  /**
   * Sees each node once its crawl is done (answered or not). What it throws (or rejects with) is
   * counted (`callbackErrors`, and `counters` if given) and does not stop the crawl.
   */
  onNode?: (node: CrawledNode<R>) => void;
  /**
   * Sees each new node's record when it is found (before it is asked anything), behind the same
   * boundary as `onNode` (`callback.error.onFound`).
   */
  onFound?: (record: R) => void;
  /**
   * Continues an earlier crawl: the nodes it visited are not asked again (nor reported), and the
   * records it found but did not visit are followed as if just found.
   */
  resume?: { visited: ReadonlySet<string>; pending: readonly NoInfer<R>[] };
  /** Nodes to keep at most (default 200,000); ids found beyond it are not asked (`refusedMaxNodes`). */
  maxNodes?: number;
  /**
   * Node ids per IP address at most (default 16); more ids naming an address already at the cap are
   * not asked (`refusedPerIp`). Loopback addresses are exempt: a local testnet runs many nodes on one.
   */
  maxNodesPerIp?: number;
  /** Where failures of `onNode` are counted (`callback.error.onNode`), e.g. a node's `Counters`. */
  counters?: FailureCounter;
  /** Bounds of the per-request time limits, which otherwise follow the round trips seen (rtt.ts). */
  rtt?: Partial<RttLimits>;
  /**
   * Patience with seeds: a seed that does not answer is asked again after 0.5, 1, 2, ... s, up to
   * this many rounds in all (default 5), each with `seedTimeoutMs` (default 5 s) per request. The
   * crawl does not end while a seed still has rounds left.
   */
  seedAttempts?: number;
  seedTimeoutMs?: number;
}

export interface CrawledNode<R extends CrawlRecord = Enr> {
  enr: R;
  answered: boolean;
  /** Round trip of the first answer (a handshake's two round trips included, for a first contact). */
  rttMs: number | undefined;
  firstSeen: number;
  lastSeen: number;
  error: string | undefined;
  /** Ids (hex) of the nodes its table returned (at most `MAX_NEIGHBORS`, a full table). */
  neighbors: Set<string>;
  /** Requests sent to it (retries of a request not counted again). */
  requests: number;
  /** When the first request to it was sent (ms since the epoch). */
  askedAt: number | undefined;
  /** Distances of its table asked in requests that failed every try after it had answered (at most 256 kept). */
  failedDistances: number[];
}

export interface CrawlSummary<R extends CrawlRecord = Enr> {
  nodes: CrawledNode<R>[];
  found: number;
  answered: number;
  requests: number;
  durationMs: number;
  stop: 'done' | 'timeout' | 'aborted';
  mode: CrawlMode;
  /** Records of new nodes not followed because `maxNodes` was reached (each time one arrived). */
  refusedMaxNodes: number;
  /** Records of new nodes not followed because their IP address had `maxNodesPerIp` ids already (each time one arrived). */
  refusedPerIp: number;
  /** Times `onNode` threw or rejected. */
  callbackErrors: number;
}
