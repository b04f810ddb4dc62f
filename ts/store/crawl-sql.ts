/**
 * The SQL of the crawl database and the conversions around it, shared by the SQLite and the
 * PostgreSQL implementations (crawl-db-sqlite.ts, crawl-db-pg.ts), so that both write the same rows.
 */
import { hostname } from 'node:os';
import process from 'node:process';
import type { CrawlInfo, CrawlStart, NodeRow, VisitRow } from './crawl-db.js';
import { CRAWL_STATES, type CrawlState, NODE_FIELDS } from './crawl-schema.js';
import type { SqlRow, SqlValue } from './sqlite.js';

export const iso = (ms: number): string => new Date(ms).toISOString();

/** Who owns a running crawl: this host and process. */
export const OWNER = { host: hostname(), pid: process.pid };

/** Whether process `pid` is alive on this host (a process we may not signal is alive). */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as { code?: string }).code === 'EPERM';
  }
}

/** Columns of a node row, in the order of `nodeValues`. */
export const NODE_COLUMNS = ['node_id', 'first_seen', 'last_seen', ...NODE_FIELDS] as const;

/**
 * On conflict a node keeps its earliest first_seen and latest last_seen, and takes the incoming
 * record (and its columns) unless the one it holds has a higher seq: a crawl that found an old
 * record in some table must not overwrite the node's newer one.
 */
const newer = 'excluded.seq >= nodes.seq';
const UPSERT_SET = [
  'first_seen = CASE WHEN excluded.first_seen < nodes.first_seen THEN excluded.first_seen ELSE nodes.first_seen END',
  'last_seen = CASE WHEN excluded.last_seen > nodes.last_seen THEN excluded.last_seen ELSE nodes.last_seen END',
  ...NODE_FIELDS.map((f) => `${f} = CASE WHEN ${newer} THEN excluded.${f} ELSE nodes.${f} END`),
].join(',\n  ');

const placeholders = (columns: number, rows: number) => {
  const one = `(${Array(columns).fill('?').join(', ')})`;
  return Array(rows).fill(one).join(',\n');
};

/** Upserts `rows` node rows; returns id and node_id of each. */
export const upsertNodesSql = (rows: number): string =>
  `INSERT INTO nodes (${NODE_COLUMNS.join(', ')}) VALUES ${placeholders(NODE_COLUMNS.length, rows)}
ON CONFLICT (node_id) DO UPDATE SET
  ${UPSERT_SET}
RETURNING id, node_id`;

/** The values of a row with columns (see `fullRows`). */
export function nodeValues(row: NodeRow): SqlValue[] {
  const seen = iso(row.seen);
  const fields = row.fields as Record<string, SqlValue>;
  return [row.nodeId, seen, seen, ...NODE_FIELDS.map((f) => fields[f] as SqlValue)];
}

/** A node seen again with the record already recorded: only last_seen moves (and its id comes back). */
export const SEEN_AGAIN_SQL = `UPDATE nodes SET last_seen = CASE WHEN ? > last_seen THEN ? ELSE last_seen END
WHERE node_id = ? RETURNING id`;

export const VISIT_COLUMNS = [
  'crawl_id',
  'node',
  'seq',
  'answered',
  'rtt_ms',
  'error',
  'requests',
  'failed_buckets',
  'started',
  'ended',
] as const;

/** A resumed crawl may visit a node again: the later visit replaces the earlier. */
export const insertVisitsSql = (rows: number): string =>
  `INSERT INTO visits (${VISIT_COLUMNS.join(', ')}) VALUES ${placeholders(VISIT_COLUMNS.length, rows)}
ON CONFLICT (crawl_id, node) DO UPDATE SET ${VISIT_COLUMNS.slice(2)
    .map((c) => `${c} = excluded.${c}`)
    .join(', ')}`;

export function visitValues(crawlId: number, node: number, v: VisitRow): SqlValue[] {
  return [
    crawlId,
    node,
    v.seq,
    v.answered ? 1 : 0,
    v.rttMs ?? null,
    v.error === undefined ? null : v.error.slice(0, 200),
    v.requests,
    v.failedBuckets.length > 0 ? v.failedBuckets.join(',') : null,
    v.started === undefined ? null : iso(v.started),
    iso(v.ended),
  ];
}

export const insertNeighborsSql = (rows: number): string =>
  `INSERT INTO neighbors (crawl_id, node, neighbor_ids) VALUES ${placeholders(3, rows)}
ON CONFLICT (crawl_id, node) DO UPDATE SET neighbor_ids = excluded.neighbor_ids`;

