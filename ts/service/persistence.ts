/**
 * What a node keeps across restarts (with `dataDir`), on the store layer (store/node-store.ts):
 * - at open: its key (made and stored on the first start when the app gives none) and the seq
 *   floor (one above the last seq stored, so that a restart never signs a seq peers already hold);
 * - while running: the table's entries (liveness, last-seen) and the other records it knows,
 *   written as a diff every `storeFlushIntervalMs` in one transaction, never per packet, and on
 *   stop; the local seq at once, whenever it changes;
 * - at start: the stored table comes back, not live (stale entries are pinged before they are
 *   served), and the most recently seen of them are remembered as fallbacks for re-seeding.
 * A kill -9 loses at most the writes of the last interval; a corrupt store is moved aside by the
 * store layer and reported here as the `storeReset` event.
 */
import type { Crypto } from '../crypto/crypto.js';
import type { EnrDecoder } from '../enr/batch.js';
import type { Enr } from '../enr/enr.js';
import type { RoutingTable } from '../kademlia/table.js';
import { NodeStore, type StoredNode } from '../store/node-store.js';
import type { StoreReport } from '../store/types.js';
import { bytesEqual, idKey } from '../util/bytes.js';
import { Discv5Error, ErrorCode } from '../util/errors.js';
import type { Counters } from '../util/metrics.js';

/** Table rows brought back as fallbacks for re-seeding (most recently seen first). */
const REMEMBERED = 64;

/** What a node's data dir gave it when it was opened. */
export interface Opened {
  store: NodeStore;
  privateKey: Uint8Array;
  /** The lowest seq the local record may take. */
  seqFloor: bigint;
  /** Stores found corrupt or from a newer schema, moved aside (reported at start). */
  reports: StoreReport[];
}

/**
 * Opens (or creates) the store in `dataDir`, if one is given; `privateKey` given by the app wins
 * over (and replaces) a stored one, else the stored key is used, else a new key is made and stored.
 */
export function openNodeStore(
  options: { dataDir?: string | undefined; privateKey?: Uint8Array | undefined },
  crypto: Crypto,
): Opened | undefined {
  const { dataDir, privateKey } = options;
  if (dataDir === undefined) {
    if (privateKey === undefined) {
      throw new Discv5Error(ErrorCode.INVALID_ARGUMENT, 'give privateKey, or dataDir to keep (or make) one there');
    }
    return undefined;
  }
  if (typeof dataDir !== 'string' || dataDir === '') {
    throw new Discv5Error(ErrorCode.INVALID_ARGUMENT, 'dataDir must be a directory path');
  }
  const reports: StoreReport[] = [];
  const store = NodeStore.open(dataDir, { onReport: (r) => reports.push(r) });
  const stored = store.privateKey();
  let key = privateKey ?? stored;
  if (key === undefined) key = crypto.generatePrivateKey();
  if (stored === undefined || !bytesEqual(stored, key)) store.setPrivateKey(key);
  const seq = store.seq();
  return { store, privateKey: key, seqFloor: seq === undefined ? 0n : seq + 1n, reports };
}

interface Written {
  enr: Enr;
  live: boolean;
  lastSeen: number;
  inTable: boolean;
}

/** The part of `Peers` persistence uses. */
export interface PersistedPeers {
  /** The records the node knows (in the table or not). */
  known(): Iterable<Enr>;
  /** Offers a record to the table (a stored entry comes back not live, at its stored last-seen). */
  learn(enr: Enr, options: { lastSeen: number }): void;
  /** A stored peer to contact at start and when the table runs short. */
  remember(enr: Enr): void;
}

export interface PersistenceDeps {
  opened: Opened;
  table: RoutingTable;
  peers: PersistedPeers;
  decoder: EnrDecoder;
  counters: Counters;
  config: {
    storeFlushIntervalMs: number;
    /** Rows kept beside the table's (records known but not in it), most recently seen first. */
    enrCacheSize: number;
  };
  now?: () => number;
}

export class NodePersistence {
  readonly #d: PersistenceDeps;
  /** What the store holds, as last written, by node id: the diff of the next flush is against it. */
  readonly #written = new Map<string, Written>();
  #timer: ReturnType<typeof setInterval> | undefined;
  #closed = false;

  constructor(deps: PersistenceDeps) {
    this.#d = deps;
  }

