/**
 * Records a crawl into the crawl database as it goes: each node found (its record) and each node
 * visited (its answer, round trip, neighbours) is queued and written in batches, one transaction
 * each, when `batchSize` rows are waiting or `flushMs` has passed. At most one batch is being
 * written at a time; what arrives meanwhile waits for the next. A batch that fails (the database
 * is busy or unreachable) is kept and tried again with the next one, and the failure is kept
 * (`lastError`); `finish` writes what is left and throws if it still cannot, so nothing is dropped
 * silently. The queue is bounded by the crawl itself (`maxNodes`: a node is found once and
 * visited once), and by `maxQueued` beyond that: rows past it are dropped and counted (`dropped`).
 *
 * Records of both protocols are taken: an `Enr` (discv5) or a `V4Node` (discv4); each visit is
 * recorded with its protocol, and a node visited by both has a visit of each.
 *
 * The crawl's row carries a heartbeat renewed with each batch (and every `heartbeatMs` when there
 * is none), so another process can tell a running crawl from one whose process died.
 */
import type { V4Node } from '../discv4/node.js';
import type { Enr } from '../enr/enr.js';
import type { CrawlDb, CrawlInfo, CrawlStart, NodeRow, ResumePoint, VisitRow } from '../store/crawl-db.js';
import { detach } from '../util/safe.js';
import { isV4, nodeRow, seqColumn } from './columns.js';
import type { CrawledNode } from './types.js';

export interface RecorderOptions {
  /** Rows (found + visited) per batch (default 1,000). */
  batchSize?: number;
  /** A batch is written at least this often while rows wait (default 1,000 ms). */
  flushMs?: number;
  /** Heartbeat of the crawl's row when no batch renews it (default 30 s). */
  heartbeatMs?: number;
  /** Rows waiting at most (default 500,000); beyond it rows are dropped and counted. */
  maxQueued?: number;
}

export class CrawlRecorder {
  readonly crawlId: number;
  /** Rows dropped because the queue was full (the database far slower than the crawl). */
  dropped = 0;
  /** Batches written. */
  batches = 0;
  /**
   * Time the crawl's thread spent on recording (ms): building rows, and running the writes up to
   * their first wait. SQLite's writes are synchronous, so for SQLite this is the whole cost; a
   * PostgreSQL write mostly waits on the server, off this thread (see `writeMs`).
   */
  busyMs = 0;
  /** Time from the start to the end of each write, summed (ms). */
  writeMs = 0;
  /** The most rows that waited at once: how far the database fell behind. */
  peakQueued = 0;
  /** The last write that failed, until one succeeds. */
  lastError: unknown;
  readonly #db: CrawlDb;
  #found: NodeRow[] = [];
  /**
   * The seq of each node's record as queued for this crawl: a node seen again with it is queued
   * without its columns. Bounded by the crawl (a node is found once); a failed batch is retried
   * with its rows, so what is queued is what gets written.
   */
  readonly #recorded = new Map<string, bigint>();
  #visits: VisitRow[] = [];
  #writing: Promise<void> | undefined;
  #lastWrite = Date.now();
  readonly #batchSize: number;
  readonly #maxQueued: number;
  readonly #heartbeatMs: number;
  readonly #timer: ReturnType<typeof setInterval>;
  #finished = false;

  private constructor(db: CrawlDb, crawlId: number, options: RecorderOptions) {
    this.#db = db;
    this.crawlId = crawlId;
    this.#batchSize = options.batchSize ?? 1_000;
    this.#maxQueued = options.maxQueued ?? 500_000;
    this.#heartbeatMs = options.heartbeatMs ?? 30_000;
    this.#timer = setInterval(() => this.#tick(), options.flushMs ?? 1_000);
    this.#timer.unref();
  }

  /** Starts a new crawl in `db`. */
  static async start(db: CrawlDb, start: CrawlStart, options: RecorderOptions = {}): Promise<CrawlRecorder> {
    return new CrawlRecorder(db, await db.startCrawl(start), options);
  }

  /** Records into a crawl taken over with `db.resume`. */
  static resumed(db: CrawlDb, point: ResumePoint, options: RecorderOptions = {}): CrawlRecorder {
    return new CrawlRecorder(db, point.crawl.id, options);
  }

