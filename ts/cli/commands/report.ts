/** `discv5 report`: the crawl database as one self-contained HTML file. */
import { statSync } from 'node:fs';
import { writeReport } from '../../report/report.js';
import { DEFAULT_CRAWL_DB, isPostgresUrl, openCrawlDb } from '../../store/open-crawl-db.js';
import { Discv5Error, ErrorCode } from '../../util/errors.js';
import { UsageError } from '../args.js';
import type { Out } from './net.js';

export const REPORT_USAGE = 'discv5 report [--db FILE|postgres://URL] [--crawl ID] --out report.html';
export const REPORT_SUMMARY =
  'one self-contained HTML file (inline SVG charts, no network access needed) from the crawl database (default discv5.db): nodes found and answered per crawl, record changes between crawls, and for one crawl (--crawl, default the last finished) nodes per network, fork digest, client, IP family, attnets, cgc and round trip, and a sortable, filterable table of its nodes';
export const REPORT_OPTIONS = {
  db: { type: 'string' as const },
  crawl: { type: 'string' as const },
  out: { type: 'string' as const },
};
/** The entry for main.ts's command table (add `run: (_p, v, out) => reportCommand(v, out)`). */
export const REPORT_COMMAND = { usage: REPORT_USAGE, summary: REPORT_SUMMARY, options: REPORT_OPTIONS };

function isFile(path: string): boolean {
  try {
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

export async function reportCommand(v: Record<string, unknown>, out: Out): Promise<void> {
  const target = (v.db as string | undefined) ?? DEFAULT_CRAWL_DB;
  const file = v.out as string | undefined;
  if (file === undefined || file === '') throw new UsageError('missing --out FILE (the HTML report to write)');
  let crawlId: number | undefined;
  if (v.crawl !== undefined) {
    crawlId = Number(v.crawl);
    if (!/^\d+$/.test(String(v.crawl)) || !Number.isSafeInteger(crawlId) || crawlId < 1)
      throw new UsageError(`--crawl must be a crawl id (a positive integer), got "${v.crawl}"`);
  }
  // Reading a database must not create one: a mistyped path is an error, not an empty report.
  if (!isPostgresUrl(target) && !isFile(target))
    throw new UsageError(`no crawl database at ${target} (\`discv5 crawl --db ${target}\` records one)`);
  const db = await openCrawlDb(target, {
    onReport: (r) =>
      out.log(`${r.kind} database ${r.path}: ${r.detail}${'movedTo' in r ? `; moved to ${r.movedTo}` : ''}`),
  });
  try {
    const r = await writeReport(db, { out: file, ...(crawlId === undefined ? {} : { crawlId }) });
    const size = `${Math.ceil(r.bytes / 1024)} KiB`;
    if (r.crawlId === undefined) out.line(`wrote ${r.out} (${size}): no crawl recorded in ${db.location} yet`);
    else {
      const cut = r.rows < r.nodes ? ` (the table holds ${r.rows})` : '';
      out.line(`wrote ${r.out} (${size}): crawl ${r.crawlId}, ${r.nodes} nodes${cut}; ${r.crawls} crawls in all`);
    }
  } catch (err) {
    if (err instanceof Discv5Error && err.code === ErrorCode.INVALID_ARGUMENT) throw new UsageError(err.message);
    throw err;
  } finally {
    await db.close();
  }
}
