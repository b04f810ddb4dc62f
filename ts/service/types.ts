/** What a node tells its users, and how it is created. */

import type { Crypto } from '../crypto/crypto.js';
import type { BackendChoice } from '../crypto/types.js';
import type { Discv4Options } from '../discv4/config.js';
import type { Enr } from '../enr/enr.js';
import type { MetricsRegistry } from '../metrics/types.js';
import type { NodeAddress } from '../session/types.js';
import type { StoreReport } from '../store/types.js';
import type { Transport } from '../transport/types.js';
import type { Discv5Config } from './config.js';

export interface BindAddress {
  ip: string;
  /** 0 picks a free port. */
  port: number;
}

export interface Discv5Options {
  /**
   * The node's secp256k1 private key (32 bytes). Required unless `dataDir` is given, where a key
   * is kept (made on the first start); a key given here replaces the stored one.
   */
  privateKey?: Uint8Array;
  /**
   * A directory where the node keeps, in one SQLite file (mode 0600), its key, its record's last
   * seq and its routing table, so that a restart comes back with the same identity, a higher seq
   * and its peers. Needs Node.js >= 22.13 (node:sqlite) or the better-sqlite3 package.
   */
  dataDir?: string;
  /**
   * A metrics registry to report into (`discv5_*` counters, gauges and a lookup-duration
   * histogram): the built-in `PrometheusRegistry`, or the app's own through `fromPromClient`.
   */
  metrics?: MetricsRegistry;
  /** The node's record (text or Enr), signed by privateKey; made at start from the bound address if absent. */
  enr?: Enr | string;
  /** UDP addresses to bind (IPv4, IPv6, or both); ignored when a transport is given. */
  bind?: { ip4?: BindAddress; ip6?: BindAddress };
  /** A transport to use instead of UDP (for example a MemoryNetwork's, in tests and simulations). */
  transport?: Transport;
  /** The crypto to use; else one made for `backend`. */
  crypto?: Crypto;
  /** Crypto backend when no crypto is given: native, js or auto (default: DISCV5_BACKEND, else auto). */
  backend?: BackendChoice;
  config?: Partial<Discv5Config>;
  /** A record enters the routing table only if this returns true (apps' own rules; a throw reads as false). */
  tableFilter?: (enr: Enr) => boolean;
  /**
   * Records (or `enr:` text) of nodes to join through, kept for the node's life: contacted at
   * start, and again with back-off whenever the table holds fewer live entries than
   * `config.reseedBelowLive` (records given to `addEnr` are kept the same way).
   */
  bootnodes?: ReadonlyArray<Enr | string>;
  /**
   * Also serve Discovery v4 on the same socket and key (as go-ethereum and reth do): a datagram
   * that is not discv5 is read as discv4. `true`, or its options (its own bootnodes, bonding).
   * The v4 side is `node.discv4`.
   */
  discv4?: boolean | Discv4Options;
}

/** A PING's answer. */
export interface PongResult {
  /** The peer's record sequence number. */
  enrSeq: bigint;
  /** How the peer sees us. */
  ip: string;
  port: number;
}

export type TalkHandler = (
  request: Uint8Array,
  from: NodeAddress,
  enr: Enr | undefined,
) => Uint8Array | Promise<Uint8Array>;

/** One routing-table entry, as `table()` reports it. */
export interface TableEntryInfo {
  nodeId: string;
  enr: Enr;
  /** Has answered one of our PINGs (only live entries are served to others). */
  live: boolean;
  lastSeen: number;
  /** Log-distance from us (the bucket). */
  distance: number;
}

export interface Discv5Events {
  /** A handshake completed with a peer. */
  sessionEstablished: (peer: NodeAddress, enr: Enr | undefined, inbound: boolean) => void;
  /** A TALKREQ arrived (whether or not a handler answers it). */
  talkRequest: (protocol: Uint8Array, request: Uint8Array, from: NodeAddress) => void;
  /** A record was learned or updated (from a handshake, a NODES answer, or addEnr). */
  discovered: (enr: Enr) => void;
  /** A record entered the routing table. */
  enrAdded: (enr: Enr) => void;
  /** A node took a place in a bucket; `replaced` is the entry it took over from, if any. */
  nodeInserted: (entry: TableEntryInfo, replaced: TableEntryInfo | undefined) => void;
  /** A session reached its TTL. */
  sessionExpired: (peer: NodeAddress) => void;
  /** Our record's address changed (peers' reports agreed, or the app set it); the record is re-signed. */
  socketUpdated: (address: { ip: string; port: number; family: 4 | 6 }, enr: Enr) => void;
  /** Our record changed (address, or entries set with updateLocalEnr): seq + 1, signed again. */
  localEnrUpdated: (enr: Enr) => void;
  /** A peer's record names another address than the one its packets come from: answered, not added. */
  addressMismatch: (enr: Enr, source: NodeAddress) => void;
  /**
   * At start, with `dataDir`: the store was corrupt or from a newer schema, so it was moved aside
   * (`movedTo`) and the node started with a fresh one (a new key, unless one was given); or rows
   * that could not be read were skipped.
   */
  storeReport: (report: StoreReport) => void;
}
