/** Table entries as the table and its users see them. */
import type { Enr } from '../enr/enr.js';

export interface TableEntry {
  enr: Enr;
  /** Whether the node has ever answered one of our PINGs: only such entries are served to others. */
  live: boolean;
  /** When we last heard from it (ms since the epoch). */
  lastSeen: number;
  /** When it entered the table. */
  addedAt: number;
}

/** What inserting a record did. */
export type InsertResult =
  | { kind: 'added'; entry: TableEntry }
  | { kind: 'updated'; entry: TableEntry }
  /** The bucket is full: the record waits among the replacements while `oldest` is checked. */
  | { kind: 'pending'; oldest: TableEntry }
  | { kind: 'ignored' };
