/**
 * The crawl database around a CLI crawl: `--db FILE|postgres://...` (default discv5.db for
 * `discv5 crawl`), `--no-db`, `--vantage NAME`, `--resume`. Opening the database first marks crawls
 * whose process died as failed; a crawl then starts (or resumes) as a recorder the crawl feeds.
 */
import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CrawlRecorder } from '../../crawl/recorder.js';
import type { Enr, EnrDecoder } from '../../index.js';
import type { CrawlDb } from '../../store/crawl-db.js';
import { DEFAULT_CRAWL_DB, openCrawlDb } from '../../store/open-crawl-db.js';
import { UsageError } from '../args.js';
import type { Out } from './net.js';

/** `discv5-native/<version>`, from the package's own package.json. */
export function software(): string {
  for (const up of ['../package.json', '../../../package.json']) {
    try {
      const pkg = JSON.parse(readFileSync(resolve(dirname(fileURLToPath(import.meta.url)), up), 'utf8'));
      if (pkg.name === 'discv5-native') return `discv5-native/${pkg.version}`;
    } catch {}
  }
  return 'discv5-native';
}

/** The database a command's options name: `--db`, else `fallback` (undefined: none), never with `--no-db`. */
export function dbTarget(v: Record<string, unknown>, fallback: string | undefined): string | undefined {
  if (v['no-db'] === true) {
    if (v.db !== undefined) throw new UsageError('--db and --no-db contradict each other');
    if (v.resume === true) throw new UsageError('--resume needs the database (drop --no-db)');
    return undefined;
  }
  return (v.db as string | undefined) ?? fallback;
}

export async function openForCrawl(target: string, out: Out): Promise<CrawlDb> {
  const db = await openCrawlDb(target, {
    onReport: (r) =>
      out.log(`${r.kind} database ${r.path}: ${r.detail}${'movedTo' in r ? `; moved to ${r.movedTo}` : ''}`),
  });
  try {
    const failed = await db.markAbandoned();
    if (failed.length > 0) out.log(`crawl ${failed.join(', ')} in ${db.location}: its process is gone, marked failed`);
  } catch (err) {
    await db.close();
    throw err;
  }
  return db;
}

/** The vantage point a crawl records: --vantage, else this host's name. */
export function vantageOf(v: Record<string, unknown>): string {
  const name = (v.vantage as string | undefined) ?? hostname();
  if (name.length === 0 || name.length > 100) throw new UsageError('--vantage must be 1..100 characters');
  return name;
}

export interface Recording {
  recorder: CrawlRecorder;
  /**
   * For a resumed crawl: what discv5 had done already (nodes visited, records found and not
   * visited), its seed records (`seeds`) and all its seeds as text (enode URLs too), what discv4
   * had done (its pending nodes as enode URLs or records), and the options it was started with.
   */
  resume?: {
    visited: Set<string>;
    pending: Enr[];
    seeds: Enr[];
    seedTexts: string[];
    v4: { visited: Set<string>; pending: string[] };
    options: Record<string, unknown>;
  };
}

/**
 * Starts recording a new crawl, or takes over the last unfinished one of this vantage (`--resume`).
 * `seeds` are records, or their text (enode URLs among them).
 */
export async function beginRecording(
  db: CrawlDb,
  v: Record<string, unknown>,
  seeds: readonly (Enr | string)[],
  decoder: EnrDecoder,
  out: Out,
): Promise<Recording> {
  const vantage = vantageOf(v);
  if (v.resume === true) {
    const last = await db.lastUnfinished(vantage);
    if (last === undefined) throw new UsageError(`no cancelled or failed crawl of vantage "${vantage}" to resume`);
    const point = await db.resume(last.id);
    if (point === undefined) throw new UsageError(`crawl ${last.id} was taken over by another process`);
    const decode = (texts: string[]) =>
      decoder.decodeBatch(texts.filter((t) => t.startsWith('enr:'))).filter((r): r is Enr => !(r instanceof Error));
    const v4 = point.v4.visited.size + point.v4.pending.length > 0 ? point.v4 : undefined;
    out.log(
      `resuming crawl ${last.id} (${last.state}): ${point.visited.size} nodes visited, ${point.pending.length} found and not yet visited${v4 === undefined ? '' : `; discv4: ${v4.visited.size} visited, ${v4.pending.length} not yet`}`,
    );
    return {
      recorder: CrawlRecorder.resumed(db, point),
      resume: {
        visited: point.visited,
        pending: decode(point.pending),
        seeds: decode(point.crawl.seeds),
        seedTexts: point.crawl.seeds,
        v4: point.v4,
        options: point.crawl.options,
      },
    };
  }
  const options: Record<string, unknown> = {};
  for (const key of RECORDED_OPTIONS) if (v[key] !== undefined) options[key] = v[key];
  const recorder = await CrawlRecorder.start(db, {
    vantage,
    seeds: seeds.map((s) => (typeof s === 'string' ? s : s.text)),
    options,
    software: software(),
    started: Date.now(),
  });
  return { recorder };
}

/** The options a crawl's row keeps (`--resume` takes the protocols from them). */
const RECORDED_OPTIONS = [
  'mode',
  'concurrency',
  'identities',
  'timeout',
  'max-nodes',
  'max-nodes-per-ip',
  'fork-digest',
  'protocols',
  'discv4',
];

export { DEFAULT_CRAWL_DB };
