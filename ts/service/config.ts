/** Every setting of a node, with its default, in one place (documented in README). */

import type { MaintenanceConfig } from '../kademlia/maintenance.js';
import type { GateConfig } from '../policy/gate.js';
import { DEFAULT_REQUEST_CONFIG, type RequestConfig } from '../rpc/config.js';
import { DEFAULT_SESSION_CONFIG, MAX_SESSION_CACHE_CAPACITY, type SessionConfig } from '../session/config.js';
import { Discv5Error, ErrorCode } from '../util/errors.js';

export interface ServiceConfig {
  /** Records of other nodes remembered (for handshakes and WHOAREYOU), default 10,000. */
  enrCacheSize: number;
  /** Verified records the decoder remembers, so a record seen again is not verified again (default 10,000). */
  verifiedEnrCacheSize: number;
  /** Records answered to one FINDNODE (default 16). */
  maxNodesPerFindNode: number;
  /** Bytes of records per NODES message (default 1,000, as geth). */
  nodesMessageRecordBytes: number;
  /** Lookup parallelism: FINDNODE requests under way at once per lookup (default 3). */
  lookupParallelism: number;
  /** How long one lookup may run (default 30 s). */
  lookupTimeoutMs: number;
  /** With `dataDir`: how often the table's changes are written (default 2 s: a kill -9 loses at most this much). */
  storeFlushIntervalMs: number;
  /**
   * Requests answered per second for one requester node id, as sigp/discv5's request limiter does
   * (default 0: no limit). Requests over it are ignored (`drop.request-rate`); loopback is not exempt.
   */
  requestsPerNodePerSecond: number;
  /** Burst of `requestsPerNodePerSecond` (default 0: the same as the rate). */
  requestsPerNodeBurst: number;
}

export interface PolicyConfig {
  /** Table entries per /24 (IPv6: /64) in one bucket; loopback and LAN exempt; 0 disables (default 2). */
  ipLimitPerBucket: number;
  /** Table entries per /24 (IPv6: /64) in the whole table; 0 disables (default 10). */
  ipLimitPerTable: number;
  /** Bucket places that entries which reached us first (inbound handshakes) may take, of k (default 8). */
  incomingPerBucket: number;
  /** Update the local record's address from what peers report in PONGs (default true). */
  addressVoting: boolean;
  /** How long a peer's report counts (default 120 s). */
  voteWindowMs: number;
  /** Reports needed before the address may change (default 10). */
  minVotes: number;
}

export type Discv5Config = SessionConfig &
  RequestConfig &
  ServiceConfig &
  MaintenanceConfig &
  GateConfig &
  PolicyConfig;

export const DEFAULT_SERVICE_CONFIG: ServiceConfig = {
  enrCacheSize: 10_000,
  verifiedEnrCacheSize: 10_000,
  maxNodesPerFindNode: 16,
  nodesMessageRecordBytes: 1_000,
  lookupParallelism: 3,
  lookupTimeoutMs: 30_000,
  storeFlushIntervalMs: 2_000,
  requestsPerNodePerSecond: 0,
  requestsPerNodeBurst: 0,
};

export const DEFAULT_MAINTENANCE_CONFIG: MaintenanceConfig = {
  revalidateNewIntervalMs: 1_000,
  revalidateNewBatch: 4,
  revalidateLiveIntervalMs: 10_000,
  inboundPingDelayMs: 1_000,
  refreshIntervalMs: 60_000,
  reseedIntervalMs: 1_000,
  reseedMaxIntervalMs: 10_000,
  reseedBelowLive: 4,
};

