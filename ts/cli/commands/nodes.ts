/**
 * `discv5 nodes filter`: a node set out of the crawl database (ts/crawl/node-set.ts), written as
 * go-ethereum's nodes.json (what `discv5 crawl --reseed` reads) and/or one record per line (what
 * `--bootnodes-file` reads). go-ethereum's `devp2p nodeset filter` with the consensus-layer filters.
 */
import { existsSync, writeFileSync } from 'node:fs';
import {
  enrLines,
  type NodeFilter,
  nodesJsonText,
  normalizeForkDigest,
  selectNodes,
  UPTIME_WINDOW,
} from '../../crawl/node-set.js';
import { ETH_NETWORKS } from '../../enr/eth-networks.js';
import { KNOWN_NETWORKS } from '../../enr/networks.js';
import type { CrawlDb, CrawlProtocol } from '../../store/crawl-db.js';
import { CRAWL_PROTOCOLS } from '../../store/crawl-schema.js';
import { DEFAULT_CRAWL_DB, isPostgresUrl, openCrawlDb } from '../../store/open-crawl-db.js';
import { Discv5Error, ErrorCode } from '../../util/errors.js';
import { parseDuration, UsageError } from '../args.js';
import type { Out } from './net.js';

export const NODES_FILTER_USAGE =
  'discv5 nodes filter [--db FILE|postgres://URL] [--crawl ID|last] [--protocol v4|v5] [--answered] [--network NAME | --fork-digest HEX] [--attnets N] [--min-cgc N] [--ip4 | --ip6] [--min-age DURATION] [--min-uptime F] [--limit N] (--nodes-json OUT | --enrs OUT)';

export const NODES_FILTER_SUMMARY = `a node set from the crawl database: the nodes visited in a crawl (default: the last finished one) that pass every filter given, best first (uptime, then last seen); uptime is the share of the last ${UPTIME_WINDOW} finished crawls (up to the chosen one) in which a node answered, a crawl that did not see it counting as down; --min-age 30m, 12h, 7d or seconds before the crawl's start; --protocol v4 or v5: only the nodes that protocol visited (its visits alone count; with v4, --network is the execution network their eth fork id names); writes go-ethereum's nodes.json (for crawl --reseed) and/or one record per line (for --bootnodes-file; a discv4 node without a record as its enode:// URL), - for stdout`;

/** The options of `discv5 nodes filter`, for node:util parseArgs (as the CLI's command table holds them). */
export const NODES_FILTER_OPTIONS = {
  db: { type: 'string' },
  crawl: { type: 'string' },
  protocol: { type: 'string' },
  answered: { type: 'boolean' },
  network: { type: 'string' },
  'fork-digest': { type: 'string' },
  attnets: { type: 'string' },
  'min-cgc': { type: 'string' },
  ip4: { type: 'boolean' },
  ip6: { type: 'boolean' },
  'min-age': { type: 'string' },
  'min-uptime': { type: 'string' },
  limit: { type: 'string' },
  'nodes-json': { type: 'string' },
  enrs: { type: 'string' },
} as const satisfies Record<string, { type: 'string' | 'boolean' }>;

function count(v: Record<string, unknown>, flag: string, min: number): number | undefined {
  const text = v[flag] as string | undefined;
  if (text === undefined) return undefined;
  const n = Number(text);
  if (!/^\d+$/.test(text) || !Number.isSafeInteger(n) || n < min)
    throw new UsageError(`--${flag} must be an integer of at least ${min}, got "${text}"`);
  return n;
}

