/**
 * The crawl database in an SQLite file (see crawl-db.ts). SQLite's drivers here are synchronous, so
 * each method does its work at once inside one transaction; the interface is asynchronous only to
 * match PostgreSQL's. Rows are written with one prepared single-row statement each, run many times
 * in the batch's transaction, which is faster in SQLite than one long statement per batch.
 *
 * Opened without an exclusive lock: a crawl can be watched (report, filter) while it is written,
 * and the busy timeout covers the moments another connection holds the write lock. The file is
 * opened through openDatabase: a corrupt one is moved aside and reported, never crashed on.
 */
import { Discv5Error, ErrorCode } from '../util/errors.js';
import type { Batch, CrawlDb, CrawlInfo, CrawlStart, ResumePoint } from './crawl-db.js';
import { STALE_MS } from './crawl-db.js';
import { crawlSchema } from './crawl-schema.js';
import {
  abandoned,
  crawlInfo,
  insertNeighborsSql,
  insertVisitsSql,
  iso,
  namedIds,
  nodeValues,
  OWNER,
  pendingOf,
  protocolOf,
  resumeRows,
  SEEN_AGAIN_SQL,
  SQL,
  startValues,
  uniqueNodes,
  upsertNodesSql,
  visitValues,
} from './crawl-sql.js';
import { openDatabase } from './open.js';
import type { SqlDatabase, SqlRow, SqlValue } from './sqlite.js';
import type { StoreOptions } from './types.js';

/** Node ids (hex) to row ids remembered at most, so neighbours resolve without a query each. */
const MAX_REMEMBERED_IDS = 1_000_000;

export class SqliteCrawlDb implements CrawlDb {
  readonly dialect = 'sqlite' as const;
  readonly location: string;
  readonly #db: SqlDatabase;
  readonly #ids = new Map<string, number>();
  #closed = false;

  constructor(path: string, options: StoreOptions = {}) {
    this.location = path;
    this.#db = openDatabase(path, {
      ...options,
      migrations: crawlSchema('sqlite').map((up, i) => ({ version: i + 1, up })),
    });
  }

  async startCrawl(start: CrawlStart): Promise<number> {
    this.#open();
    this.#ids.clear();
    return Number(this.#db.prepare(SQL.startCrawl).get(...startValues(start))?.id);
  }

  async record(crawlId: number, batch: Batch): Promise<void> {
    this.#open();
    const db = this.#db;
    db.transaction(() => {
      const upsert = db.prepare(upsertNodesSql(1));
      const seenAgain = db.prepare(SEEN_AGAIN_SQL);
      if (this.#ids.size > MAX_REMEMBERED_IDS) this.#ids.clear();
      for (const n of uniqueNodes(batch)) {
        const seen = iso(n.seen);
        // A row without columns whose node is missing (it cannot be: recorded earlier) is skipped.
        const row = n.fields !== undefined ? upsert.get(...nodeValues(n)) : seenAgain.get(seen, seen, n.nodeId);
        if (row !== undefined) this.#ids.set(n.nodeId, Number(row.id));
      }
      const visit = db.prepare(insertVisitsSql(1));
      const neighbors = db.prepare(insertNeighborsSql(1));
      for (const v of batch.visits) {
        const node = this.#idOf(v.node.nodeId);
        if (node === undefined) continue; // upserted just above: cannot happen
        visit.run(...visitValues(crawlId, node, v));
        if (v.neighbors.length > 0) neighbors.run(crawlId, node, protocolOf(v), this.#idList(v.neighbors));
      }
      db.prepare(SQL.heartbeat).run(iso(Date.now()), crawlId);
    });
  }

  async heartbeat(crawlId: number): Promise<void> {
    this.#open();
    this.#db.prepare(SQL.heartbeat).run(iso(Date.now()), crawlId);
  }

  async finishCrawl(crawlId: number, state: 'done' | 'cancelled' | 'failed'): Promise<CrawlInfo> {
    this.#open();
    const now = iso(Date.now());
    this.#db.prepare(SQL.finishCrawl).run(state, now, now, crawlId);
    const info = await this.crawl(crawlId);
    if (info === undefined) throw new Discv5Error(ErrorCode.STORE, `crawl ${crawlId} is not in ${this.location}`);
    return info;
  }

  async markAbandoned(now = Date.now()): Promise<number[]> {
    this.#open();
    const marked: number[] = [];
    for (const c of abandoned(this.#db.prepare(SQL.running).all(), now, STALE_MS)) {
      // Only if its heartbeat has not moved since we looked: a live owner's next batch wins.
      if (this.#db.prepare(SQL.markFailed).run(c.id, c.heartbeat).changes === 1) marked.push(c.id);
    }
    return marked;
  }

  async lastUnfinished(vantage: string): Promise<CrawlInfo | undefined> {
    this.#open();
    const row = this.#db.prepare(SQL.lastUnfinished).get(vantage);
    return row === undefined ? undefined : crawlInfo(row);
  }

  async resume(crawlId: number): Promise<ResumePoint | undefined> {
    this.#open();
    const db = this.#db;
    return db.transaction(() => {
      if (db.prepare(SQL.claim).run(OWNER.host, OWNER.pid, iso(Date.now()), crawlId).changes !== 1) return undefined;
      this.#ids.clear();
      const crawl = crawlInfo(db.prepare(SQL.crawl).get(crawlId) ?? {});
      const rows = resumeRows(db.prepare(SQL.visited).all(crawlId), db.prepare(SQL.neighborLists).all(crawlId));
      const byId = db.prepare('SELECT id, node_id, record, enode FROM nodes WHERE id = ?');
      const named = namedIds(rows).flatMap((id) => byId.all(id));
      const pending = pendingOf(rows, named);
      return {
        crawl,
        visited: rows.visited.v5,
        pending: pending.v5,
        v4: { visited: rows.visited.v4, pending: pending.v4 },
      };
    });
  }

  async crawl(crawlId: number): Promise<CrawlInfo | undefined> {
    this.#open();
    const row = this.#db.prepare(SQL.crawl).get(crawlId);
    return row === undefined ? undefined : crawlInfo(row);
  }

  async crawls(): Promise<CrawlInfo[]> {
    this.#open();
    return this.#db.prepare(SQL.crawls).all().map(crawlInfo);
  }

  async query(sql: string, params: readonly SqlValue[] = []): Promise<SqlRow[]> {
    this.#open();
    return this.#db.prepare(sql).all(...params);
  }

  /** @internal The connection, for tests. */
  get sql(): SqlDatabase {
    this.#open();
    return this.#db;
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#db.close();
  }

  #idOf(nodeId: string): number | undefined {
    const known = this.#ids.get(nodeId);
    if (known !== undefined) return known;
    const row = this.#db.prepare(SQL.nodeIdOf).get(nodeId);
    if (row === undefined) return undefined;
    this.#ids.set(nodeId, Number(row.id));
    return Number(row.id);
  }

  /** The row ids of `nodeIds`, space-separated; a node not in the table (never recorded as found) is left out. */
  #idList(nodeIds: readonly string[]): string {
    const ids: number[] = [];
    for (const n of nodeIds) {
      const id = this.#idOf(n);
      if (id !== undefined) ids.push(id);
    }
    return ids.join(' ');
  }

  #open(): void {
    if (this.#closed) throw new Discv5Error(ErrorCode.STORE, `the crawl database ${this.location} is closed`);
  }
}
