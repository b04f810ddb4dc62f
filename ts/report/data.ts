/**
 * What the HTML report shows, read from the crawl database into one plain object (`ReportData`).
 * Every query is written once for SQLite and PostgreSQL (`?` placeholders, no engine-specific
 * function): counting and grouping happen in SQL; what is not portable (binning round trips, the
 * long tail of categories) happens here. Numbers are read with `Number()` whatever the driver gives
 * (PostgreSQL's SUM of a BIGINT is NUMERIC, i.e. a string). Strings are passed on as stored: they come
 * from records, which are hostile input, and are escaped where the page is built (html.ts, svg.ts).
 */
import type { CrawlDb, CrawlInfo } from '../store/crawl-db.js';
import type { SqlRow, SqlValue } from '../store/sqlite.js';
import { Discv5Error, ErrorCode } from '../util/errors.js';

/** Rows of the node table embedded at most (the page says when a crawl had more). */
export const MAX_TABLE_ROWS = 20_000;
/** Crawls charted over time at most: the newest ones. */
export const MAX_CRAWLS_CHARTED = 200;
/** Categories (networks, clients...) shown at most; the rest are summed into one "other" bar. */
export const MAX_CATEGORIES = 20;

/** One bar: a category and how many nodes of the crawl fall in it, and how many of those answered. */
export interface Count {
  label: string;
  value: number;
  answered: number;
  /** For "other": how many categories it sums. */
  merged?: number;
}

/** A crawl as charted over time (found and answered counted from its visits). */
export interface CrawlPoint {
  id: number;
  started: string;
  finished: string | null;
  state: string;
  vantage: string;
  found: number;
  answered: number;
}

/** Nodes of crawl `id` also visited in `previous` (the previous done crawl of its vantage), and how many of them had another record seq. */
export interface ChangePoint {
  id: number;
  previous: number;
  compared: number;
  changed: number;
}

/** A row of the node table: the node as its newest record describes it, and its visit in the crawl (one per protocol). */
export interface NodeEntry {
  nodeId: string;
  /** The protocol of the visit: 'v5' or 'v4'. */
  protocol: string;
  /** The execution network and fork its eth entry names (`mainnet prague`), if known. */
  ethNetwork: string | null;
  ip: string | null;
  ip6: string | null;
  udp: number | null;
  tcp: number | null;
  quic: number | null;
  udp6: number | null;
  tcp6: number | null;
  quic6: number | null;
  network: string | null;
  forkDigest: string | null;
  client: string | null;
  attnets: number | null;
  cgc: number | null;
  answered: boolean;
  rttMs: number | null;
  /** The record's seq at the visit. */
  seq: string;
  firstSeen: string;
  lastSeen: string;
}

/** The chosen crawl: its row, and its counts taken from its visits (also right while it runs). */
export interface ChosenCrawl extends CrawlInfo {
  /** Finished minus started; for a running crawl, until the report was made. */
  durationMs: number | null;
}

export interface ReportData {
  /** Where the data came from (a file, or a URL without password). */
  location: string;
  dialect: string;
  /** When the report was made (ISO). */
  generated: string;
  /** Crawls in the database. */
  crawlCount: number;
  /** The newest crawls (at most MAX_CRAWLS_CHARTED), oldest first. */
  crawls: CrawlPoint[];
  /** The crawl the breakdowns and the table describe; undefined when the database holds no crawl. */
  crawl: ChosenCrawl | undefined;
  /** Visits per protocol ('v5', 'v4'): the nodes each protocol visited, and how many answered it. */
  protocols: Count[];
  /** discv4 visits by the execution network and fork of the node's eth entry (empty without discv4 visits). */
  ethNetworks: Count[];
  networks: Count[];
  forkDigests: Count[];
  clients: Count[];
  stacks: Count[];
  /** By number of attestation subnets, in numeric order ("none" last: no attnets entry). */
  attnets: Count[];
  /** By custody group count, in numeric order ("none" last). */
  cgc: Count[];
  /** Distinct round trips (ms) of the crawl's answered visits, with how many visits had each. */
  rtt: { ms: number; count: number }[];
  changes: ChangePoint[];
  nodes: NodeEntry[];
  /**
   * Visits in the crawl: its nodes, a node twice if both protocols visited it (the table holds at
   * most MAX_TABLE_ROWS of them).
   */
  nodesTotal: number;
}

