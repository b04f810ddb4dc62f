/** The crawl's own bookkeeping (crawler.ts): a request to make, and what it keeps per node. */
import type { PeerPace } from './pace.js';
import type { CrawledNode, CrawlRecord } from './types.js';

/**
 * One request to make: `distances` [0] for the node's own record; otherwise the distances to ask,
 * highest first (empty for the first request of a near walk: chosen when it is sent). `walk` says
 * how the walk goes on (see `crawl`'s fast mode).
 */
export interface Task {
  distances: number[];
  walk: 'record' | 'down' | 'near' | 'probe';
}

/** The crawl's own bookkeeping for one node. */
export interface Peer<R extends CrawlRecord> {
  node: CrawledNode<R>;
  /** Requests in flight to it. */
  inFlight: number;
  /** Requests made or still to make (or waiting to be retried); at 0 its crawl is done and it is reported. */
  pending: number;
  /** Requests held back while it is at its per-peer limit. */
  held: Task[];
  /** Rounds a seed has had (0 for other nodes, which get no extra rounds). */
  seedRound: number;
  isSeed: boolean;
  /** Which identity asks it, and how far apart (pace.ts). */
  pace: PeerPace;
  reported: boolean;
  /** A request of its has had all its tries (before it answered, or after): its other requests fail at once. */
  failed: boolean;
}

/** What a failed request's error says: its code, else its message. */
export function errorText(err: unknown): string {
  if (typeof err === 'object' && err !== null) {
    const { code, message } = err as { code?: unknown; message?: unknown };
    if (typeof code === 'string') return code;
    if (typeof message === 'string') return message;
  }
  return String(err);
}
