/**
 * Node sets out of the crawl database: the nodes a crawl visited, narrowed by what their records
 * say (network or fork digest, attestation subnets, custody group count, IPv4/IPv6), by whether they
 * answered, how long they have been known, and how often they answered lately (uptime); written as
 * go-ethereum's devp2p nodes.json or as one record per line. go-ethereum's `devp2p nodeset filter`
 * with the consensus-layer filters it lacks (`discv5 nodes filter`).
 *
 * All filtering, ordering and the limit happen in one query (portable SQL, values as parameters),
 * the uptime in it by one grouped subquery over the visits of the window's crawls. A node visited
 * by both protocols in a crawl counts once there (answered if it answered either), unless
 * `protocol` chooses one: then only that protocol's visits count, and `network` is the execution
 * network (eth fork hash) for discv4, the consensus network (fork digest) for discv5.
 */
import type { CrawlDb, CrawlInfo, CrawlProtocol } from '../store/crawl-db.js';
import { CRAWL_PROTOCOLS } from '../store/crawl-schema.js';
import { crawlInfo } from '../store/crawl-sql.js';
import type { SqlRow, SqlValue } from '../store/sqlite.js';
import { Discv5Error, ErrorCode } from '../util/errors.js';

/** Crawls the uptime is measured over, at most (the chosen one and the finished ones before it). */
export const UPTIME_WINDOW = 10;

const YEAR_0 = Date.parse('0000-01-01T00:00:00.000Z');

/** go-ethereum's zero time.Time, what nodes.json says for "never". */
export const NEVER = '0001-01-01T00:00:00Z';

/** Which nodes of a crawl to select. Every filter given must hold (AND). */
export interface NodeFilter {
  /** The crawl: its id, or `last` (default), the newest crawl whose state is done. */
  crawl?: number | 'last';
  /** Only the nodes this protocol visited (its visits alone make the answers and uptime). */
  protocol?: CrawlProtocol;
  /** Only nodes that answered in that crawl. */
  answered?: boolean;
  /**
   * Only nodes whose fork digest names this network (the `network` column: mainnet, sepolia, ...);
   * with `protocol: 'v4'`, whose eth fork hash does (`eth_network`).
   */
  network?: string;
  /** Only nodes with this fork digest (4 bytes, hex, with or without 0x). Not with `network`. */
  forkDigest?: string;
  /** Only nodes in at least this many attestation subnets (attnets_count >= N). */
  minAttnets?: number;
  /** Only nodes with a custody group count (cgc) of at least this. */
  minCgc?: number;
  /** Only nodes with an IPv4 address (`ip`). */
  ip4?: boolean;
  /** Only nodes with an IPv6 address (`ip6`). Given with `ip4`: nodes with both. */
  ip6?: boolean;
  /** Only nodes first seen at least this long (ms) before the crawl started. */
  minAgeMs?: number;
  /** Only nodes whose uptime (see `SelectedNode.uptime`) is at least this, 0..1. */
  minUptime?: number;
  /** At most this many nodes: the best by uptime, then the most recently seen, then by node id. */
  limit?: number;
}

/**
 * A selected node, as the database holds it: its newest record (a crawl stores the newest record
 * of each node, so the record filters apply to that one too) and its visits in the window.
 */
export interface SelectedNode {
  /** Node id, lowercase hex. */
  nodeId: string;
  /** The record's text (`enr:...`; a discv4 node that gave none: its `enode://` URL). */
  record: string;
  /** The record's seq (the database saturates it at 2^63 - 1; the record text holds the exact one). */
  seq: bigint;
  /** Whether it answered in the chosen crawl. */
  answered: boolean;
  /** Crawls of the window in which it was visited and answered (go-ethereum's score). */
  answers: number;
  /** Crawls of the window in which it was visited. */
  visits: number;
  /**
   * answers / window size: the share of the window's crawls (the chosen crawl and the newest
   * finished ones before it, `UPTIME_WINDOW` at most) in which it answered. A crawl of the window
   * that did not visit it counts as one in which it was down.
   */
  uptime: number;
  /** When it was first and last seen in any crawl (ISO text). */
  firstSeen: string;
  lastSeen: string;
  /** End of its first and of its last answered visit in the window (ISO text); null: none. */
  firstResponse: string | null;
  lastResponse: string | null;
  /** End of its last visit in the window (ISO text). */
  lastCheck: string;
  network: string | null;
  forkDigest: string | null;
  attnetsCount: number | null;
  cgc: number | null;
  ip: string | null;
  ip6: string | null;
}

export interface NodeSet {
  /** The chosen crawl. */
  crawlId: number;
  /** Nodes visited in it (before any filter). */
  total: number;
  /** Ids of the crawls uptime is measured over, newest (the chosen one) first. */
  window: number[];
  /** The selected nodes, best first: by uptime, then last seen (newest first), then node id. */
  nodes: SelectedNode[];
}

