/**
 * Keeping the table healthy (spec §8), on timers only (as go-ethereum): inserting never triggers a
 * check, so no sender of records can make us ping, and evict, on its schedule.
 * - new entries (never answered at their current endpoint) are pinged a few per tick;
 * - a random live entry is re-checked now and then; a missed check only reduces its credit
 *   (kademlia/table.ts `failed`), and only the peer's silence counts, never our own local errors;
 * - nodes that reached us through an inbound handshake are pinged shortly after;
 * - a lookup refreshes the stalest bucket on a schedule;
 * - a table with fewer live entries than `reseedBelowLive` is re-seeded from the bootnodes (and the
 *   peers a store remembered), retried with back-off for as long as that lasts, so that a node
 *   started before its bootnode, or cut off for hours, rejoins once the network answers again.
 * A PING or PONG announcing a newer record makes us fetch it (FINDNODE [0]), one fetch per node at once.
 * Every timer callback is guarded and every promise started here handles its rejection.
 */
import type { Enr } from '../enr/enr.js';
import { idKey } from '../util/bytes.js';
import { Discv5Error, ErrorCode } from '../util/errors.js';
import type { Counters } from '../util/metrics.js';
import { detach } from '../util/safe.js';
import { endpointKey } from './limits.js';
import type { RoutingTable } from './table.js';
import type { TableEntry, TableRecord } from './types.js';

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
  /**
   * How often the table's live entries are counted, and the first delay of re-seeding when they
   * are too few (default 1 s; 0 disables re-seeding).
   */
  reseedIntervalMs: number;
  /** Re-seeding's longest delay between attempts: the delay doubles from `reseedIntervalMs` up to this (default 10 s). */
  reseedMaxIntervalMs: number;
  /** Re-seed while the table holds fewer live entries than this (default 4; go-ethereum waits for an empty table). */
  reseedBelowLive: number;
}

/** Where a PING went. */
export interface PingedEndpoint {
  ip: string;
  port: number;
}

export interface MaintenanceDeps<R extends TableRecord = Enr> {
  table: RoutingTable<R>;
  /** Where its events are counted (`table.*`, `maintenance.*`): discv4's table counts under `discv4.`. */
  counters: Pick<Counters, 'inc'>;
  config: MaintenanceConfig;
  /**
   * PING, without touching the table (the credit is given here): resolves with the peer's record
   * seq and the UDP endpoint the PING was sent to; rejects when it does not answer.
   */
  ping: (enr: R) => Promise<{ enrSeq: bigint; endpoint: PingedEndpoint }>;
  /** FINDNODE [0]. */
  requestEnr: (enr: R) => Promise<R>;
  /** A lookup for a random id at this log-distance from us. */
  refresh: (distance: number) => Promise<void>;
  /** Too few live entries: contact the bootnodes (and remembered peers) again, and look up from those that answer. */
  reseed: () => void;
  /** An entry answered a check at its current endpoint. */
  onLive?: (entry: TableEntry<R>) => void;
  /** An entry ran out of credit and left; `promoted` is the replacement that took its place. */
  onEvicted: (removed: TableEntry<R>, promoted: TableEntry<R> | undefined) => void;
  /** A newer record of a node, fetched because the node announced it. */
  onUpdated: (enr: R) => void;
  random: () => number;
}

/**
 * Whether a failed PING says something about the peer. Only silence does (a timeout, or a handshake
 * it did not complete); our own limits, our own state and our own aborts say nothing about it.
 */
function peerAtFault(err: unknown): boolean {
  return (
    err instanceof Discv5Error && (err.code === ErrorCode.REQUEST_TIMEOUT || err.code === ErrorCode.HANDSHAKE_FAILED)
  );
}

export class TableMaintenance<R extends TableRecord = Enr> {
  readonly #d: MaintenanceDeps<R>;
  /** The next run of each periodic job, by name. */
  readonly #timers = new Map<string, ReturnType<typeof setTimeout>>();
  readonly #pending = new Set<ReturnType<typeof setTimeout>>();
  /** Nodes with a check under way, so that none is pinged twice at once. */
  readonly #checking = new Set<string>();
  /** Nodes whose newer record is being fetched, so that none is fetched twice at once. */
  readonly #fetching = new Set<string>();
  /** Re-seeding attempts in a row without reaching `reseedBelowLive` live entries (the back-off's exponent). */
  #reseedAttempts = 0;
  #reseedTimer: ReturnType<typeof setTimeout> | undefined;
  #stopped = false;

