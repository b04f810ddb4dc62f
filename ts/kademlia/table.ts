/**
 * The routing table (spec §8): 256 buckets by log-distance from our id, k entries each, least
 * recently seen first, with a replacement cache per bucket. It owns an entry's whole lifecycle:
 * - entering, under the subnet limits (spec §9) and the cap on places taken by inbound contact;
 * - record updates: a newer record with another endpoint is re-checked against the limits and is
 *   not served until it answers there (go-ethereum's bumpInBucket);
 * - liveness credit: answered checks add to it, a missed one divides it by 3, and the entry leaves
 *   only at 0 (go-ethereum's livenessChecks), when the newest fitting replacement takes its place.
 * Nothing here pings: maintenance.ts decides when to check, and reports the outcome here.
 */
import type { Crypto } from '../crypto/crypto.js';
import type { Enr } from '../enr/enr.js';
import { concatBytes, idKey } from '../util/bytes.js';
import { BUCKET_COUNT, INCOMING_PER_BUCKET, K, MAX_REPLACEMENTS } from './constants.js';
import { logDistance } from './distance.js';
import { AddressCounts, endpointKey, hasEndpoint, type IpLimits } from './limits.js';
import type { InsertResult, TableEntry, TableRecord } from './types.js';

interface Bucket<R extends TableRecord> {
  /** Least recently seen first. */
  entries: TableEntry<R>[];
  /** Newest last. */
  replacements: TableEntry<R>[];
  /** When a lookup last refreshed this bucket. */
  refreshedAt: number;
}

export interface TableOptions<R extends TableRecord = Enr> {
  k?: number;
  maxReplacements?: number;
  now?: () => number;
  /** A record may enter only if this allows it (eclipse defences and app filters). */
  accept?: (enr: R) => boolean;
  /** Entries per subnet (/24, IPv6 per `subnetOf`) in one bucket and in the whole table; loopback and LAN exempt. 0: no limit. */
  ipLimits?: IpLimits;
  /** Bucket places that entries which reached us first may hold (default 8, as sigp/Lighthouse). */
  incomingPerBucket?: number;
}

export interface InsertOptions {
  /** The caller saw this record's endpoint answer (as `markLive`). */
  live?: boolean;
  /** We just heard from the node: it moves to the back of its bucket. */
  seen?: boolean;
  /** The node reached us first (an inbound handshake): capped per bucket, see `incomingPerBucket`. */
  inbound?: boolean;
  /** When we last heard from the node, for an entry a store brings back (default: now). */
  lastSeen?: number;
}

const IGNORED = Object.freeze({ kind: 'ignored' as const });

export class RoutingTable<R extends TableRecord = Enr> {
  readonly localId: Uint8Array;
  readonly k: number;
  readonly #crypto: Crypto;
  readonly #buckets: Bucket<R>[];
  readonly #maxReplacements: number;
  readonly #incomingPerBucket: number;
  readonly #now: () => number;
  readonly #accept: (enr: R) => boolean;
  /** Every bucket entry and every replacement, by node id: kept in step with the lists on every path. */
  readonly #index = new Map<string, { bucket: number; entry: TableEntry<R>; replacement: boolean }>();
  readonly #counts: AddressCounts;
  /**
   * Bucket entries, and those of them live: kept on every path an entry enters or leaves a bucket
   * or changes liveness, so that maintenance (ticking on every node, thousands per process in a
   * testnet) reads them in O(1).
   */
  #size = 0;
  #live = 0;

  constructor(localId: Uint8Array, crypto: Crypto, options: TableOptions<R> = {}) {
    this.localId = localId;
    this.#crypto = crypto;
    this.k = options.k ?? K;
    this.#maxReplacements = options.maxReplacements ?? MAX_REPLACEMENTS;
    this.#incomingPerBucket = options.incomingPerBucket ?? INCOMING_PER_BUCKET;
    this.#now = options.now ?? Date.now;
    this.#accept = options.accept ?? (() => true);
    this.#counts = new AddressCounts(options.ipLimits ?? { perBucket: 0, perTable: 0 });
    this.#buckets = Array.from({ length: BUCKET_COUNT }, () => ({ entries: [], replacements: [], refreshedAt: 0 }));
  }

