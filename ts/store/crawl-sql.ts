/**
 * The SQL of the crawl database and the conversions around it, shared by the SQLite and the
 * PostgreSQL implementations (crawl-db-sqlite.ts, crawl-db-pg.ts), so that both write the same rows.
 */
import { hostname } from 'node:os';
import process from 'node:process';
import type { CrawlInfo, CrawlStart, NodeRow, VisitRow } from './crawl-db.js';
import { CRAWL_STATES, type CrawlProtocol, type CrawlState, NODE_FIELDS, type NodeField } from './crawl-schema.js';
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
 * record (and its columns) unless the one it holds is newer: a higher seq, or the same seq as a
 * signed record (`enr:`) where the incoming one is only a discv4 node's enode URL. A crawl that
 * found an old record in some table must not overwrite the node's newer one, nor a discv4 visit
 * without a record the record discv5 served. `enode` is the URL discv4 reached the node at last.
 */
const newer = `(excluded.seq > nodes.seq OR (excluded.seq = nodes.seq AND (excluded.record LIKE 'enr:%' OR nodes.record NOT LIKE 'enr:%')))`;
const UPSERT_SET = [
  'first_seen = CASE WHEN excluded.first_seen < nodes.first_seen THEN excluded.first_seen ELSE nodes.first_seen END',
  'last_seen = CASE WHEN excluded.last_seen > nodes.last_seen THEN excluded.last_seen ELSE nodes.last_seen END',
  ...NODE_FIELDS.map((f) =>
    f === 'enode'
      ? 'enode = COALESCE(excluded.enode, nodes.enode)'
      : `${f} = CASE WHEN ${newer} THEN excluded.${f} ELSE nodes.${f} END`,
  ),
].join(',\n  ');

/** Whether row columns `a` are at least as new as `b` (the upsert's rule, for two rows of one batch). */
function atLeastAsNew(a: Record<NodeField, SqlValue>, b: Record<NodeField, SqlValue>): boolean {
  const sa = BigInt(a.seq as number | bigint);
  const sb = BigInt(b.seq as number | bigint);
  if (sa !== sb) return sa > sb;
  return String(a.record).startsWith('enr:') || !String(b.record).startsWith('enr:');
}

/** Two rows of columns for one node (its discv5 and discv4 sides): the newer record, and an enode URL if either has one. */
export function mergeFields(
  had: Record<NodeField, SqlValue>,
  next: Record<NodeField, SqlValue>,
): Record<NodeField, SqlValue> {
  const [base, other] = atLeastAsNew(next, had) ? [next, had] : [had, next];
  return base.enode === null && other.enode !== null ? { ...base, enode: other.enode } : base;
}

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
  'protocol',
] as const;

/** A resumed crawl may visit a node again: the later visit replaces the earlier (of the same protocol). */
export const insertVisitsSql = (rows: number): string =>
  `INSERT INTO visits (${VISIT_COLUMNS.join(', ')}) VALUES ${placeholders(VISIT_COLUMNS.length, rows)}
ON CONFLICT (crawl_id, node, protocol) DO UPDATE SET ${VISIT_COLUMNS.slice(2, -1)
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
    protocolOf(v),
  ];
}

/** A visit's protocol ('v5' unless it says otherwise). */
export const protocolOf = (v: { protocol?: CrawlProtocol | undefined }): CrawlProtocol => v.protocol ?? 'v5';

/** Neighbour lists: (crawl_id, node, protocol, neighbor_ids) per row. */
export const insertNeighborsSql = (rows: number): string =>
  `INSERT INTO neighbors (crawl_id, node, protocol, neighbor_ids) VALUES ${placeholders(4, rows)}
ON CONFLICT (crawl_id, node, protocol) DO UPDATE SET neighbor_ids = excluded.neighbor_ids`;

export const SQL = {
  startCrawl: `INSERT INTO crawls (started, state, vantage, seeds, options, software, owner_host, owner_pid, heartbeat)
