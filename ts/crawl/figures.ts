/**
 * A recorded crawl's figures, read back from the crawl database: what the monitor serves as gauges
 * and logs after each crawl. Counts per network, fork digest, client and IP family are of the nodes
 * that answered (the live network); `found` counts every node visited.
 *
 * The columns come from each node's latest record (nodes), which for the newest crawl is the record
 * it saw. Client names are hostile text: only the most common `MAX_CLIENTS` are kept by name, the
 * rest summed under "other", so a network of made-up names cannot grow the metrics without bound.
 */
import type { CrawlDb } from '../store/crawl-db.js';

/** Client names kept by name; the rest are summed as "other". */
export const MAX_CLIENTS = 30;
/** How many crawls `uptime` looks back over. */
export const UPTIME_WINDOW = 10;

export interface CrawlFigures {
  crawlId: number;
  found: number;
  answered: number;
  durationMs: number;
  /** End of the crawl, ms since the epoch. */
  finished: number;
  byNetwork: Map<string, number>;
  byForkDigest: Map<string, number>;
  byClient: Map<string, number>;
  /** `ipv4`, `ipv6`, `dual` (both), `none`. */
  byFamily: Map<string, number>;
  /** Visited nodes whose record seq differs from the one seen in the previous crawl of the same vantage. */
  recordChanges: number;
  /** Nodes that answered in every one of the last `windowCrawls` finished crawls of this vantage (this one included). */
  alwaysUp: number;
  windowCrawls: number;
}

const count = (rows: Record<string, unknown>[], key: string, fallback: string): Map<string, number> =>
  new Map(rows.map((r) => [r[key] === null ? fallback : String(r[key]), Number(r.total)]));

// Nodes, not visits: a node that both protocols visited counts once.
const grouped = (column: string) => `SELECT n.${column} AS k, COUNT(DISTINCT v.node) AS total
FROM visits v JOIN nodes n ON n.id = v.node
WHERE v.crawl_id = ? AND v.answered = 1 GROUP BY n.${column} ORDER BY total DESC, k`;

/** The figures of crawl `crawlId` (undefined if there is no such crawl). */
export async function crawlFigures(db: CrawlDb, crawlId: number): Promise<CrawlFigures | undefined> {
  const crawl = await db.crawl(crawlId);
  if (crawl === undefined) return undefined;
  const [networks, digests, clients, families] = await Promise.all([
    db.query(grouped('network'), [crawlId]),
    db.query(grouped('fork_digest'), [crawlId]),
    db.query(grouped('client'), [crawlId]),
    db.query(
      `SELECT CASE WHEN n.ip IS NOT NULL AND n.ip6 IS NOT NULL THEN 'dual' WHEN n.ip IS NOT NULL THEN 'ipv4'
  WHEN n.ip6 IS NOT NULL THEN 'ipv6' ELSE 'none' END AS k, COUNT(DISTINCT v.node) AS total
FROM visits v JOIN nodes n ON n.id = v.node WHERE v.crawl_id = ? AND v.answered = 1 GROUP BY 1`,
      [crawlId],
    ),
  ]);
  const byClient = new Map<string, number>();
  for (const [i, r] of clients.entries()) {
    const name = i < MAX_CLIENTS ? (r.k === null ? 'unknown' : String(r.k)) : 'other';
    byClient.set(name, (byClient.get(name) ?? 0) + Number(r.total));
  }
  // The crawls of this vantage up to this one, newest first: the previous one for record changes,
  // the last UPTIME_WINDOW finished ones (this one counts while it is being summed up) for uptime.
  const window = (
    await db.query(
      `SELECT id FROM crawls WHERE vantage = ? AND id <= ? AND (state = 'done' OR id = ?) ORDER BY id DESC LIMIT ${UPTIME_WINDOW}`,
      [crawl.vantage, crawlId, crawlId],
    )
  ).map((r) => Number(r.id));
  const previous = window[1];
  const changes =
    previous === undefined
      ? 0
      : Number(
          (
            await db.query(
              `SELECT COUNT(DISTINCT a.node) AS n FROM visits a
JOIN visits b ON b.node = a.node AND b.crawl_id = ? AND b.protocol = a.protocol
WHERE a.crawl_id = ? AND a.seq <> b.seq`,
              [previous, crawlId],
            )
          )[0]?.n ?? 0,
        );
  const inWindow = window.map(() => '?').join(', ');
  const alwaysUp = Number(
    (
      await db.query(
        `SELECT COUNT(*) AS n FROM (SELECT node FROM visits WHERE crawl_id IN (${inWindow}) AND answered = 1
GROUP BY node HAVING COUNT(DISTINCT crawl_id) = ?) up`,
        [...window, window.length],
      )
    )[0]?.n ?? 0,
  );
  const finished = crawl.finished === null ? Date.now() : Date.parse(crawl.finished);
  return {
    crawlId,
    found: crawl.found,
    answered: crawl.answered,
    durationMs: Math.max(0, finished - Date.parse(crawl.started)),
    finished,
    byNetwork: count(networks, 'k', 'unknown'),
    byForkDigest: count(digests, 'k', 'none'),
    byClient,
    byFamily: count(families, 'k', 'none'),
    recordChanges: changes,
    alwaysUp,
    windowCrawls: window.length,
  };
}

/** Records (text) of the nodes that answered discv5 in crawl `crawlId`: the next crawl's head start. */
export async function answeredRecords(db: CrawlDb, crawlId: number): Promise<string[]> {
  const rows = await db.query(
    `SELECT n.record FROM visits v JOIN nodes n ON n.id = v.node
WHERE v.crawl_id = ? AND v.answered = 1 AND v.protocol = 'v5'`,
    [crawlId],
  );
  return rows.map((r) => String(r.record));
}
