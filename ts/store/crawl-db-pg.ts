/**
 * The crawl database in PostgreSQL (see crawl-db.ts), for fleets: several crawlers, on several
 * machines, recording into one database at once. Each batch is one transaction of a few
 * multi-row statements (a round trip each, not one per node). Two writers upserting the same nodes
 * lock them in node-id order (uniqueNodes sorts), so they wait for each other rather than
 * deadlock; should one still happen, PgDatabase.transaction retries the batch.
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
  NODE_COLUMNS,
  namedIds,
  nodeValues,
  OWNER,
  pendingOf,
  protocolOf,
  resumeRows,
  SQL,
  startValues,
  uniqueNodes,
  upsertNodesSql,
  VISIT_COLUMNS,
  visitValues,
} from './crawl-sql.js';
import { migratePg, PgDatabase, type PgQueryable } from './postgres.js';
import type { SqlRow, SqlValue } from './sqlite.js';

/** Parameters in one statement at most (PostgreSQL's limit is 65,535). */
const MAX_PARAMS = 16_000;
const MAX_REMEMBERED_IDS = 1_000_000;

/** Runs `sql(rows)` over `rows` in chunks that stay under MAX_PARAMS. */
async function chunked<T>(
  tx: PgQueryable,
  rows: readonly T[],
  columns: number,
  sql: (n: number) => string,
  values: (row: T) => SqlValue[],
): Promise<Record<string, SqlValue>[]> {
  const size = Math.max(1, Math.floor(MAX_PARAMS / columns));
  const out: Record<string, SqlValue>[] = [];
  for (let i = 0; i < rows.length; i += size) {
    const part = rows.slice(i, i + size);
    out.push(...(await tx.query(sql(part.length), part.flatMap(values))));
  }
  return out;
}

export class PgCrawlDb implements CrawlDb {
  readonly dialect = 'postgres' as const;
  readonly location: string;
  readonly #db: PgDatabase;
  readonly #ids = new Map<string, number>();

  private constructor(db: PgDatabase) {
    this.#db = db;
    this.location = db.location;
  }

  /** Connects and brings the schema up to date. */
  static async open(url: string, options: { load?: () => unknown } = {}): Promise<PgCrawlDb> {
    const db = await PgDatabase.connect(url, options);
    try {
      await migratePg(db, crawlSchema('postgres'));
    } catch (err) {
      await db.close();
      throw err;
    }
    return new PgCrawlDb(db);
  }

  async startCrawl(start: CrawlStart): Promise<number> {
    this.#ids.clear();
    const rows = await this.#db.query(SQL.startCrawl, startValues(start));
    return Number(rows[0]?.id);
  }

