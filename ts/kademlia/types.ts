/** Table entries as the table and its users see them. The table owns every field: read, never write. */
import type { Enr } from '../enr/enr.js';

export interface TableEntry {
  enr: Enr;
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
export type InsertResult =
  | { kind: 'added'; entry: TableEntry }
  /**
   * The node is in a bucket already. `endpointChanged`: a newer record moved its UDP endpoint; the
   * entry is not live (not served) until it answers a PING at the new endpoint.
   */
  | { kind: 'updated'; entry: TableEntry; endpointChanged: boolean }
  /** The bucket is full: the record waits among the replacements until an entry fails its checks. */
  | { kind: 'replacement'; entry: TableEntry }
  /**
   * Refused: our own id, the `accept` filter, the subnet limits, the inbound cap, or a newer
   * record whose new endpoint does not fit the limits (the old record is kept).
   */
  | { kind: 'ignored' };