export const SQL = {
  startCrawl: `INSERT INTO crawls (started, state, vantage, seeds, options, software, owner_host, owner_pid, heartbeat)
VALUES (?, 'running', ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
  heartbeat: `UPDATE crawls SET heartbeat = ? WHERE id = ? AND state = 'running'`,
  finishCrawl: `UPDATE crawls SET state = ?, finished = ?, heartbeat = ?,
  found = (SELECT COUNT(*) FROM visits WHERE crawl_id = crawls.id),
  answered = (SELECT COUNT(*) FROM visits WHERE crawl_id = crawls.id AND answered = 1),
  requests = (SELECT COALESCE(SUM(requests), 0) FROM visits WHERE crawl_id = crawls.id)
WHERE id = ?`,
  running: `SELECT id, owner_host, owner_pid, heartbeat FROM crawls WHERE state = 'running'`,
  markFailed: `UPDATE crawls SET state = 'failed', finished = heartbeat,
  found = (SELECT COUNT(*) FROM visits WHERE crawl_id = crawls.id),
  answered = (SELECT COUNT(*) FROM visits WHERE crawl_id = crawls.id AND answered = 1),
  requests = (SELECT COALESCE(SUM(requests), 0) FROM visits WHERE crawl_id = crawls.id)
WHERE id = ? AND state = 'running' AND heartbeat = ?`,
  lastUnfinished: `SELECT * FROM crawls WHERE vantage = ? AND state IN ('cancelled', 'failed') ORDER BY id DESC LIMIT 1`,
  claim: `UPDATE crawls SET state = 'running', finished = NULL, owner_host = ?, owner_pid = ?, heartbeat = ?
WHERE id = ? AND state IN ('cancelled', 'failed')`,
  crawl: 'SELECT * FROM crawls WHERE id = ?',
  crawls: 'SELECT * FROM crawls ORDER BY id',
  visited: 'SELECT n.node_id FROM visits v JOIN nodes n ON n.id = v.node WHERE v.crawl_id = ?',
  neighborLists: 'SELECT neighbor_ids FROM neighbors WHERE crawl_id = ?',
  nodeIdOf: 'SELECT id FROM nodes WHERE node_id = ?',
} as const;

export function startValues(s: CrawlStart): SqlValue[] {
  const now = iso(s.started);
  return [
    now,
    s.vantage,
    JSON.stringify(s.seeds),
    JSON.stringify(s.options),
    s.software,
    OWNER.host,
    OWNER.pid,
    iso(Date.now()),
  ];
}

/** Which running crawls are abandoned: their process is gone from this host, or their heartbeat is stale. */
export function abandoned(rows: SqlRow[], now: number, staleMs: number): { id: number; heartbeat: string }[] {
  return rows
    .filter((r) => {
      const sameHost = r.owner_host === OWNER.host;
      if (sameHost && Number(r.owner_pid) === OWNER.pid) return false;
      if (sameHost && !processAlive(Number(r.owner_pid))) return true;
      return now - Date.parse(String(r.heartbeat)) > staleMs;
    })
    .map((r) => ({ id: Number(r.id), heartbeat: String(r.heartbeat) }));
}

function parseJson<T>(text: SqlValue | undefined, fallback: T): T {
  try {
    return typeof text === 'string' ? (JSON.parse(text) as T) : fallback;
  } catch {
    return fallback;
  }
}

export function crawlInfo(r: SqlRow): CrawlInfo {
  const state = String(r.state) as CrawlState;
  return {
    id: Number(r.id),
    started: String(r.started),
    finished: r.finished === null ? null : String(r.finished),
    state: CRAWL_STATES.includes(state) ? state : 'failed',
    vantage: String(r.vantage),
    seeds: parseJson<string[]>(r.seeds, []),
    options: parseJson<Record<string, unknown>>(r.options, {}),
    found: Number(r.found),
    answered: Number(r.answered),
    requests: Number(r.requests),
    software: String(r.software),
  };
}

/** The ids named by a neighbors row (space-separated integers); anything else in it is skipped. */
export function parseIds(text: SqlValue | undefined): number[] {
  if (typeof text !== 'string' || text === '') return [];
  const out: number[] = [];
  for (const part of text.split(' ')) {
    const n = Number(part);
    if (Number.isSafeInteger(n) && n > 0) out.push(n);
  }
  return out;
}

/**
 * Rows of one batch, a node once: its last row with columns (upsert keeps the newer record anyway),
 * seen at the latest time of any of its rows. Sorted by node id: two writers of one PostgreSQL
 * database then lock shared nodes in the same order (no deadlock).
 */
export function uniqueNodes(batch: { found: NodeRow[]; visits: VisitRow[] }): NodeRow[] {
  const byId = new Map<string, NodeRow>();
  const add = (n: NodeRow) => {
    const had = byId.get(n.nodeId);
    if (had === undefined) byId.set(n.nodeId, n);
    else {
      const fields = n.fields ?? had.fields;
      byId.set(n.nodeId, { nodeId: n.nodeId, seen: Math.max(had.seen, n.seen), ...(fields ? { fields } : {}) });
    }
  };
  for (const n of batch.found) add(n);
  for (const v of batch.visits) add(v.node);
  return [...byId.values()].sort((a, b) => (a.nodeId < b.nodeId ? -1 : a.nodeId > b.nodeId ? 1 : 0));
}