export interface LoadOptions {
  /** The crawl to describe; default the newest done crawl, else the newest finished one, else the newest. */
  crawlId?: number;
  maxRows?: number;
  /** Clock for "generated" and a running crawl's duration. */
  now?: number;
}

const num = (v: SqlValue | undefined): number => (v === null || v === undefined ? 0 : Number(v));
const numOrNull = (v: SqlValue | undefined): number | null => (v === null || v === undefined ? null : Number(v));
const strOrNull = (v: SqlValue | undefined): string | null => (v === null || v === undefined ? null : String(v));

/** Reads everything the report shows. Throws ERR_INVALID_ARGUMENT when `crawlId` names no crawl. */
export async function loadReportData(db: CrawlDb, options: LoadOptions = {}): Promise<ReportData> {
  const now = options.now ?? Date.now();
  const all = await db.crawls();
  const crawl = chooseCrawl(all, options.crawlId);
  const crawls = await crawlPoints(db, all.slice(-MAX_CRAWLS_CHARTED));
  const base: ReportData = {
    location: db.location,
    dialect: db.dialect,
    generated: new Date(now).toISOString(),
    crawlCount: all.length,
    crawls,
    crawl: undefined,
    protocols: [],
    ethNetworks: [],
    networks: [],
    forkDigests: [],
    clients: [],
    stacks: [],
    attnets: [],
    cgc: [],
    rtt: [],
    changes: [],
    nodes: [],
    nodesTotal: 0,
  };
  if (crawl === undefined) return base;
  const id = crawl.id;
  const point = crawls.find((c) => c.id === id) ?? (await crawlPoints(db, [crawl]))[0];
  const end = crawl.finished === null ? now : Date.parse(crawl.finished);
  const duration = end - Date.parse(crawl.started);
  const by = (expr: string) => countBy(db, id, expr);
  const [protocols, ethNetworks, networks, forkDigests, clients, stacks, attnets, cgc, rtt, changes, nodes] =
    await Promise.all([
      db.query(
        'SELECT protocol AS label, COUNT(*) AS c, SUM(answered) AS a FROM visits WHERE crawl_id = ? GROUP BY protocol',
        [id],
      ),
      countBy(db, id, ETH_NETWORK, 'v4'),
      by("COALESCE(n.network, 'unknown')"),
      by("COALESCE(n.fork_digest, 'none')"),
      by("COALESCE(n.client, 'unknown')"),
      by(`CASE WHEN n.ip IS NOT NULL AND n.ip6 IS NOT NULL THEN 'dual stack'
      WHEN n.ip IS NOT NULL THEN 'IPv4' WHEN n.ip6 IS NOT NULL THEN 'IPv6' ELSE 'no address' END`),
      by('n.attnets_count'),
      by('n.cgc'),
      db.query('SELECT rtt_ms, COUNT(*) AS c FROM visits WHERE crawl_id = ? AND rtt_ms IS NOT NULL GROUP BY rtt_ms', [
        id,
      ]),
      recordChanges(db, all, crawls),
      nodeRows(db, id, options.maxRows ?? MAX_TABLE_ROWS),
    ]);
  return {
    ...base,
    protocols: protocols
      .map((r) => ({ label: String(r.label), value: num(r.c), answered: num(r.a) }))
      .sort((a, b) => (a.label < b.label ? 1 : -1)),
    ethNetworks: topCategories(ethNetworks),
    crawl: {
      ...crawl,
      found: point?.found ?? crawl.found,
      answered: point?.answered ?? crawl.answered,
      durationMs: Number.isFinite(duration) ? Math.max(0, duration) : null,
    },
    networks: topCategories(networks),
    forkDigests: topCategories(forkDigests),
    clients: topCategories(clients),
    stacks: ['IPv4', 'IPv6', 'dual stack', 'no address'].flatMap((s) => stacks.filter((c) => c.label === s)),
    attnets: numericOrder(attnets),
    cgc: numericOrder(cgc),
    rtt: rtt.map((r) => ({ ms: num(r.rtt_ms), count: num(r.c) })).sort((a, b) => a.ms - b.ms),
    changes,
    nodes,
    nodesTotal: protocols.reduce((sum, r) => sum + num(r.c), 0),
  };
}