  async record(crawlId: number, batch: Batch): Promise<void> {
    const fresh = new Map<string, number>();
    await this.#db.transaction(async (tx) => {
      fresh.clear(); // a retried transaction starts again
      const nodes = uniqueNodes(batch);
      const full = nodes.filter((n) => n.fields !== undefined);
      const returned = await chunked(tx, full, NODE_COLUMNS.length, upsertNodesSql, nodeValues);
      for (const r of returned) fresh.set(String(r.node_id), Number(r.id));
      // Seen again with the record recorded earlier: last_seen moves, in one statement.
      const again = nodes.filter((n) => n.fields === undefined);
      for (const r of await chunked(
        tx,
        again,
        2,
        (n) => `UPDATE nodes SET last_seen = GREATEST(nodes.last_seen, v.seen)
FROM (VALUES ${Array(n).fill('(?, ?)').join(', ')}) AS v (node_id, seen)
WHERE nodes.node_id = v.node_id RETURNING nodes.id, nodes.node_id`,
        (n) => [n.nodeId, iso(n.seen)],
      ))
        fresh.set(String(r.node_id), Number(r.id));
      const idOf = (nodeId: string) => fresh.get(nodeId) ?? this.#ids.get(nodeId);
      // Neighbours recorded as found by an earlier process (a resumed crawl) may not be remembered.
      const unknown = [...new Set(batch.visits.flatMap((v) => v.neighbors.filter((n) => idOf(n) === undefined)))];
      for (const r of await chunked(
        tx,
        unknown,
        1,
        (n) => `SELECT id, node_id FROM nodes WHERE node_id IN (${Array(n).fill('?').join(', ')})`,
        (n) => [n],
      ))
        fresh.set(String(r.node_id), Number(r.id));
      const visits = batch.visits.flatMap((v) => {
        const node = idOf(v.node.nodeId);
        return node === undefined ? [] : [{ v, node }];
      });
      await chunked(tx, visits, VISIT_COLUMNS.length, insertVisitsSql, ({ v, node }) => visitValues(crawlId, node, v));
      const lists = visits
        .filter(({ v }) => v.neighbors.length > 0)
        .map(({ v, node }) => ({
          node,
          protocol: protocolOf(v),
          ids: v.neighbors
            .map(idOf)
            .filter((id) => id !== undefined)
            .join(' '),
        }));
      await chunked(tx, lists, 4, insertNeighborsSql, ({ node, protocol, ids }) => [crawlId, node, protocol, ids]);
      await tx.query(SQL.heartbeat, [iso(Date.now()), crawlId]);
    });
    if (this.#ids.size > MAX_REMEMBERED_IDS) this.#ids.clear();
    for (const [k, id] of fresh) this.#ids.set(k, id);
  }

  async heartbeat(crawlId: number): Promise<void> {
    await this.#db.query(SQL.heartbeat, [iso(Date.now()), crawlId]);
  }

  async finishCrawl(crawlId: number, state: 'done' | 'cancelled' | 'failed'): Promise<CrawlInfo> {
    const now = iso(Date.now());
    await this.#db.query(SQL.finishCrawl, [state, now, now, crawlId]);
    const info = await this.crawl(crawlId);
    if (info === undefined) throw new Discv5Error(ErrorCode.STORE, `crawl ${crawlId} is not in ${this.location}`);
    return info;
  }

  async markAbandoned(now = Date.now()): Promise<number[]> {
    const marked: number[] = [];
    for (const c of abandoned(await this.#db.query(SQL.running), now, STALE_MS)) {
      const rows = await this.#db.query(`${SQL.markFailed} RETURNING id`, [c.id, c.heartbeat]);
      if (rows.length === 1) marked.push(c.id);
    }
    return marked;
  }

  async lastUnfinished(vantage: string): Promise<CrawlInfo | undefined> {
    const rows = await this.#db.query(SQL.lastUnfinished, [vantage]);
    return rows[0] === undefined ? undefined : crawlInfo(rows[0]);
  }

  async resume(crawlId: number): Promise<ResumePoint | undefined> {
    return this.#db.transaction(async (tx) => {
      const claimed = await tx.query(`${SQL.claim} RETURNING id`, [OWNER.host, OWNER.pid, iso(Date.now()), crawlId]);
      if (claimed.length !== 1) return undefined;
      this.#ids.clear();
      const crawl = crawlInfo((await tx.query(SQL.crawl, [crawlId]))[0] ?? {});
      const rows = resumeRows(await tx.query(SQL.visited, [crawlId]), await tx.query(SQL.neighborLists, [crawlId]));
      const named = await chunked(
        tx,
        namedIds(rows),
        1,
        (n) => `SELECT id, node_id, record, enode FROM nodes WHERE id IN (${Array(n).fill('?').join(', ')})`,
        (id) => [id],
      );
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
    const rows = await this.#db.query(SQL.crawl, [crawlId]);
    return rows[0] === undefined ? undefined : crawlInfo(rows[0]);
  }

  async crawls(): Promise<CrawlInfo[]> {
    return (await this.#db.query(SQL.crawls)).map(crawlInfo);
  }

  async query(sql: string, params: readonly SqlValue[] = []): Promise<SqlRow[]> {
    return this.#db.query(sql, params);
  }

  /** @internal The connection, for tests. */
  get sql(): PgDatabase {
    return this.#db;
  }

  async close(): Promise<void> {
    await this.#db.close();
  }
}
