/**
 * The routing table (spec §8): 256 buckets by log-distance from our id, k entries each, least
 * recently seen first, with a replacement cache per bucket. A full bucket never evicts on its own:
 * the caller pings the oldest entry (`pending`) and calls `failed()` only if it does not answer,
 * which promotes the newest replacement. Batches (the k closest of the whole table) go through the
 * backend in one call.
 */
import type { Crypto } from '../crypto/crypto.js';
import type { Enr } from '../enr/enr.js';
import { ipScope, subnetOf } from '../policy/ip-class.js';
import { idKey } from '../session/keys.js';
import { concatBytes } from '../util/bytes.js';
import { BUCKET_COUNT, K, MAX_REPLACEMENTS } from './constants.js';
import { logDistance } from './distance.js';
import type { InsertResult, TableEntry } from './types.js';

interface Bucket {
  /** Least recently seen first. */
  entries: TableEntry[];
  /** Newest last. */
  replacements: TableEntry[];
  /** When a lookup last refreshed this bucket. */
  refreshedAt: number;
}

export interface TableOptions {
  k?: number;
  maxReplacements?: number;
  now?: () => number;
  /** A record may enter only if this allows it (eclipse defences and app filters). */
  accept?: (enr: Enr) => boolean;
  /** Entries per subnet (/24, IPv6 /64) in one bucket and in the whole table; loopback and LAN exempt. 0: no limit. */
  ipLimits?: { perBucket: number; perTable: number };
}

/** The subnet an entry counts against, or undefined when its address is exempt (loopback, LAN). */
function limitedSubnet(enr: Enr): string | undefined {
  const ip = enr.ip ?? enr.ip6;
  return ip !== undefined && ipScope(ip) === 'public' ? subnetOf(ip) : undefined;
}

export class RoutingTable {
  readonly localId: Uint8Array;
  readonly k: number;
  readonly #crypto: Crypto;
  readonly #buckets: Bucket[];
  readonly #maxReplacements: number;
  readonly #now: () => number;
  readonly #accept: (enr: Enr) => boolean;
  readonly #index = new Map<string, { bucket: number; entry: TableEntry; replacement: boolean }>();
  readonly #limits: { perBucket: number; perTable: number };
  /** Bucket entries per subnet, over the whole table. */
  readonly #perSubnet = new Map<string, number>();

  constructor(localId: Uint8Array, crypto: Crypto, options: TableOptions = {}) {
    this.localId = localId;
    this.#crypto = crypto;
    this.k = options.k ?? K;
    this.#maxReplacements = options.maxReplacements ?? MAX_REPLACEMENTS;
    this.#now = options.now ?? Date.now;
    this.#accept = options.accept ?? (() => true);
    this.#limits = options.ipLimits ?? { perBucket: 0, perTable: 0 };
    this.#buckets = Array.from({ length: BUCKET_COUNT }, () => ({ entries: [], replacements: [], refreshedAt: 0 }));
  }