function chooseCrawl(all: CrawlInfo[], crawlId: number | undefined): CrawlInfo | undefined {
  if (crawlId !== undefined) {
    const found = all.find((c) => c.id === crawlId);
    if (found === undefined) {
      const range = all.length === 0 ? 'it holds no crawl' : `its crawls are ${all[0]?.id}..${all.at(-1)?.id}`;
      throw new Discv5Error(ErrorCode.INVALID_ARGUMENT, `no crawl ${crawlId} in the database (${range})`);
    }
    return found;
  }
  const newest = (keep: (c: CrawlInfo) => boolean) => all.filter(keep).at(-1);
  return newest((c) => c.state === 'done') ?? newest((c) => c.finished !== null) ?? all.at(-1);
}

/** The crawls with found/answered: from their row once finished, counted from visits while running. */
async function crawlPoints(db: CrawlDb, crawls: CrawlInfo[]): Promise<CrawlPoint[]> {
  const running = crawls.filter((c) => c.state === 'running').map((c) => c.id);
  const live = new Map<number, { found: number; answered: number }>();
  if (running.length > 0) {
    const rows = await db.query(
      `SELECT crawl_id, COUNT(DISTINCT node) AS found, COUNT(DISTINCT CASE WHEN answered = 1 THEN node END) AS answered FROM visits
       WHERE crawl_id IN (${running.map(() => '?').join(', ')}) GROUP BY crawl_id`,
      running,
    );
    for (const r of rows) live.set(num(r.crawl_id), { found: num(r.found), answered: num(r.answered) });
  }
  return crawls.map((c) => ({
    id: c.id,
    started: c.started,
    finished: c.finished,
    state: c.state,
    vantage: c.vantage,
    found: c.state === 'running' ? (live.get(c.id)?.found ?? 0) : c.found,
    answered: c.state === 'running' ? (live.get(c.id)?.answered ?? 0) : c.answered,
  }));
}

/** A discv4 node's execution network and fork, else why it has none. */
const ETH_NETWORK = `COALESCE(n.eth_network || ' ' || n.eth_fork, CASE WHEN n.eth_fork_hash IS NOT NULL THEN 'unknown fork hash'
  WHEN n.record LIKE 'enr:%' THEN 'no eth entry' ELSE 'no record' END)`;

/**
 * Nodes visited in crawl `id` (by `protocol`, else by any: a node both visited counts once, answered
 * if it answered either) grouped by `expr` (over `nodes n`): how many, and how many answered.
 */
async function countBy(db: CrawlDb, id: number, expr: string, protocol?: string): Promise<Count[]> {
  const rows = await db.query(
    `SELECT ${expr} AS label, COUNT(DISTINCT v.node) AS c, COUNT(DISTINCT CASE WHEN v.answered = 1 THEN v.node END) AS a
     FROM visits v JOIN nodes n ON n.id = v.node WHERE v.crawl_id = ?${protocol === undefined ? '' : ' AND v.protocol = ?'}
     GROUP BY ${expr}`,
    protocol === undefined ? [id] : [id, protocol],
  );
  return rows.map((r: SqlRow) => ({
    label: r.label === null ? 'none' : String(r.label),
    value: num(r.c),
    answered: num(r.a),
  }));
}

/** The biggest categories, largest first (ties by label), the rest summed into "other (N more)". */
export function topCategories(counts: Count[], max = MAX_CATEGORIES): Count[] {
  const sorted = [...counts].sort((a, b) => b.value - a.value || (a.label < b.label ? -1 : a.label > b.label ? 1 : 0));
  if (sorted.length <= max) return sorted;
  const rest = sorted.slice(max - 1);
  const other: Count = {
    label: `other (${rest.length} more)`,
    value: rest.reduce((s, c) => s + c.value, 0),
    answered: rest.reduce((s, c) => s + c.answered, 0),
    merged: rest.length,
  };
  return [...sorted.slice(0, max - 1), other];
}