  get #store(): NodeStore {
    return this.#d.opened.store;
  }

  /**
   * At start, once the local record exists: its seq written, the stored table back, the store's
   * reports handed on (stores moved aside at open, rows skipped while loading), writing begins.
   */
  begin(seq: bigint, report: (r: StoreReport) => void): void {
    this.saveSeq(seq);
    this.load();
    for (const r of this.#d.opened.reports.splice(0)) {
      this.#d.counters.inc(`store.report-${r.kind}`);
      report(r);
    }
    this.start();
  }

  /** The seq of the local record, written at once: a restart must never sign a seq peers already hold. */
  saveSeq(seq: bigint): void {
    if (this.#closed) return;
    try {
      this.#store.setSeq(seq);
    } catch {
      this.#d.counters.inc('store.write-failed');
    }
  }

  /** Brings the stored table back (records checked again; a row that does not verify is skipped). */
  load(): void {
    const rows = this.#readRows().filter((r) => r.inTable);
    rows.sort((a, b) => b.lastSeen - a.lastSeen);
    let remembered = 0;
    for (const row of rows) {
      const enr = this.#decode(row);
      if (enr === undefined) continue;
      // Kept as written, in the table, so that a row the table no longer takes is marked gone at the first flush.
      this.#written.set(idKey(enr.nodeId), { enr, live: row.live, lastSeen: row.lastSeen, inTable: true });
      this.#d.peers.learn(enr, { lastSeen: row.lastSeen });
      if (remembered++ < REMEMBERED) this.#d.peers.remember(enr);
    }
    this.#d.counters.inc('store.loaded', this.#written.size);
  }

  start(): void {
    if (this.#timer !== undefined || this.#closed) return;
    this.#timer = setInterval(() => this.flush(), this.#d.config.storeFlushIntervalMs);
    this.#timer.unref?.();
  }

  /** Writes what changed since the last flush in one transaction; a failure is counted, never thrown. */
  flush(): void {
    if (this.#closed) return;
    try {
      const changes = this.#diff();
      if (changes.length > 0) {
        this.#store.writeNodes(
          changes.map(([, w]) => ({
            nodeId: w.enr.nodeId,
            enr: w.enr.encoded,
            live: w.live,
            lastSeen: w.lastSeen,
            inTable: w.inTable,
          })),
          [],
        );
        for (const [key, w] of changes) this.#written.set(key, w);
        // Only a write can push the known rows past their bound.
        this.#store.prune(this.#d.config.enrCacheSize);
      }
      this.#d.counters.inc('store.flushed');
    } catch {
      this.#d.counters.inc('store.write-failed');
    }
  }

  /** The last flush, then the store is closed. */
  close(): void {
    if (this.#closed) return;
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#timer = undefined;
    this.flush();
    this.#closed = true;
    try {
      this.#store.close();
    } catch {
      this.#d.counters.inc('store.write-failed');
    }
  }

  /** Rows to write: table entries that are new or changed, entries that left it, and newly known records. */
  #diff(): [string, Written][] {
    const now = (this.#d.now ?? Date.now)();
    const out = new Map<string, Written>();
    const inTable = new Set<string>();
    for (const e of this.#d.table.entries()) {
      const key = idKey(e.enr.nodeId);
      inTable.add(key);
      const w = this.#written.get(key);
      if (w?.inTable && w.enr === e.enr && w.live === e.live && w.lastSeen === e.lastSeen) continue;
      out.set(key, { enr: e.enr, live: e.live, lastSeen: e.lastSeen, inTable: true });
    }
    const known = new Set<string>();
    for (const enr of this.#d.peers.known()) {
      const key = idKey(enr.nodeId);
      known.add(key);
      if (inTable.has(key)) continue;
      const w = this.#written.get(key);
      if (w !== undefined && w.enr === enr && !w.inTable) continue;
      out.set(key, { enr, live: false, lastSeen: w?.lastSeen ?? now, inTable: false });
    }
    for (const [key, w] of this.#written) {
      if (inTable.has(key)) continue;
      // Left the table: kept as a known record (the store prunes those past maxKnown).
      if (w.inTable) {
        if (!out.has(key)) out.set(key, { ...w, live: false, inTable: false });
      }
      // Neither in the table nor known any more: the store keeps or prunes it; we stop tracking it.
      else if (!known.has(key)) this.#written.delete(key);
    }
    return [...out];
  }

  #readRows(): StoredNode[] {
    try {
      return this.#store.nodes();
    } catch {
      this.#d.counters.inc('store.read-failed');
      return [];
    }
  }

  #decode(row: StoredNode): Enr | undefined {
    try {
      const enr = this.#d.decoder.decode(row.enr);
      if (bytesEqual(enr.nodeId, row.nodeId)) return enr;
    } catch {
      // counted below
    }
    this.#d.counters.inc('store.bad-row');
    return undefined;
  }
}
