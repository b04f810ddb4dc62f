/**
 * A node seen from the outside: its counters and state as a metrics source (metrics/node-metrics.ts
 * maps them onto `discv5_*` series at scrape time), and the registry the app gave it. The app's
 * registry is the app's code: what it throws on an observation is counted, never let through.
 */
import type { Discv4 } from '../discv4/discv4.js';
import type { RoutingTable } from '../kademlia/table.js';
import { type NodeMetricsSource, registerNodeMetrics } from '../metrics/node-metrics.js';
import type { MetricsRegistry } from '../metrics/types.js';
import type { BanList } from '../policy/bans.js';
import type { RequestManager } from '../rpc/requests.js';
import type { SessionLayer } from '../session/layer.js';
import { Discv5Error, ErrorCode } from '../util/errors.js';
import type { Counters } from '../util/metrics.js';
import type { LocalNode } from './local-node.js';
import type { Peers } from './peers.js';

export interface ObservedParts {
  counters: Counters;
  session: SessionLayer;
  requests: RequestManager;
  peers: Peers;
  table: RoutingTable;
  bans: BanList;
  local: LocalNode;
  /** Discovery v4 on the same socket, when the node serves it. */
  discv4?: Discv4 | undefined;
}

export function metricsSource(p: ObservedParts): NodeMetricsSource {
  return {
    counters: () => p.counters.snapshot(),
    sessions: () => p.session.sessionCount,
    activeRequests: () => p.requests.activeCount,
    knownRecords: () => p.peers.knownCount,
    tableEntries: () => p.table.size,
    liveEntries: () => p.table.liveSize,
    buckets: () => p.table.bucketFill(),
    localSeq: () => (p.local.hasRecord ? p.local.record.seq : 0n),
    bans: () => p.bans.activeCounts(),
    voters: (family) => p.local.voters(family),
    ...(p.discv4 === undefined ? {} : { discv4: discv4State(p.discv4) }),
  };
}

function discv4State(v4: Discv4): NonNullable<NodeMetricsSource['discv4']> {
  return () => {
    const s = v4.state();
    return {
      tableEntries: s['state.discv4.tableSize'] ?? 0,
      liveEntries: s['state.discv4.liveSize'] ?? 0,
      bonds: s['state.discv4.bonds'] ?? 0,
      pendingReplies: s['state.discv4.pendingReplies'] ?? 0,
    };
  };
}

/**
 * Declares the node's metrics on the app's registry; returns what to call when a lookup ends.
 * A registry that refuses them (for example a second node on one prom-client registry, whose
 * names clash) is the app's mistake, reported as ERR_INVALID_ARGUMENT at create.
 */
export function observe(registry: MetricsRegistry, parts: ObservedParts): (seconds: number) => void {
  let handle: ReturnType<typeof registerNodeMetrics>;
  try {
    handle = registerNodeMetrics(registry, metricsSource(parts));
  } catch (err) {
    throw new Discv5Error(
      ErrorCode.INVALID_ARGUMENT,
      `the metrics registry refused the node's metrics (one node per registry): ${(err as Error)?.message ?? err}`,
    );
  }
  return (seconds) => {
    try {
      handle.lookupFinished(seconds);
    } catch {
      parts.counters.inc('callback.error.metrics');
    }
  };
}