  /** Entries in buckets (replacements not counted). */
  get size(): number {
    return this.#size;
  }

  /** Entries that answered at their current endpoint (served to others). */
  get liveSize(): number {
    return this.#live;
  }

  /** Non-empty buckets by log-distance, with their entries and how many of them are live. */
  bucketFill(): { distance: number; entries: number; live: number }[] {
    const out: { distance: number; entries: number; live: number }[] = [];
    this.#buckets.forEach((b, i) => {
      if (b.entries.length === 0) return;
      let live = 0;
      for (const e of b.entries) if (e.live) live++;
      out.push({ distance: i + 1, entries: b.entries.length, live });
    });
    return out;
  }

  /** Bucket index (0..255) of an id: log-distance − 1; -1 for our own id. */
  bucketOf(nodeId: Uint8Array): number {
    return logDistance(this.localId, nodeId) - 1;
  }

  get(nodeId: Uint8Array): TableEntry<R> | undefined {
    const at = this.#index.get(idKey(nodeId));
    return at !== undefined && !at.replacement ? at.entry : undefined;
  }

  /** Whether a bucket entry's current record has this IP (as `ip` or `ip6`). O(1), for the packet gate. */
  hasIp(ip: string): boolean {
    return this.#counts.hasIp(ip);
  }

  /**
   * Inserts a record, or updates the node's entry. A newer record whose UDP endpoint moved must fit
   * the subnet limits in place of the old one (else the old record stays and the result is
   * `ignored`), and leaves the entry not live until it answers at the new endpoint.
   */
  insert(enr: R, options: InsertOptions = {}): InsertResult<R> {
    const b = this.bucketOf(enr.nodeId);
    if (b < 0 || !this.#accept(enr)) return IGNORED;
    const bucket = this.#buckets[b] as Bucket<R>;
    const key = idKey(enr.nodeId);
    const known = this.#index.get(key);
    if (known !== undefined && !known.replacement) return this.#update(bucket, known.entry, enr, options);
    const now = this.#now();
    const entry: TableEntry<R> = {
      enr,
      live: false,
      lastSeen: options.lastSeen ?? now,
      addedAt: now,
      subnet: undefined,
      checks: 0,
      // A node we heard of from others before it reached us did not enter by inbound contact.
      inbound: (options.inbound ?? false) && (known?.entry.inbound ?? true),
    };
    if (known !== undefined) {
      // A replacement seen again leaves its list (and the index) and enters anew with the newer
      // record; its liveness carries over only while its endpoint stays the one that answered.
      const old = known.entry;
      this.#unlist(bucket.replacements, old);
      this.#index.delete(key);
      if (old.enr.seq > enr.seq) entry.enr = old.enr;
      if (endpointKey(old.enr) === endpointKey(entry.enr)) {
        entry.live = old.live;
        entry.checks = old.checks;
      }
    }
    if (options.live && (entry.enr === enr || endpointKey(entry.enr) === endpointKey(enr))) this.#credit(entry);
    if (!this.#counts.fits(bucket.entries, entry.enr)) return IGNORED;
    if (bucket.entries.length < this.k) {
      // Inbound contact over the cap is refused outright rather than queued as a replacement: a
      // crowd of identities must not push out the replacements we learned from others either.
      if (entry.inbound && this.#inboundIn(bucket) >= this.#incomingPerBucket) return IGNORED;
      this.#place(bucket, b, entry);
      return { kind: 'added', entry };
    }
    bucket.replacements.push(entry);
    this.#index.set(key, { bucket: b, entry, replacement: true });
    if (bucket.replacements.length > this.#maxReplacements) {
      const dropped = bucket.replacements.shift() as TableEntry<R>;
      this.#index.delete(idKey(dropped.enr.nodeId));
    }
    return { kind: 'replacement', entry };
  }

  /**
   * The node answered one of our PINGs: live, one more liveness credit, moved to the back. With
   * `endpoint` (where the PING went), only if the entry's current record has that endpoint: an
   * answer at an address the node has since left proves nothing about the new one.
   */
  markLive(nodeId: Uint8Array, endpoint?: { ip: string; port: number }): TableEntry<R> | undefined {
    const entry = this.get(nodeId);
    if (entry === undefined || (endpoint !== undefined && !hasEndpoint(entry.enr, endpoint))) return undefined;
    if (!entry.live) this.#live++;
    this.#credit(entry);
    entry.lastSeen = this.#now();
    this.#moveToBack((this.#buckets[this.bucketOf(nodeId)] as Bucket<R>).entries, entry);
    return entry;
  }

  /**
   * The node missed a check: its credit is divided by 3. At 0 it leaves and the newest replacement
   * that fits the limits (and the inbound cap) takes its place; above 0 it stays where it is, live
   * if it was. Returns what was removed and what came in (both undefined when it stayed).
   */
  failed(nodeId: Uint8Array): { removed: TableEntry<R> | undefined; promoted: TableEntry<R> | undefined } {
    const entry = this.get(nodeId);
    if (entry === undefined) return { removed: undefined, promoted: undefined };
    entry.checks = Math.floor(entry.checks / 3);
    if (entry.checks > 0) return { removed: undefined, promoted: undefined };
    this.remove(nodeId);
    const b = this.bucketOf(nodeId);
    const bucket = this.#buckets[b] as Bucket<R>;
    const inboundFull = this.#inboundIn(bucket) >= this.#incomingPerBucket;
    for (let r = bucket.replacements.length - 1; r >= 0; r--) {
      const candidate = bucket.replacements[r] as TableEntry<R>;
      if ((candidate.inbound && inboundFull) || !this.#counts.fits(bucket.entries, candidate.enr)) continue;
      bucket.replacements.splice(r, 1);
      candidate.lastSeen = this.#now();
      this.#place(bucket, b, candidate);
      return { removed: entry, promoted: candidate };
    }
    return { removed: entry, promoted: undefined };
  }

  /** Takes a node out of the table; returns its bucket entry (undefined for a replacement, which goes too). */
  remove(nodeId: Uint8Array): TableEntry<R> | undefined {
    const key = idKey(nodeId);
    const at = this.#index.get(key);
    if (at === undefined) return undefined;
    const bucket = this.#buckets[at.bucket] as Bucket<R>;
    this.#index.delete(key);
    if (at.replacement) {
      this.#unlist(bucket.replacements, at.entry);
      return undefined;
    }
    this.#unlist(bucket.entries, at.entry);
    this.#size--;
    if (at.entry.live) this.#live--;
    this.#counts.delete(at.entry);
    return at.entry;
  }

  /** Live records at log-distance `d` (1..256), most recently seen first. */
  liveAt(d: number): R[] {
    const bucket = this.#buckets[d - 1];
    if (bucket === undefined) return [];
    const out: R[] = [];
    for (let i = bucket.entries.length - 1; i >= 0; i--) {
      const e = bucket.entries[i] as TableEntry<R>;
      if (e.live) out.push(e.enr);
    }
    return out;
  }

  /** The `n` entries closest to `target`, closest first (one backend call for the whole table). */
  closest(target: Uint8Array, n: number, filter: (e: TableEntry<R>) => boolean = () => true): TableEntry<R>[] {
    const all = this.entries().filter(filter);
    if (all.length === 0) return [];
    const ids = concatBytes(...all.map((e) => e.enr.nodeId));
    return Array.from(this.#crypto.closest(target, ids, n), (i) => all[i] as TableEntry<R>);
  }

  /** Every entry (not replacements), nearest buckets first. */
  entries(): TableEntry<R>[] {
    const out: TableEntry<R>[] = [];
    for (const b of this.#buckets) for (const e of b.entries) out.push(e);
    return out;
  }

  /** Every replacement, nearest buckets first (for inspection and consistency checks). */
  replacements(): TableEntry<R>[] {
    const out: TableEntry<R>[] = [];
    for (const b of this.#buckets) for (const e of b.replacements) out.push(e);
    return out;
  }

  /** Nodes the table knows by id (entries + replacements); equal to their count when consistent. */
  get indexed(): number {
    return this.#index.size;
  }

  /** Bucket entries per limited subnet (a copy). */
  subnetCounts(): Map<string, number> {
    return this.#counts.subnets();
  }

  /** A uniformly chosen entry matching `filter`, if any. */
  randomEntry(random: () => number, filter: (e: TableEntry<R>) => boolean = () => true): TableEntry<R> | undefined {
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
    if (b >= 0) (this.#buckets[b] as Bucket<R>).refreshedAt = this.#now();
  }

  /**
   * The log-distance of the bucket refreshed longest ago, among the buckets that can hold
   * anything (deep buckets are almost always empty: only the top ones plus the one past our
   * deepest entry are considered).
   */
  stalestDistance(): number {
    let deepest = BUCKET_COUNT - 1;
    for (let i = 0; i < BUCKET_COUNT; i++) {
      if ((this.#buckets[i] as Bucket<R>).entries.length > 0) {
        deepest = i;
        break;
      }
    }
    let best = BUCKET_COUNT - 1;
    for (let i = Math.max(0, deepest - 1); i < BUCKET_COUNT; i++) {
      if ((this.#buckets[i] as Bucket<R>).refreshedAt < (this.#buckets[best] as Bucket<R>).refreshedAt) best = i;
    }
    return best + 1;
  }

  /** A record (or a newer one) of a node already in a bucket. */
  #update(bucket: Bucket<R>, entry: TableEntry<R>, enr: R, options: InsertOptions): InsertResult<R> {
    let endpointChanged = false;
    if (enr.seq > entry.enr.seq) {
      if (endpointKey(enr) === endpointKey(entry.enr)) {
        entry.enr = enr; // same addresses: same counts, same liveness
      } else {
        // The node moved: it must fit the limits as if its old record had left, its counts move
        // with it, and it is not served until it answers at the new endpoint (spec §9).
        this.#counts.delete(entry);
        if (!this.#counts.fits(bucket.entries, enr, entry)) {
          this.#counts.add(entry); // the old record stays, counted as before
          return IGNORED;
        }
        entry.enr = enr;
        this.#counts.add(entry);
        if (entry.live) this.#live--;
        entry.live = false;
        entry.checks = 0;
        endpointChanged = true;
      }
    }
    // `live` vouches for the record given: it credits the entry only if that is where the node is.
    if (options.live && (entry.enr === enr || endpointKey(entry.enr) === endpointKey(enr))) {
      if (!entry.live) this.#live++;
      this.#credit(entry);
    }
    if (options.seen || options.live) {
      entry.lastSeen = this.#now();
      this.#moveToBack(bucket.entries, entry);
    }
    return { kind: 'updated', entry, endpointChanged };
  }

  #credit(entry: TableEntry<R>): void {
    entry.live = true;
    entry.checks++;
  }

  #inboundIn(bucket: Bucket<R>): number {
    let n = 0;
    for (const e of bucket.entries) if (e.inbound) n++;
    return n;
  }

  #place(bucket: Bucket<R>, b: number, entry: TableEntry<R>): void {
    bucket.entries.push(entry);
    this.#size++;
    if (entry.live) this.#live++;
    this.#index.set(idKey(entry.enr.nodeId), { bucket: b, entry, replacement: false });
    this.#counts.add(entry);
  }

  #moveToBack(list: TableEntry<R>[], entry: TableEntry<R>): void {
    const i = list.indexOf(entry);
    if (i >= 0 && i !== list.length - 1) {
      list.splice(i, 1);
      list.push(entry);
    }
  }

  #unlist(list: TableEntry<R>[], entry: TableEntry<R>): void {
    const i = list.indexOf(entry);
    if (i >= 0) list.splice(i, 1);
  }
}
