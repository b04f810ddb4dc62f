/** Every setting of a node, with its default, in one place (documented in README). */
import { DEFAULT_REQUEST_CONFIG, type RequestConfig } from '../rpc/config.js';
import { DEFAULT_SESSION_CONFIG, MAX_SESSION_CACHE_CAPACITY, type SessionConfig } from '../session/config.js';
import { Discv5Error, ErrorCode } from '../util/errors.js';
import type { MaintenanceConfig } from './maintenance.js';

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
}

export type Discv5Config = SessionConfig & RequestConfig & ServiceConfig & MaintenanceConfig;

export const DEFAULT_SERVICE_CONFIG: ServiceConfig = {
  enrCacheSize: 10_000,
  verifiedEnrCacheSize: 10_000,
  maxNodesPerFindNode: 16,
  nodesMessageRecordBytes: 1_000,
  lookupParallelism: 3,
  lookupTimeoutMs: 30_000,
};

export const DEFAULT_MAINTENANCE_CONFIG: MaintenanceConfig = {
  revalidateNewIntervalMs: 1_000,
  revalidateNewBatch: 4,
  revalidateLiveIntervalMs: 10_000,
  inboundPingDelayMs: 1_000,
  refreshIntervalMs: 60_000,
};

export const DEFAULT_CONFIG: Readonly<Discv5Config> = Object.freeze({
  ...DEFAULT_SESSION_CONFIG,
  ...DEFAULT_REQUEST_CONFIG,
  ...DEFAULT_SERVICE_CONFIG,
  ...DEFAULT_MAINTENANCE_CONFIG,
});

/** Defaults overlaid with the caller's values, each checked. */
export function resolveConfig(partial: Partial<Discv5Config> = {}): Discv5Config {
  const config = { ...DEFAULT_CONFIG, ...partial };
  for (const [key, value] of Object.entries(config)) {
    if (!Number.isFinite(value) || (value as number) < 0) {
      throw new Discv5Error(ErrorCode.INVALID_ARGUMENT, `config.${key} must be a non-negative number`);
    }
  }
  if (config.sessionCacheCapacity < 1 || config.sessionCacheCapacity > MAX_SESSION_CACHE_CAPACITY) {
    throw new Discv5Error(
      ErrorCode.INVALID_ARGUMENT,
      `config.sessionCacheCapacity must be 1..${MAX_SESSION_CACHE_CAPACITY}`,
    );
  }
  if (config.maxNodesMessages < 1)
    throw new Discv5Error(ErrorCode.INVALID_ARGUMENT, 'config.maxNodesMessages must be >= 1');
  return config;
}