/** The filter the options name; every bad value is a UsageError. */
export function nodeFilterOf(v: Record<string, unknown>): NodeFilter {
  const filter: NodeFilter = {};
  const crawl = v.crawl as string | undefined;
  if (crawl !== undefined && crawl !== 'last') {
    const id = Number(crawl);
    if (!/^\d+$/.test(crawl) || !Number.isSafeInteger(id) || id < 1)
      throw new UsageError(`--crawl must be a crawl id or last, got "${crawl}"`);
    filter.crawl = id;
  }
  if (v.protocol !== undefined) {
    const protocol = v.protocol as string;
    if (!(CRAWL_PROTOCOLS as readonly string[]).includes(protocol))
      throw new UsageError(`--protocol must be ${CRAWL_PROTOCOLS.join(' or ')}, got "${protocol}"`);
    filter.protocol = protocol as CrawlProtocol;
  }
  if (v.answered === true) filter.answered = true;
  if (v.network !== undefined && v['fork-digest'] !== undefined)
    throw new UsageError('--network and --fork-digest exclude each other');
  if (v.network !== undefined) {
    const network = v.network as string;
    const known: readonly string[] = filter.protocol === 'v4' ? ETH_NETWORKS : KNOWN_NETWORKS;
    if (!known.includes(network))
      throw new UsageError(`--network must be one of ${known.join(', ')}, got "${network}"`);
    filter.network = network;
  }
  if (v['fork-digest'] !== undefined) {
    const digest = normalizeForkDigest(v['fork-digest'] as string);
    if (digest === undefined)
      throw new UsageError(`--fork-digest must be 4 bytes of hex (0x optional), got "${v['fork-digest']}"`);
    filter.forkDigest = digest;
  }
  const attnets = count(v, 'attnets', 0);
  if (attnets !== undefined) filter.minAttnets = attnets;
  const cgc = count(v, 'min-cgc', 0);
  if (cgc !== undefined) filter.minCgc = cgc;
  if (v.ip4 === true && v.ip6 === true) throw new UsageError('--ip4 and --ip6 exclude each other');
  if (v.ip4 === true) filter.ip4 = true;
  if (v.ip6 === true) filter.ip6 = true;
  if (v['min-age'] !== undefined)
    filter.minAgeMs = parseDuration(v['min-age'] as string, '--min-age', { allowZero: true });
  if (v['min-uptime'] !== undefined) {
    const text = v['min-uptime'] as string;
    const f = Number(text);
    if (!/^(\d+(\.\d*)?|\.\d+)$/.test(text) || !(f >= 0 && f <= 1))
      throw new UsageError(`--min-uptime must be a number 0..1, got "${text}"`);
    filter.minUptime = f;
  }
  const limit = count(v, 'limit', 1);
  if (limit !== undefined) filter.limit = limit;
  return filter;
}

function write(target: string, text: string, out: Out): void {
  if (target !== '-') {
    writeFileSync(target, text);
  } else if (text !== '') {
    out.line(text.endsWith('\n') ? text.slice(0, -1) : text);
  }
}

/** `discv5 nodes filter`: selects, writes the outputs named, and logs "N nodes of M in crawl K match". */
export async function nodesFilterCommand(v: Record<string, unknown>, out: Out): Promise<void> {
  const nodesJsonOut = v['nodes-json'] as string | undefined;
  const enrsOut = v.enrs as string | undefined;
  if (!nodesJsonOut && !enrsOut)
    throw new UsageError('give an output: --nodes-json OUT and/or --enrs OUT (- for stdout)');
  if (nodesJsonOut === '-' && enrsOut === '-')
    throw new UsageError('--nodes-json and --enrs cannot both write to stdout');
  const filter = nodeFilterOf(v);
  const target = (v.db as string | undefined) ?? DEFAULT_CRAWL_DB;
  // Reading must not create an empty database where the user mistyped a path.
  if (!isPostgresUrl(target) && !existsSync(target)) throw new UsageError(`no crawl database at ${target}`);
  const db: CrawlDb = await openCrawlDb(target, {
    onReport: (r) =>
      out.log(`${r.kind} database ${r.path}: ${r.detail}${'movedTo' in r ? `; moved to ${r.movedTo}` : ''}`),
  });
  try {
    let set: Awaited<ReturnType<typeof selectNodes>>;
    try {
      set = await selectNodes(db, filter);
    } catch (err) {
      // No such crawl (or no finished one): the user's mistake, not a failure.
      if (err instanceof Discv5Error && err.code === ErrorCode.INVALID_ARGUMENT) throw new UsageError(err.message);
      throw err;
    }
    if (nodesJsonOut) write(nodesJsonOut, nodesJsonText(set.nodes), out);
    if (enrsOut) write(enrsOut, enrLines(set.nodes), out);
    out.log(`${set.nodes.length} nodes of ${set.total} in crawl ${set.crawlId} match`);
  } finally {
    await db.close();
  }
}

/** The command as the CLI's command table holds it (`discv5 nodes filter`; no positionals). */
export const NODES_FILTER_COMMAND = {
  usage: NODES_FILTER_USAGE,
  summary: NODES_FILTER_SUMMARY,
  options: NODES_FILTER_OPTIONS,
  run: async (positionals: string[], v: Record<string, unknown>, out: Out): Promise<void> => {
    if (positionals.length > 0) throw new UsageError(`unexpected argument "${positionals[0]}"`);
    return nodesFilterCommand(v, out);
  },
};
