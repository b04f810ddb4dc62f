/**
 * Settings of discv4 beside a node's discv5 (`Discv5.create({ discv4: true | Discv4Options })`).
 * Limits, time limits, lookup parallelism, table limits, revalidation and the per-requester rate
 * come from the node's own config (one set of rules for both protocols); these are discv4's own.
 */
import { Discv5Error, ErrorCode } from '../util/errors.js';

export interface Discv4Options {
  /** Initial discv4 peers: `enode://` URLs (or v4 records, `enr:`). */
  bootnodes?: readonly string[];
  /** How long an endpoint proof lasts (default 24 h, as go-ethereum). */
  bondLifetimeMs?: number;
  /**
   * After our PING is answered, how long we give the peer to ping us back before we send it a
   * FINDNODE it may refuse for want of proof of us (default 500 ms, go-ethereum's wait).
   */
  bondWaitMs?: number;
  /** Endpoint proofs remembered (default 10,000; least recently used forgotten first). */
  maxBonds?: number;
  /** Replies awaited at once (default 8,192; more requests reject with ERR_TOO_MANY_REQUESTS). */
  maxPendingReplies?: number;
}

export type Discv4Config = Required<Omit<Discv4Options, 'bootnodes'>>;

export const DEFAULT_DISCV4_CONFIG: Readonly<Discv4Config> = Object.freeze({
  bondLifetimeMs: 24 * 3600_000,
  bondWaitMs: 500,
  maxBonds: 10_000,
  maxPendingReplies: 8_192,
});

/** The defaults overlaid with the caller's values, each checked. */
export function resolveDiscv4Config(options: Discv4Options = {}): Discv4Config {
  const config: Discv4Config = { ...DEFAULT_DISCV4_CONFIG };
  for (const key of Object.keys(DEFAULT_DISCV4_CONFIG) as (keyof Discv4Config)[]) {
    const value = options[key];
    if (value === undefined) continue;
    if (!Number.isSafeInteger(value) || value < (key === 'bondWaitMs' ? 0 : 1)) {
      throw new Discv5Error(
        ErrorCode.INVALID_ARGUMENT,
        `discv4.${key} must be a ${key === 'bondWaitMs' ? 'non-negative' : 'positive'} integer`,
      );
    }
    config[key] = value;
  }
  return config;
}