  constructor(deps: MaintenanceDeps<R>) {
    this.#d = deps;
  }

  /** Starts the timers (again after `stop()`; a second `start()` while running does nothing). */
  start(): void {
    if (this.#timers.size > 0) return;
    this.#stopped = false;
    const c = this.#d.config;
    const { table, random } = this.#d;
    this.#every('revalidate-new', c.revalidateNewIntervalMs, () => {
      if (table.liveSize === table.size) return; // nothing new: the usual case, read in O(1)
      for (let i = 0; i < c.revalidateNewBatch; i++) {
        const e = table.randomEntry(random, (x) => !x.live && !this.#checking.has(idKey(x.enr.nodeId)));
        if (e === undefined) break;
        this.#detachCheck(e.enr);
      }
    });
    this.#every('revalidate-live', c.revalidateLiveIntervalMs, () => {
      const e = table.randomEntry(random, (x) => x.live);
      if (e !== undefined) this.#detachCheck(e.enr);
    });
    this.#every('refresh', c.refreshIntervalMs, () => {
      detach(this.#d.refresh(table.stalestDistance()), this.#d.counters, 'maintenance.refresh');
    });
    this.#reseedAttempts = 0;
    this.#scheduleReseed(c.reseedIntervalMs);
  }

  stop(): void {
    this.#stopped = true;
    for (const t of this.#timers.values()) clearTimeout(t);
    this.#timers.clear();
    clearTimeout(this.#reseedTimer);
    this.#reseedTimer = undefined;
    for (const t of this.#pending) clearTimeout(t);
    this.#pending.clear();
  }

  /** A node reached us: ping it soon, so that it can become live. */
  inbound(enr: R): void {
    this.checkSoon(enr);
  }

  /**
   * Ping a node after `inboundPingDelayMs` rather than at the next tick: for a node that reached
   * us, or an entry whose endpoint just changed (insert's `endpointChanged`), so that it is served
   * again soon.
   */
  checkSoon(enr: R): void {
    if (this.#stopped) return;
    const t = setTimeout(() => {
      this.#pending.delete(t);
      if (!this.#stopped) this.#detachCheck(enr);
    }, this.#d.config.inboundPingDelayMs);
    t.unref?.();
    this.#pending.add(t);
  }

  /**
   * A peer told us (enr-seq of a PING or PONG) that its record is at `seq`, newer than `enr`: fetch
   * it, unless a check or a fetch of that node is under way already (a check fetches it itself).
   */
  recordAnnounced(enr: R, seq: bigint): void {
    if (seq <= enr.seq || this.#stopped || this.#checking.has(idKey(enr.nodeId))) return;
    this.#fetch(enr);
  }

  /**
   * PINGs a node. An answer at the entry's current endpoint credits it (and fetches a newer
   * record if one is announced); silence debits it, and evicts it once its credit is gone. Other
   * failures are ours, not the peer's: counted as `table.check-skipped`, nothing changes.
   */
  async check(enr: R): Promise<void> {
    const key = idKey(enr.nodeId);
    if (this.#checking.has(key) || this.#stopped) return;
    this.#checking.add(key);
    let answer: { enrSeq: bigint; endpoint: PingedEndpoint };
    try {
      answer = await this.#d.ping(enr);
    } catch (err) {
      if (this.#stopped) return;
      if (!peerAtFault(err)) {
        this.#d.counters.inc('table.check-skipped');
        return;
      }
      this.#d.counters.inc('table.ping-failed');
      // Silence at an endpoint the node has left since says nothing about where it is now.
      const current = this.#d.table.get(enr.nodeId);
      if (current === undefined || !samePlace(current.enr, enr)) return;
      const { removed, promoted } = this.#d.table.failed(enr.nodeId);
      if (removed !== undefined) this.#d.onEvicted(removed, promoted);
      return;
    } finally {
      this.#checking.delete(key);
    }
    if (this.#stopped) return;
    this.#d.counters.inc('table.ping-answered');
    const entry = this.#d.table.markLive(enr.nodeId, answer.endpoint);
    if (entry !== undefined) this.#d.onLive?.(entry);
    // Compared with the newest record we hold, which may have arrived while the PING was out.
    const held = this.#d.table.get(enr.nodeId)?.enr ?? enr;
    const base = held.seq > enr.seq ? held : enr;
    if (answer.enrSeq > base.seq) this.#fetch(base);
  }

  /** Fetches a node's newer record, one fetch per node at once, and hands it on if it is newer. */
  #fetch(enr: R): void {
    const key = idKey(enr.nodeId);
    if (this.#fetching.has(key)) return;
    this.#fetching.add(key);
    const run = async () => {
      try {
        const newer = await this.#d.requestEnr(enr);
        if (this.#stopped) return;
        if (newer.seq > enr.seq) this.#d.onUpdated(newer);
        else this.#d.counters.inc('table.record-not-newer');
      } finally {
        this.#fetching.delete(key);
      }
    };
    detach(run(), this.#d.counters, 'maintenance.fetch-record');
  }

  /**
   * Counts live entries every `reseedIntervalMs`; while they are too few, re-seeds and waits twice as
   * long each time (up to `reseedMaxIntervalMs`, with ±20% jitter so that nodes cut off together do
   * not return in step); a healthy count resets the back-off.
   */
  #scheduleReseed(delayMs: number): void {
    const c = this.#d.config;
    if (c.reseedIntervalMs <= 0 || this.#stopped) return;
    this.#reseedTimer = setTimeout(() => {
      this.#reseedTimer = undefined;
      if (this.#stopped) return;
      let next = c.reseedIntervalMs;
      try {
        if (this.#d.table.liveSize >= c.reseedBelowLive) this.#reseedAttempts = 0;
        else {
          this.#d.counters.inc('table.reseed');
          this.#reseedAttempts++;
          const backoff = c.reseedIntervalMs * 2 ** Math.min(this.#reseedAttempts, 20);
          next =
            Math.min(backoff, Math.max(c.reseedMaxIntervalMs, c.reseedIntervalMs)) * (0.8 + 0.4 * this.#d.random());
          this.#d.reseed();
        }
      } catch {
        this.#d.counters.inc('maintenance.reseed-error');
      }
      this.#scheduleReseed(next);
    }, onGrid(delayMs));
    this.#reseedTimer.unref?.();
  }

  #detachCheck(enr: R): void {
    detach(this.check(enr), this.#d.counters, 'maintenance.check');
  }

  /**
   * Runs `fn` about every `ms` (±10%, drawn each time), never throwing out (a failure is counted
   * and the timer goes on): nodes started together, a fleet after a restart, drift apart instead
   * of checking all at once.
   */
  #every(name: string, ms: number, fn: () => void): void {
    if (ms <= 0 || this.#stopped) return;
    const t = setTimeout(
      () => {
        this.#timers.delete(name);
        if (this.#stopped) return;
        try {
          fn();
        } catch {
          this.#d.counters.inc(`maintenance.${name}-error`);
        }
        this.#every(name, ms, fn);
      },
      onGrid(ms * (0.9 + 0.2 * this.#d.random())),
    );
    t.unref?.();
    this.#timers.set(name, t);
  }
}

/** Maintenance timers fire on a grid of this many ms (see `onGrid`). */
const TIMER_GRID_MS = 50;

/**
 * `delayMs`, stretched to end on the next multiple of TIMER_GRID_MS of the monotonic clock. The
 * process then wakes at most 20 times a second for maintenance however many nodes it runs: a
 * thousand testnet nodes with timers at scattered instants cost 7-9% of a core in wake-ups alone
 * (measured here), and 50 ms is nothing to a node's schedule.
 */
function onGrid(delayMs: number): number {
  const now = performance.now();
  return Math.ceil((now + delayMs) / TIMER_GRID_MS) * TIMER_GRID_MS - now;
}

/** Whether two records of a node are reached at the same UDP endpoints. */
function samePlace(a: TableRecord, b: TableRecord): boolean {
  return a === b || endpointKey(a) === endpointKey(b);
}