function invalid(message: string): never {
  throw new Discv5Error(ErrorCode.INVALID_ARGUMENT, message);
}

const isCount = (n: unknown): n is number => typeof n === 'number' && Number.isSafeInteger(n) && n >= 0;

/** The fork digest as stored (8 lowercase hex digits, no 0x), or undefined if it is not 4 bytes of hex. */
export function normalizeForkDigest(text: string): string | undefined {
  const m = /^(?:0x)?([0-9a-f]{8})$/i.exec(text);
  return m === null ? undefined : (m[1] as string).toLowerCase();
}

/** The crawl a filter names: `last` is the newest done crawl. Throws ERR_INVALID_ARGUMENT if there is none. */
export async function chosenCrawl(db: CrawlDb, crawl: number | 'last' = 'last'): Promise<CrawlInfo> {
  if (crawl === 'last') {
    const rows = await db.query("SELECT * FROM crawls WHERE state = 'done' ORDER BY id DESC LIMIT 1");
    if (rows[0] === undefined) invalid(`no finished crawl in ${db.location}`);
    return crawlInfo(rows[0]);
  }
  if (!Number.isSafeInteger(crawl) || crawl < 1) invalid(`a crawl id is a positive integer, got ${crawl}`);
  const info = await db.crawl(crawl);
  if (info === undefined) invalid(`no crawl ${crawl} in ${db.location}`);
  return info;
}

/**
 * The uptime window of crawl `id`: the crawl itself and the newest crawls before it whose state is
 * done, `UPTIME_WINDOW` in all at most, newest first.
 */
async function windowOf(db: CrawlDb, id: number): Promise<number[]> {
  const rows = await db.query("SELECT id FROM crawls WHERE id < ? AND state = 'done' ORDER BY id DESC LIMIT ?", [
    id,
    UPTIME_WINDOW - 1,
  ]);
  return [id, ...rows.map((r) => Number(r.id))];
}

function checkFilter(f: NodeFilter): void {
  if (f.protocol !== undefined && !(CRAWL_PROTOCOLS as readonly string[]).includes(f.protocol))
    invalid(`protocol must be ${CRAWL_PROTOCOLS.join(' or ')}, got "${f.protocol}"`);
  if (f.network !== undefined && f.forkDigest !== undefined) invalid('network and forkDigest exclude each other');
  if (f.forkDigest !== undefined && normalizeForkDigest(f.forkDigest) === undefined)
    invalid(`a fork digest is 4 bytes of hex, got "${f.forkDigest}"`);
  for (const [name, n] of [
    ['minAttnets', f.minAttnets],
    ['minCgc', f.minCgc],
    ['minAgeMs', f.minAgeMs],
  ] as const) {
    if (n !== undefined && !isCount(n)) invalid(`${name} must be a non-negative integer, got ${n}`);
  }
  if (f.minUptime !== undefined && !(f.minUptime >= 0 && f.minUptime <= 1))
    invalid(`minUptime must be 0..1, got ${f.minUptime}`);
  if (f.limit !== undefined && !(isCount(f.limit) && f.limit > 0))
    invalid(`limit must be a positive integer, got ${f.limit}`);
}

/** The fewest answers out of `size` crawls that make an uptime of at least `min` (float-safe). */
export function answersNeeded(min: number, size: number): number {
  return Math.max(0, Math.ceil(min * size - 1e-9));
}

const text = (v: SqlValue | undefined): string | null => (v === null || v === undefined ? null : String(v));
const num = (v: SqlValue | undefined): number | null => (v === null || v === undefined ? null : Number(v));

function selected(r: SqlRow, windowSize: number): SelectedNode {
  const answers = Number(r.answers);
  return {
    nodeId: String(r.node_id),
    record: String(r.record),
    seq: BigInt(r.seq as number | bigint),
    answered: Number(r.answered) === 1,
    answers,
    visits: Number(r.visits),
    uptime: answers / windowSize,
    firstSeen: String(r.first_seen),
    lastSeen: String(r.last_seen),
    firstResponse: text(r.first_response),
    lastResponse: text(r.last_response),
    lastCheck: String(r.last_check),
    network: text(r.network),
    forkDigest: text(r.fork_digest),
    attnetsCount: num(r.attnets_count),
    cgc: num(r.cgc),
    ip: text(r.ip),
    ip6: text(r.ip6),
  };
}

/**
 * The nodes visited in the filter's crawl that pass every filter, best first, with their uptime
 * over the window (the crawl and the newest done crawls before it, `UPTIME_WINDOW` at most; see
 * `SelectedNode.uptime`). Throws ERR_INVALID_ARGUMENT for a bad filter or a crawl that is not there.
 */