export const DEFAULT_GATE_CONFIG: GateConfig = {
  rateLimitIpPerSecond: 200,
  rateLimitIpBurst: 400,
  rateLimitNodePerSecond: 100,
  rateLimitNodeBurst: 200,
  rateLimitTotalPerSecond: 20_000,
  rateLimitTotalBurst: 40_000,
  handshakesPerIpPerSecond: 20,
  handshakesBurstPerIp: 50,
  handshakesTotalPerSecond: 200,
  handshakesTotalBurst: 400,
  rateLimitMaxKeys: 10_000,
  limitLoopback: false,
  invalidPacketsToBan: 100,
  invalidWindowMs: 10_000,
  autoBanMs: 600_000,
  maxBanEntries: 10_000,
};

export const DEFAULT_POLICY_CONFIG: PolicyConfig = {
  ipLimitPerBucket: 2,
  ipLimitPerTable: 10,
  incomingPerBucket: 8,
  addressVoting: true,
  voteWindowMs: 120_000,
  minVotes: 10,
};

export const DEFAULT_CONFIG: Readonly<Discv5Config> = Object.freeze({
  ...DEFAULT_SESSION_CONFIG,
  ...DEFAULT_REQUEST_CONFIG,
  ...DEFAULT_SERVICE_CONFIG,
  ...DEFAULT_MAINTENANCE_CONFIG,
  ...DEFAULT_GATE_CONFIG,
  ...DEFAULT_POLICY_CONFIG,
});

/** Sizes and counts that must be at least 1: a bound of 0 would refuse everything, or nothing would run. */
const AT_LEAST_ONE = [
  'maxNodesMessages',
  'maxChallenges',
  'maxPendingNonces',
  'maxHandshakingPeers',
  'maxActiveRequests',
  'enrCacheSize',
  'verifiedEnrCacheSize',
  'maxNodesPerFindNode',
  'lookupParallelism',
  'rateLimitMaxKeys',
  'maxBanEntries',
  'minVotes',
  'storeFlushIntervalMs',
] as const satisfies readonly (keyof Discv5Config)[];
/** One record (at most 300 bytes) must fit a NODES message, and a NODES message one 1,280-byte packet. */
const MIN_RECORD_BYTES = 300;
const MAX_RECORD_BYTES = 1_100;

/** Defaults overlaid with the caller's values, each checked (numbers are non-negative integers). */
export function resolveConfig(partial: Partial<Discv5Config> = {}): Discv5Config {
  const config = { ...DEFAULT_CONFIG, ...partial };
  for (const [key, value] of Object.entries(config)) {
    const expected = typeof (DEFAULT_CONFIG as unknown as Record<string, unknown>)[key];
    if (expected === 'undefined') throw new Discv5Error(ErrorCode.INVALID_ARGUMENT, `config.${key} is not a setting`);
    const bad =
      expected === 'boolean' ? typeof value !== 'boolean' : !Number.isSafeInteger(value) || (value as number) < 0;
    if (bad) {
      const want = expected === 'boolean' ? 'true or false' : 'a non-negative integer';
      throw new Discv5Error(ErrorCode.INVALID_ARGUMENT, `config.${key} must be ${want}`);
    }
  }
  if (config.sessionCacheCapacity < 1 || config.sessionCacheCapacity > MAX_SESSION_CACHE_CAPACITY) {
    throw new Discv5Error(
      ErrorCode.INVALID_ARGUMENT,
      `config.sessionCacheCapacity must be 1..${MAX_SESSION_CACHE_CAPACITY}`,
    );
  }
  for (const key of AT_LEAST_ONE) {
    if (config[key] < 1) throw new Discv5Error(ErrorCode.INVALID_ARGUMENT, `config.${key} must be >= 1`);
  }
  const { nodesMessageRecordBytes: bytes } = config;
  if (bytes < MIN_RECORD_BYTES || bytes > MAX_RECORD_BYTES) {
    throw new Discv5Error(
      ErrorCode.INVALID_ARGUMENT,
      `config.nodesMessageRecordBytes must be ${MIN_RECORD_BYTES}..${MAX_RECORD_BYTES} (records go in one packet)`,
    );
  }
  return config;
}