function numericOrder(counts: Count[]): Count[] {
  const key = (c: Count) => (c.label === 'none' ? Number.POSITIVE_INFINITY : Number(c.label));
  return [...counts].sort((a, b) => key(a) - key(b));
}

/**
 * Per charted crawl: its nodes also visited in the previous done crawl of the same vantage (as the
 * monitor counts them, crawl/figures.ts), and how many of those had another record seq. One query
 * for all charted crawls, joined on the visits' primary key.
 */
async function recordChanges(db: CrawlDb, all: CrawlInfo[], charted: CrawlPoint[]): Promise<ChangePoint[]> {
  const previous = new Map<number, number>();
  const lastDone = new Map<string, number>();
  for (const c of all) {
    const p = lastDone.get(c.vantage);
    if (p !== undefined) previous.set(c.id, p);
    if (c.state === 'done') lastDone.set(c.vantage, c.id);
  }
  const pairs = charted.flatMap((c) => {
    const p = previous.get(c.id);
    return p === undefined ? [] : [[c.id, p] as const];
  });
  if (pairs.length === 0) return [];
  // The pairs as a derived table (typed: PostgreSQL would take an untyped parameter for text).
  const values = pairs.map(() => 'SELECT CAST(? AS BIGINT) AS cur, CAST(? AS BIGINT) AS prev').join(' UNION ALL ');
  const rows = await db.query(
    `SELECT p.cur AS cur, COUNT(*) AS compared, SUM(CASE WHEN a.seq <> b.seq THEN 1 ELSE 0 END) AS changed
     FROM (${values}) p
     JOIN visits a ON a.crawl_id = p.cur
     JOIN visits b ON b.crawl_id = p.prev AND b.node = a.node AND b.protocol = a.protocol
     GROUP BY p.cur`,
    pairs.flat(),
  );
  const byId = new Map(rows.map((r) => [num(r.cur), r]));
  return pairs.map(([cur, prev]) => {
    const r = byId.get(cur);
    return { id: cur, previous: prev, compared: num(r?.compared), changed: num(r?.changed) };
  });
}

/** The crawl's nodes for the table: answered ones first, then by node id; at most `max`. */
async function nodeRows(db: CrawlDb, id: number, max: number): Promise<NodeEntry[]> {
  const rows = await db.query(
    `SELECT n.node_id, v.protocol, n.ip, n.ip6, n.udp, n.tcp, n.quic, n.udp6, n.tcp6, n.quic6, n.network, n.fork_digest,
       n.eth_network || ' ' || n.eth_fork AS eth, n.client, n.attnets_count, n.cgc, v.answered, v.rtt_ms, v.seq,
       n.first_seen, n.last_seen
     FROM visits v JOIN nodes n ON n.id = v.node WHERE v.crawl_id = ?
     ORDER BY v.answered DESC, n.node_id, v.protocol DESC LIMIT ?`,
    [id, Math.max(0, Math.floor(max))],
  );
  return rows.map((r) => ({
    nodeId: String(r.node_id),
    protocol: String(r.protocol),
    ethNetwork: strOrNull(r.eth),
    ip: strOrNull(r.ip),
    ip6: strOrNull(r.ip6),
    udp: numOrNull(r.udp),
    tcp: numOrNull(r.tcp),
    quic: numOrNull(r.quic),
    udp6: numOrNull(r.udp6),
    tcp6: numOrNull(r.tcp6),
    quic6: numOrNull(r.quic6),
    network: strOrNull(r.network),
    forkDigest: strOrNull(r.fork_digest),
    client: strOrNull(r.client),
    attnets: numOrNull(r.attnets_count),
    cgc: numOrNull(r.cgc),
    answered: num(r.answered) === 1,
    rttMs: numOrNull(r.rtt_ms),
    seq: String(r.seq),
    firstSeen: String(r.first_seen),
    lastSeen: String(r.last_seen),
  }));
}