export async function selectNodes(db: CrawlDb, filter: NodeFilter = {}): Promise<NodeSet> {
  checkFilter(filter);
  const crawl = await chosenCrawl(db, filter.crawl);
  const window = await windowOf(db, crawl.id);
  const only = filter.protocol === undefined ? '' : ' AND protocol = ?';
  const protocol = filter.protocol === undefined ? [] : [filter.protocol];
  const total = Number(
    (
      await db.query(`SELECT COUNT(DISTINCT node) AS n FROM visits WHERE crawl_id = ?${only}`, [crawl.id, ...protocol])
    )[0]?.n ?? 0,
  );

  const where: string[] = ['v.crawl_id = ?'];
  const params: SqlValue[] = [...window, ...protocol, crawl.id];
  const and = (clause: string, ...values: SqlValue[]) => {
    where.push(clause);
    params.push(...values);
  };
  if (filter.answered === true) and('v.answered = 1');
  if (filter.network !== undefined)
    and(filter.protocol === 'v4' ? 'n.eth_network = ?' : 'n.network = ?', filter.network);
  if (filter.forkDigest !== undefined) and('n.fork_digest = ?', normalizeForkDigest(filter.forkDigest) as string);
  if (filter.minAttnets !== undefined) and('n.attnets_count >= ?', filter.minAttnets);
  if (filter.minCgc !== undefined) and('n.cgc >= ?', filter.minCgc);
  if (filter.ip4 === true) and('n.ip IS NOT NULL');
  if (filter.ip6 === true) and('n.ip6 IS NOT NULL');
  if (filter.minAgeMs !== undefined) {
    // Times are ISO text with milliseconds, so they compare as text on both engines.
    // Clamped to year 0: an age older than that matches no node (and would not be a valid date).
    const cutoff = Math.max(Date.parse(crawl.started) - filter.minAgeMs, YEAR_0);
    and('n.first_seen <= ?', new Date(cutoff).toISOString());
  }
  if (filter.minUptime !== undefined) and('w.answers >= ?', answersNeeded(filter.minUptime, window.length));
  let limit = '';
  if (filter.limit !== undefined) {
    limit = '\nLIMIT ?';
    params.push(filter.limit);
  }
  // The window's visits, one per (crawl, node) whatever protocols made it: answered if any answered,
  // ended at the last of them (and of those that answered). Uptime orders as answers do: the
  // window's size is the same for every node.
  const rows = await db.query(
    `WITH pv AS (
  SELECT crawl_id, node, MAX(answered) AS answered, MAX(ended) AS ended,
    MAX(CASE WHEN answered = 1 THEN ended END) AS answered_end
  FROM visits
  WHERE crawl_id IN (${window.map(() => '?').join(', ')})${only}
  GROUP BY crawl_id, node
)
SELECT n.node_id, n.record, n.seq, n.first_seen, n.last_seen, n.network, n.fork_digest, n.attnets_count,
  n.cgc, n.ip, n.ip6, v.answered, w.visits, w.answers, w.first_response, w.last_response, w.last_check
FROM pv v
JOIN nodes n ON n.id = v.node
JOIN (
  SELECT node, COUNT(*) AS visits,
    COUNT(CASE WHEN answered = 1 THEN 1 END) AS answers,
    MIN(answered_end) AS first_response,
    MAX(answered_end) AS last_response,
    MAX(ended) AS last_check
  FROM pv
  GROUP BY node
) w ON w.node = v.node
WHERE ${where.join('\n  AND ')}
ORDER BY w.answers DESC, n.last_seen DESC, n.node_id ASC${limit}`,
    params,
  );
  return { crawlId: crawl.id, total, window, nodes: rows.map((r) => selected(r, window.length)) };
}

/** One node of go-ethereum's devp2p nodes.json. */
export interface GethNode {
  seq: number;
  record: string;
  score: number;
  firstResponse: string;
  lastResponse: string;
  lastCheck: string;
}

/**
 * go-ethereum's devp2p nodes.json, keyed by node id (in the set's order): score is the answers in
 * the window, first/last response the ends of the first/last answered visit in it, last check the
 * end of the last visit (as `gethNodesJson` writes for a crawl).
 */
export function nodesJson(nodes: readonly SelectedNode[]): Record<string, GethNode> {
  const out: Record<string, GethNode> = {};
  for (const n of nodes) {
    out[n.nodeId] = {
      seq: Number(n.seq),
      record: n.record,
      score: n.answers,
      firstResponse: n.firstResponse ?? NEVER,
      lastResponse: n.lastResponse ?? NEVER,
      lastCheck: n.lastCheck,
    };
  }
  return out;
}

/** nodes.json as text (indented, with a final newline). */
export function nodesJsonText(nodes: readonly SelectedNode[]): string {
  return `${JSON.stringify(nodesJson(nodes), null, 2)}\n`;
}

/** One record per line (what `--bootnodes-file` reads: enode URLs of discv4 nodes without a record too); empty for no nodes. */
export function enrLines(nodes: readonly SelectedNode[]): string {
  return nodes.map((n) => `${n.record}\n`).join('');
}
