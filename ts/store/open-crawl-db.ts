/** Opens the crawl database a `--db` value names: a postgres:// URL, or else an SQLite file path. */
import type { CrawlDb } from './crawl-db.js';
import { PgCrawlDb } from './crawl-db-pg.js';
import { SqliteCrawlDb } from './crawl-db-sqlite.js';
import type { StoreOptions } from './types.js';

export const DEFAULT_CRAWL_DB = 'discv5.db';

export function isPostgresUrl(target: string): boolean {
  return /^postgres(ql)?:\/\//i.test(target);
}

/**
 * The crawl database at `target`, brought to the newest schema. Throws ERR_STORE_UNAVAILABLE when
 * the driver it needs is missing (node:sqlite or better-sqlite3; pg), ERR_STORE when the database
 * cannot be used. A corrupt SQLite file is moved aside and reported through `onReport`.
 */
export async function openCrawlDb(target: string, options: StoreOptions = {}): Promise<CrawlDb> {
  if (isPostgresUrl(target)) return PgCrawlDb.open(target);
  return new SqliteCrawlDb(target, options);
}
