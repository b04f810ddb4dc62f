/**
 * The crawl database: every crawl, every node ever seen with its latest record decoded into
 * columns, every visit of a node in a crawl, and each visited node's neighbours (schema in
 * crawl-schema.ts). SQLite (a file, the default) or PostgreSQL (a URL, for several crawlers writing
 * one database at once), behind one asynchronous interface; the SQL is shared (crawl-sql.ts).
 *
 * Writes come in batches, one transaction each (`record`), never one per node. A crawl's row says
 * whether it is running, done, cancelled or failed; a running crawl whose process is gone (killed,
 * the machine lost) is marked failed by the next process that opens the database and looks
 * (`markAbandoned`): at once when that process dies on this host, else once its heartbeat, renewed
 * with every batch, is older than `STALE_MS`.
 */

import type { CrawlProtocol, CrawlState, Dialect, NodeField } from './crawl-schema.js';
import type { SqlRow, SqlValue } from './sqlite.js';

export type { CrawlProtocol, CrawlState, Dialect, NodeField } from './crawl-schema.js';

/** A crawl whose heartbeat is older than this, from another host, counts as abandoned. */
export const STALE_MS = 120_000;

/**
 * A node as a crawl saw it: its id (hex), when, and its record's columns; without columns, a node
 * whose record (this seq) was recorded earlier in the same crawl, seen again: only its times move.
 */
export interface NodeRow {
  nodeId: string;
  /** When it was seen (ms since the epoch). */
  seen: number;
  fields?: Record<NodeField, SqlValue>;
}

/** One node's visit in a crawl: what it answered, with the node as last seen and its neighbours. */
export interface VisitRow {
  node: NodeRow;
  /** The seq of the record the visit ended with (as the `seq` column holds it). */
  seq: SqlValue;
  answered: boolean;
  rttMs: number | undefined;
  error: string | undefined;
  requests: number;
  /** Distances whose requests failed every try, after the node had answered. */
  failedBuckets: readonly number[];
  /** When the first request was sent, if one was (ms since the epoch). */
  started: number | undefined;
  ended: number;
  /** Node ids (hex) its table returned, each of them recorded as found (a NodeRow) before or in the same batch. */
  neighbors: readonly string[];
  /** The protocol of the visit (default 'v5'): a node visited by both has a visit of each. */
  protocol?: CrawlProtocol;
}

/** What is written in one transaction. */
export interface Batch {
  /** Nodes found (a record seen), visited or not yet. */
  found: NodeRow[];
  visits: VisitRow[];
}

export interface CrawlStart {
  vantage: string;
  /** The seed records (text). */
  seeds: readonly string[];
  options: Record<string, unknown>;
  software: string;
  started: number;
}

export interface CrawlInfo {
  id: number;
  started: string;
  finished: string | null;
  state: CrawlState;
  vantage: string;
  seeds: string[];
  options: Record<string, unknown>;
  found: number;
  answered: number;
  requests: number;
  software: string;
}

/** What a resumed crawl starts from. */
export interface ResumePoint {
  crawl: CrawlInfo;
  /** Node ids (hex) visited already by discv5: not asked again. */
  visited: Set<string>;
  /** Records (text) of nodes discv5 found in the crawl but did not visit yet. */
  pending: string[];
  /** The same for discv4: node ids visited, and the enode URLs (or records) of nodes found and not visited. */
  v4: { visited: Set<string>; pending: string[] };
}

export interface CrawlDb {
  readonly dialect: Dialect;
  /** The file, or the URL without its password. */
  readonly location: string;
  /** Inserts a running crawl owned by this process; its id. */
  startCrawl(start: CrawlStart): Promise<number>;
  /** Writes one batch in one transaction and renews the crawl's heartbeat. */
  record(crawlId: number, batch: Batch): Promise<void>;
  /** Renews the heartbeat of a running crawl (when no batch has for a while). */
  heartbeat(crawlId: number): Promise<void>;
  /** Ends a crawl: its state, finish time, and totals counted from its visits. */
  finishCrawl(crawlId: number, state: Exclude<CrawlState, 'running'>): Promise<CrawlInfo>;
  /** Marks running crawls whose process is gone as failed; their ids. */
  markAbandoned(now?: number): Promise<number[]>;
  /** The newest cancelled or failed crawl of `vantage`, if any. */
  lastUnfinished(vantage: string): Promise<CrawlInfo | undefined>;
  /** Takes a cancelled or failed crawl over (running again, owned by this process); undefined if another process took it first. */
  resume(crawlId: number): Promise<ResumePoint | undefined>;
  crawl(crawlId: number): Promise<CrawlInfo | undefined>;
  crawls(): Promise<CrawlInfo[]>;
  /**
   * Runs a read-only query written for both engines (`?` placeholders; see crawl-schema.ts for the
   * conventions): what the report, node sets and monitor read.
   */
  query(sql: string, params?: readonly SqlValue[]): Promise<SqlRow[]>;
  close(): Promise<void>;
}
