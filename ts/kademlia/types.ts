/** Table entries as the table and its users see them. The table owns every field: read, never write. */
import type { Enr } from '../enr/enr.js';

/**
 * What the table needs of a node's record: discv5's tables hold `Enr`s, discv4's hold `V4Node`s
 * (a key and an endpoint, with the node's ENR once it gave it).
 */
export interface TableRecord {
  readonly nodeId: Uint8Array;
  /** A newer record (higher seq) replaces an older one. */
  readonly seq: bigint;
  readonly ip: string | undefined;
  readonly ip6: string | undefined;
  /** The UDP endpoints it is reached at. */
  endpoint4(): { ip: string; port: number } | undefined;
  endpoint6(): { ip: string; port: number } | undefined;
}

export interface TableEntry<R extends TableRecord = Enr> {
  /** The node's record (named for discv5's, which is an ENR; a `V4Node` in a discv4 table). */
  enr: R;
  /**
   * Whether the node answered one of our PINGs at its current endpoint: only such entries are
   * served to others (spec §9). A newer record with another endpoint clears it until the node
   * answers there.
   */
  live: boolean;
  /** When we last heard from it (ms since the epoch). */
  lastSeen: number;
  /** When it entered the table. */
  addedAt: number;
  /**
   * The limited subnet (/24, IPv6 per `subnetOf`) this entry is counted under while it holds a
   * bucket place; undefined for exempt addresses and for replacements (which are not counted).
   * Stored, not recomputed, so that leaving takes away exactly what entering added.
   */
  subnet: string | undefined;
  /**
   * Liveness credit, as go-ethereum keeps it: +1 for each answered check, divided by 3 on a missed
   * one; the entry leaves only at 0. A node that answered for long survives occasional silence.
   */
  checks: number;
  /** It entered because the peer reached us first (an inbound handshake): such places are capped per bucket. */
  inbound: boolean;
}

/** What inserting a record did. */
export type InsertResult<R extends TableRecord = Enr> =
  | { kind: 'added'; entry: TableEntry<R> }
  /**
   * The node is in a bucket already. `endpointChanged`: a newer record moved its UDP endpoint; the
   * entry is not live (not served) until it answers a PING at the new endpoint.
   */
  | { kind: 'updated'; entry: TableEntry<R>; endpointChanged: boolean }
  /** The bucket is full: the record waits among the replacements until an entry fails its checks. */
  | { kind: 'replacement'; entry: TableEntry<R> }
  /**
   * Refused: our own id, the `accept` filter, the subnet limits, the inbound cap, or a newer
   * record whose new endpoint does not fit the limits (the old record is kept).
   */
  | { kind: 'ignored' };