VALUES (?, 'running', ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
  heartbeat: `UPDATE crawls SET heartbeat = ? WHERE id = ? AND state = 'running'`,
  // found and answered count nodes, whichever protocols visited them (a node visited by both is one).
  finishCrawl: `UPDATE crawls SET state = ?, finished = ?, heartbeat = ?,
  found = (SELECT COUNT(DISTINCT node) FROM visits WHERE crawl_id = crawls.id),
  answered = (SELECT COUNT(DISTINCT node) FROM visits WHERE crawl_id = crawls.id AND answered = 1),
  requests = (SELECT COALESCE(SUM(requests), 0) FROM visits WHERE crawl_id = crawls.id)
WHERE id = ?`,
  running: `SELECT id, owner_host, owner_pid, heartbeat FROM crawls WHERE state = 'running'`,
  markFailed: `UPDATE crawls SET state = 'failed', finished = heartbeat,
  found = (SELECT COUNT(DISTINCT node) FROM visits WHERE crawl_id = crawls.id),
  answered = (SELECT COUNT(DISTINCT node) FROM visits WHERE crawl_id = crawls.id AND answered = 1),
  requests = (SELECT COALESCE(SUM(requests), 0) FROM visits WHERE crawl_id = crawls.id)
WHERE id = ? AND state = 'running' AND heartbeat = ?`,
  lastUnfinished: `SELECT * FROM crawls WHERE vantage = ? AND state IN ('cancelled', 'failed') ORDER BY id DESC LIMIT 1`,
  claim: `UPDATE crawls SET state = 'running', finished = NULL, owner_host = ?, owner_pid = ?, heartbeat = ?
WHERE id = ? AND state IN ('cancelled', 'failed')`,
  crawl: 'SELECT * FROM crawls WHERE id = ?',
  crawls: 'SELECT * FROM crawls ORDER BY id',
  visited: 'SELECT n.node_id, v.protocol FROM visits v JOIN nodes n ON n.id = v.node WHERE v.crawl_id = ?',
  neighborLists: 'SELECT neighbor_ids, protocol FROM neighbors WHERE crawl_id = ?',
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
 * Rows of one batch, a node once: its newest columns (those of two protocols merged, `mergeFields`),
 * seen at the latest time of any of its rows. Sorted by node id: two writers of one PostgreSQL
 * database then lock shared nodes in the same order (no deadlock).
 */
export function uniqueNodes(batch: { found: NodeRow[]; visits: VisitRow[] }): NodeRow[] {
  const byId = new Map<string, NodeRow>();
  const add = (n: NodeRow) => {
    const had = byId.get(n.nodeId);
    if (had === undefined) byId.set(n.nodeId, n);
    else {
      const fields =
        n.fields === undefined ? had.fields : had.fields === undefined ? n.fields : mergeFields(had.fields, n.fields);
      byId.set(n.nodeId, { nodeId: n.nodeId, seen: Math.max(had.seen, n.seen), ...(fields ? { fields } : {}) });
    }
  };
  for (const n of batch.found) add(n);
  for (const v of batch.visits) add(v.node);
  return [...byId.values()].sort((a, b) => (a.nodeId < b.nodeId ? -1 : a.nodeId > b.nodeId ? 1 : 0));
}

/** What a resumed crawl had done, per protocol: the nodes visited, and the row ids its visits named as neighbours. */
export interface ResumeRows {
  visited: Record<CrawlProtocol, Set<string>>;
  named: Record<CrawlProtocol, Set<number>>;
}

/** Sorts the visited rows (node_id, protocol) and neighbour lists (neighbor_ids, protocol) of a crawl by protocol. */
export function resumeRows(visited: SqlRow[], lists: SqlRow[]): ResumeRows {
  const out: ResumeRows = { visited: { v5: new Set(), v4: new Set() }, named: { v5: new Set(), v4: new Set() } };
  const of = (r: SqlRow): CrawlProtocol => (r.protocol === 'v4' ? 'v4' : 'v5');
  for (const r of visited) out.visited[of(r)].add(String(r.node_id));
  for (const r of lists) for (const id of parseIds(r.neighbor_ids)) out.named[of(r)].add(id);
  return out;
}

/** Every node row id named as a neighbour under any protocol. */
export const namedIds = (rows: ResumeRows): number[] => [...new Set([...rows.named.v5, ...rows.named.v4])];

/**
 * The records still to visit, per protocol, from the named nodes' rows (id, node_id, record, enode):
 * for discv5 the signed records (`enr:`), for discv4 the enode URL (else the record).
 */
export function pendingOf(rows: ResumeRows, nodes: SqlRow[]): { v5: string[]; v4: string[] } {
  const byId = new Map(nodes.map((r) => [Number(r.id), r]));
  const v5: string[] = [];
  const v4: string[] = [];
  for (const id of rows.named.v5) {
    const r = byId.get(id);
    if (r !== undefined && !rows.visited.v5.has(String(r.node_id)) && String(r.record).startsWith('enr:'))
      v5.push(String(r.record));
  }
  for (const id of rows.named.v4) {
    const r = byId.get(id);
    if (r !== undefined && !rows.visited.v4.has(String(r.node_id))) v4.push(String(r.enode ?? r.record));
  }
  return { v5, v4 };
}