  /** Entries in buckets (replacements not counted). */
  get size(): number {
    let n = 0;
    for (const b of this.#buckets) n += b.entries.length;
    return n;
  }

  /** Bucket index (0..255) of an id: log-distance − 1; -1 for our own id. */
  bucketOf(nodeId: Uint8Array): number {
    return logDistance(this.localId, nodeId) - 1;
  }

  get(nodeId: Uint8Array): TableEntry | undefined {
    const at = this.#index.get(idKey(nodeId));
    return at !== undefined && !at.replacement ? at.entry : undefined;
  }

  /** Inserts or refreshes a record (a newer seq replaces the stored record; liveness is kept). */
  insert(enr: Enr, options: { live?: boolean; seen?: boolean } = {}): InsertResult {
    const b = this.bucketOf(enr.nodeId);
    if (b < 0 || !this.#accept(enr)) return { kind: 'ignored' };
    const key = idKey(enr.nodeId);
    const bucket = this.#buckets[b] as Bucket;
    const now = this.#now();
    const known = this.#index.get(key);
    if (known !== undefined && !known.replacement) {
      const { entry } = known;
      if (enr.seq > entry.enr.seq) entry.enr = enr;
      if (options.live) entry.live = true;
      if (options.seen || options.live) {
        entry.lastSeen = now;
        this.#moveToBack(bucket.entries, entry);
      }
      return { kind: 'updated', entry };
    }
    const entry: TableEntry = { enr, live: options.live ?? false, lastSeen: now, addedAt: now };
    if (known !== undefined) {
      // A replacement seen again: keep the newer record, move it to the newest place.
      this.#remove(bucket.replacements, known.entry);
      if (known.entry.enr.seq > enr.seq) entry.enr = known.entry.enr;
      entry.live ||= known.entry.live;
    }
    if (!this.#withinLimits(bucket, entry.enr)) return { kind: 'ignored' };
    if (bucket.entries.length < this.k) {
      this.#place(bucket, b, entry);
      return { kind: 'added', entry };
    }
    bucket.replacements.push(entry);
    this.#index.set(key, { bucket: b, entry, replacement: true });
    if (bucket.replacements.length > this.#maxReplacements) {
      const dropped = bucket.replacements.shift() as TableEntry;
      this.#index.delete(idKey(dropped.enr.nodeId));
    }
    return { kind: 'pending', oldest: bucket.entries[0] as TableEntry };
  }

  /** The node answered a PING. */
  markLive(nodeId: Uint8Array): TableEntry | undefined {
    const entry = this.get(nodeId);
    if (entry !== undefined) {
      entry.live = true;
      entry.lastSeen = this.#now();
      this.#moveToBack((this.#buckets[this.bucketOf(nodeId)] as Bucket).entries, entry);
    }
    return entry;
  }

  /**
   * The node did not answer a check: it leaves the bucket and the newest replacement takes its
   * place. Returns what was removed and what came in.
   */
  failed(nodeId: Uint8Array): { removed: TableEntry | undefined; promoted: TableEntry | undefined } {
    const removed = this.remove(nodeId);
    if (removed === undefined) return { removed, promoted: undefined };
    const bucket = this.#buckets[this.bucketOf(nodeId)] as Bucket;
    // The newest replacement that the subnet limits still allow takes the place.
    let promoted: TableEntry | undefined;
    for (let r = bucket.replacements.length - 1; r >= 0 && promoted === undefined; r--) {
      const candidate = bucket.replacements[r] as TableEntry;
      if (!this.#withinLimits(bucket, candidate.enr)) continue;
      bucket.replacements.splice(r, 1);
      candidate.lastSeen = this.#now();
      this.#place(bucket, this.bucketOf(candidate.enr.nodeId), candidate);
      promoted = candidate;
    }
    return { removed, promoted };
  }

  /** Takes a node out of its bucket (replacements included). */
  remove(nodeId: Uint8Array): TableEntry | undefined {
    const key = idKey(nodeId);
    const at = this.#index.get(key);
    if (at === undefined) return undefined;
    const bucket = this.#buckets[at.bucket] as Bucket;
    this.#remove(at.replacement ? bucket.replacements : bucket.entries, at.entry);
    this.#index.delete(key);
    if (at.replacement) return undefined;
    const subnet = limitedSubnet(at.entry.enr);
    if (subnet !== undefined) {
      const n = (this.#perSubnet.get(subnet) ?? 1) - 1;
      if (n > 0) this.#perSubnet.set(subnet, n);
      else this.#perSubnet.delete(subnet);
    }
    return at.entry;
  }

  /** Live records at log-distance `d` (1..256), most recently seen first. */
  liveAt(d: number): Enr[] {
    const bucket = this.#buckets[d - 1];
    if (bucket === undefined) return [];
    const out: Enr[] = [];
    for (let i = bucket.entries.length - 1; i >= 0; i--) {
      const e = bucket.entries[i] as TableEntry;
      if (e.live) out.push(e.enr);
    }
    return out;
  }

  /** The `n` entries closest to `target`, closest first (one backend call for the whole table). */
  closest(target: Uint8Array, n: number, filter: (e: TableEntry) => boolean = () => true): TableEntry[] {
    const all = this.entries().filter(filter);
    if (all.length === 0) return [];
    const ids = concatBytes(...all.map((e) => e.enr.nodeId));
    return Array.from(this.#crypto.closest(target, ids, n), (i) => all[i] as TableEntry);
  }

  /** Every entry (not replacements), nearest buckets first. */
  entries(): TableEntry[] {
    const out: TableEntry[] = [];
    for (const b of this.#buckets) for (const e of b.entries) out.push(e);
    return out;
  }

  /** A uniformly chosen entry matching `filter`, if any. */
  randomEntry(random: () => number, filter: (e: TableEntry) => boolean = () => true): TableEntry | undefined {
    // Two passes and no array: maintenance asks this several times a second on every node, and a
    // testnet runs thousands of nodes in one process.
    let count = 0;
    for (const b of this.#buckets) for (const e of b.entries) if (filter(e)) count++;
    if (count === 0) return undefined;
    let pick = Math.floor(random() * count);
    for (const b of this.#buckets) for (const e of b.entries) if (filter(e) && pick-- === 0) return e;
    return undefined;
  }

  /** Marks the bucket of `target` refreshed (a lookup went there). */
  touchBucket(target: Uint8Array): void {
    const b = this.bucketOf(target);
    if (b >= 0) (this.#buckets[b] as Bucket).refreshedAt = this.#now();
  }

  /**
   * The log-distance of the bucket refreshed longest ago, among the buckets that can hold
   * anything (deep buckets are almost always empty: only the top ones plus the one past our
   * deepest entry are considered).
   */
  stalestDistance(): number {
    let deepest = BUCKET_COUNT - 1;
    for (let i = 0; i < BUCKET_COUNT; i++) {
      if ((this.#buckets[i] as Bucket).entries.length > 0) {
        deepest = i;
        break;
      }
    }
    let best = BUCKET_COUNT - 1;
    for (let i = Math.max(0, deepest - 1); i < BUCKET_COUNT; i++) {
      if ((this.#buckets[i] as Bucket).refreshedAt < (this.#buckets[best] as Bucket).refreshedAt) best = i;
    }
    return best + 1;
  }

  /** Whether `enr` may take a place in `bucket` under the subnet limits (spec §9). */
  #withinLimits(bucket: Bucket, enr: Enr): boolean {
    const subnet = limitedSubnet(enr);
    if (subnet === undefined) return true;
    const { perBucket, perTable } = this.#limits;
    if (perTable > 0 && (this.#perSubnet.get(subnet) ?? 0) >= perTable) return false;
    if (perBucket > 0 && bucket.entries.filter((e) => limitedSubnet(e.enr) === subnet).length >= perBucket)
      return false;
    return true;
  }

  #place(bucket: Bucket, b: number, entry: TableEntry): void {
    bucket.entries.push(entry);
    this.#index.set(idKey(entry.enr.nodeId), { bucket: b, entry, replacement: false });
    const subnet = limitedSubnet(entry.enr);
    if (subnet !== undefined) this.#perSubnet.set(subnet, (this.#perSubnet.get(subnet) ?? 0) + 1);
  }

  #moveToBack(list: TableEntry[], entry: TableEntry): void {
    const i = list.indexOf(entry);
    if (i >= 0 && i !== list.length - 1) {
      list.splice(i, 1);
      list.push(entry);
    }
  }

  #remove(list: TableEntry[], entry: TableEntry): void {
    const i = list.indexOf(entry);
    if (i >= 0) list.splice(i, 1);
  }
}
