/**
 * `writeReport`: the crawl database as one self-contained HTML file (charts as inline SVG, the node
 * table of one crawl, sortable and filterable by a small inline script). The file is written beside
 * its final name and renamed into place, so a reader never sees half a report.
 */
import { renameSync, rmSync, writeFileSync } from 'node:fs';
import type { CrawlDb } from '../store/crawl-db.js';
import { loadReportData, MAX_TABLE_ROWS, type ReportData } from './data.js';
import { renderReport } from './html.js';

export type { ReportData } from './data.js';
export { loadReportData, MAX_TABLE_ROWS } from './data.js';
export { PAGE_ROWS, renderReport } from './html.js';

export interface ReportOptions {
  /** The crawl the breakdowns and the table describe; default the newest done crawl (else the newest finished, else the newest). */
  crawlId?: number;
  /** The HTML file to write. */
  out: string;
  /** Node table rows embedded at most (default MAX_TABLE_ROWS). */
  maxRows?: number;
  /** Node table rows shown per page (default PAGE_ROWS). */
  pageRows?: number;
}

export interface ReportResult {
  out: string;
  bytes: number;
  /** The crawl described; undefined when the database holds none (the page then says so). */
  crawlId: number | undefined;
  crawls: number;
  /** Nodes in the table, and in the crawl. */
  rows: number;
  nodes: number;
  data: ReportData;
}

/**
 * Reads the database and writes the report to `options.out`. An empty database gives a page that
 * says no crawl is recorded yet; a `crawlId` that names no crawl throws ERR_INVALID_ARGUMENT.
 */
export async function writeReport(db: CrawlDb, options: ReportOptions): Promise<ReportResult> {
  const data = await loadReportData(db, {
    ...(options.crawlId === undefined ? {} : { crawlId: options.crawlId }),
    maxRows: options.maxRows ?? MAX_TABLE_ROWS,
  });
  const html = renderReport(data, options.pageRows === undefined ? {} : { pageRows: options.pageRows });
  const temp = `${options.out}.${process.pid}.tmp`;
  try {
    writeFileSync(temp, html);
    renameSync(temp, options.out);
  } catch (err) {
    rmSync(temp, { force: true });
    throw err;
  }
  return {
    out: options.out,
    bytes: Buffer.byteLength(html),
    crawlId: data.crawl?.id,
    crawls: data.crawlCount,
    rows: data.nodes.length,
    nodes: data.nodesTotal,
    data,
  };
}