  /** A new node's record (the crawl's `onFound`): a discv5 record, or a discv4 node. */
  found(enr: Enr | V4Node): void {
    if (!this.#room()) return;
    const t0 = performance.now();
    this.#found.push(this.#row(enr, Date.now()));
    this.busyMs += performance.now() - t0;
    this.#maybeFlush();
  }

  /** A node whose crawl is done (the crawl's `onNode`), of either protocol. */
  visited(node: CrawledNode<Enr | V4Node>): void {
    if (!this.#room()) return;
    const t0 = performance.now();
    this.#visits.push({
      protocol: isV4(node.enr) ? 'v4' : 'v5',
      node: this.#row(node.enr, node.lastSeen),
      seq: seqColumn(node.enr.seq),
      answered: node.answered,
      rttMs: node.rttMs,
      error: node.error,
      requests: node.requests,
      failedBuckets: node.failedDistances,
      started: node.askedAt,
      ended: Date.now(),
      neighbors: [...node.neighbors],
    });
    this.busyMs += performance.now() - t0;
    this.#maybeFlush();
  }

  /** Rows waiting to be written. */
  get queued(): number {
    return this.#found.length + this.#visits.length;
  }

  /** Writes everything queued so far (waiting for a write under way first). Rejects if the write fails. */
  async flush(): Promise<void> {
    while (this.#writing !== undefined) await this.#writing.catch(() => {});
    if (this.queued === 0) return;
    await this.#write();
  }

  /**
   * Writes what is left and ends the crawl with `state`; its row, with totals counted from its visits.
   * If the last rows cannot be written the crawl is still ended (as failed, when the database takes
   * that) and the write's error is thrown.
   */
  async finish(state: 'done' | 'cancelled' | 'failed'): Promise<CrawlInfo> {
    this.#finished = true;
    clearInterval(this.#timer);
    let failure: unknown;
    try {
      await this.flush();
    } catch (err) {
      failure = err;
    }
    const info = await this.#db.finishCrawl(this.crawlId, failure === undefined ? state : 'failed');
    if (failure !== undefined) throw failure;
    return info;
  }

  /**
   * A node's row: with its record's columns the first time this crawl records that record (per
   * protocol: a discv4 row carries the enode URL), else only the time.
   */
  #row(enr: Enr | V4Node, seen: number): NodeRow {
    const id = enr.nodeIdHex;
    const key = isV4(enr) ? `4${id}` : id;
    if (this.#recorded.get(key) === enr.seq) return { nodeId: id, seen };
    this.#recorded.set(key, enr.seq);
    return nodeRow(enr, seen);
  }

  #room(): boolean {
    if (this.#finished) return false;
    if (this.queued < this.#maxQueued) return true;
    this.dropped++;
    return false;
  }

  #maybeFlush(): void {
    if (this.queued > this.peakQueued) this.peakQueued = this.queued;
    if (this.#writing === undefined && this.queued >= this.#batchSize) detach(this.#write(), undefined, 'crawl.record');
  }

  #tick(): void {
    if (this.#writing !== undefined) return;
    if (this.queued > 0) detach(this.#write(), undefined, 'crawl.record');
    else if (Date.now() - this.#lastWrite >= this.#heartbeatMs) {
      this.#lastWrite = Date.now();
      detach(
        this.#db.heartbeat(this.crawlId).catch((err: unknown) => {
          this.lastError = err;
        }),
        undefined,
        'crawl.heartbeat',
      );
    }
  }

  /** Writes the queue as one batch; on failure the rows go back to the front of the queue. */
  #write(): Promise<void> {
    const batch = { found: this.#found, visits: this.#visits };
    this.#found = [];
    this.#visits = [];
    const t0 = performance.now();
    const recorded = this.#db.record(this.crawlId, batch);
    this.busyMs += performance.now() - t0;
    const writing = recorded.then(
      () => {
        this.writeMs += performance.now() - t0;
        this.batches++;
        this.lastError = undefined;
        this.#lastWrite = Date.now();
      },
      (err: unknown) => {
        this.lastError = err;
        this.#found = batch.found.concat(this.#found);
        this.#visits = batch.visits.concat(this.#visits);
        throw err;
      },
    );
    this.#writing = writing.finally(() => {
      this.#writing = undefined;
    });
    // The caller gets the outcome; the copy kept in #writing must not count as unhandled.
    this.#writing.catch(() => {});
    return writing;
  }
}
