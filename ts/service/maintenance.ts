/**
 * Keeping the table healthy (spec §8), on timers that do not depend on inbound traffic:
 * - new entries (never answered a PING) are pinged a few per tick, so they can become live;
 * - a random live entry is re-checked now and then;
 * - a full bucket's oldest entry is pinged when a newcomer waits, and replaced only if it fails;
 * - nodes that reached us through an inbound handshake are pinged shortly after;
 * - a lookup refreshes the stalest bucket on a schedule.
 * A PONG announcing a newer record makes us fetch it (FINDNODE [0]).
 */
import type { Enr } from '../enr/enr.js';
import type { RoutingTable } from '../kademlia/table.js';
import type { TableEntry } from '../kademlia/types.js';
import { idKey } from '../session/keys.js';
import type { Counters } from '../util/metrics.js';

export interface MaintenanceConfig {
  /** Interval of the check of new entries (default 1 s). */
  revalidateNewIntervalMs: number;
  /** New entries pinged per check (default 4). */
  revalidateNewBatch: number;
  /** Interval of the re-check of one random live entry (default 10 s). */
  revalidateLiveIntervalMs: number;
  /** Delay before pinging a node that reached us (default 1 s). */
  inboundPingDelayMs: number;
  /** Interval of the refresh lookup of the stalest bucket (default 60 s; 0 disables it). */
  refreshIntervalMs: number;
  /** How often an empty table is re-seeded from the records the node was started with (default 5 s; 0 disables). */
  reseedIntervalMs: number;
}

export interface MaintenanceDeps {
  table: RoutingTable;
  counters: Counters;
  config: MaintenanceConfig;
  /** PING; resolves with the peer's record seq, rejects when it does not answer. */
  ping: (enr: Enr) => Promise<bigint>;
  /** FINDNODE [0]. */
  requestEnr: (enr: Enr) => Promise<Enr>;
  /** A lookup for a random id at this log-distance from us. */
  refresh: (distance: number) => Promise<void>;
  onLive: (entry: TableEntry) => void;
  onEvicted: (removed: TableEntry, promoted: TableEntry | undefined) => void;
  onUpdated: (enr: Enr) => void;
  random: () => number;
}

export class TableMaintenance {
  readonly #d: MaintenanceDeps;
  readonly #timers: ReturnType<typeof setInterval>[] = [];
  readonly #pending = new Set<ReturnType<typeof setTimeout>>();
  /** Nodes with a check under way, so that none is pinged twice at once. */
  readonly #checking = new Set<string>();
  #stopped = false;

  constructor(deps: MaintenanceDeps) {
    this.#d = deps;
  }

  start(): void {
    const c = this.#d.config;
    this.#every(c.revalidateNewIntervalMs, () => {
      for (let i = 0; i < c.revalidateNewBatch; i++) {
        const e = this.#d.table.randomEntry(this.#d.random, (x) => !x.live && !this.#checking.has(idKey(x.enr.nodeId)));
        if (e === undefined) break;
        void this.check(e.enr);
      }
    });
    this.#every(c.revalidateLiveIntervalMs, () => {
      const e = this.#d.table.randomEntry(this.#d.random, (x) => x.live);
      if (e !== undefined) void this.check(e.enr);
    });
    if (c.refreshIntervalMs > 0) {
      this.#every(c.refreshIntervalMs, () => void this.#d.refresh(this.#d.table.stalestDistance()).catch(() => {}));
    }
  }

  stop(): void {
    this.#stopped = true;
    for (const t of this.#timers) clearInterval(t);
    for (const t of this.#pending) clearTimeout(t);
    this.#pending.clear();
  }

  /** A newcomer waits for a full bucket: check the bucket's oldest entry. */
  bucketFull(oldest: TableEntry): void {
    void this.check(oldest.enr);
  }

  /** A node reached us: ping it soon, so that it can become live. */
  inbound(enr: Enr): void {
    if (this.#stopped) return;
    const t = setTimeout(() => {
      this.#pending.delete(t);
      if (!this.#stopped) void this.check(enr);
    }, this.#d.config.inboundPingDelayMs);
    t.unref?.();
    this.#pending.add(t);
  }

  /** PINGs a node: live on answer (fetching a newer record if announced), evicted on silence. */
  async check(enr: Enr): Promise<void> {
    const key = idKey(enr.nodeId);
    if (this.#checking.has(key) || this.#stopped) return;
    this.#checking.add(key);
    try {
      const seq = await this.#d.ping(enr);
      const entry = this.#d.table.markLive(enr.nodeId);
      this.#d.counters.inc('table.ping-answered');
      if (entry !== undefined) this.#d.onLive(entry);
      if (seq > enr.seq) {
        const newer = await this.#d.requestEnr(enr).catch(() => undefined);
        if (newer !== undefined && newer.seq > enr.seq) this.#d.onUpdated(newer);
      }
    } catch {
      if (this.#stopped) return;
      this.#d.counters.inc('table.ping-failed');
      const { removed, promoted } = this.#d.table.failed(enr.nodeId);
      if (removed !== undefined) this.#d.onEvicted(removed, promoted);
    } finally {
      this.#checking.delete(key);
    }
  }

  #every(ms: number, fn: () => void): void {
    if (ms <= 0) return;
    const t = setInterval(fn, ms);
    t.unref?.();
    this.#timers.push(t);
  }
}
