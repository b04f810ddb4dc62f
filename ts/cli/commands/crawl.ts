/** `discv5 crawl`: enumerates a whole network and writes what it found (discv5, discv4, or both at once). */
import { readFileSync } from 'node:fs';
import os from 'node:os';
import type { CrawlSummary } from '../../crawl/crawler.js';
import { crawlerNodes } from '../../crawl/identities.js';
import type { Crypto } from '../../crypto/crypto.js';
import type { V4Node } from '../../discv4/node.js';
import { resolveTree } from '../../dns/resolve.js';
import { createCrypto, type Discv5, Discv5Error, type Enr, EnrDecoder } from '../../index.js';
import type { CrawlProtocol } from '../../store/crawl-schema.js';
import { parseHostPort, splitList, UsageError } from '../args.js';
import { consensusBootnodes, executionBootnodes, networkName } from '../bootnodes.js';
import { beginRecording, DEFAULT_CRAWL_DB, dbTarget, openForCrawl, type Recording } from './crawl-db.js';
import { type AnyJob, runCrawls, v5Job } from './crawl-run.js';
import { protocolsOf, v4Job, v4NodesOf, v4NodesOfTexts } from './crawl-v4.js';
import type { Out } from './net.js';

const SEED_PREFIXES = ['enr:', 'enrtree://', 'enode://'];

/**
 * The seeds the options name, as text: `--bootnodes`, the words of `--bootnodes-file` that are
 * records, DNS trees or enode URLs, `--network`'s bootnodes (the consensus layer's records for
 * discv5, go-ethereum's execution-layer enode URLs for discv4) and `--reseed`'s records.
 */
function seedTexts(v: Record<string, unknown>, protocols: readonly CrawlProtocol[]): string[] {
  const seeds: string[] = [];
  seeds.push(...splitList(v.bootnodes as string | undefined));
  if (v['bootnodes-file']) {
    const text = readFileSync(v['bootnodes-file'] as string, 'utf8');
    seeds.push(...text.split(/\s+/).filter((s) => SEED_PREFIXES.some((p) => s.startsWith(p))));
  }
  if (v.network) {
    const network = networkName(v.network as string);
    if (protocols.includes('v5')) seeds.push(...consensusBootnodes(network));
    if (protocols.includes('v4')) seeds.push(...executionBootnodes(network));
  }
  if (v.reseed) {
    const doc = JSON.parse(readFileSync(v.reseed as string, 'utf8')) as Record<string, { record?: string }>;
    seeds.push(
      ...Object.values(doc)
        .map((n) => n.record)
        .filter((r): r is string => typeof r === 'string'),
    );
  }
  return seeds;
}

/**
 * Crawls from `seeds` with `asker` (discv5), writing the outputs `v` names and recording into the
 * database (`recording`) as it goes; returns the summary and its text. An aborted crawl is recorded
 * as cancelled. `known` records are followed as if found (a monitor's nodes of the last crawl).
 */
export async function crawlAndReport(
  asker: Discv5 | Discv5[],
  seeds: Enr[],
  v: Record<string, unknown>,
  out: Out,
  extra: { signal?: AbortSignal; recording?: Recording; known?: Enr[] } = {},
): Promise<{ text: string; summary: CrawlSummary }> {
  const resume =
    extra.recording?.resume !== undefined
      ? extra.recording.resume
      : extra.known !== undefined
        ? { visited: new Set<string>(), pending: extra.known }
        : undefined;
  const job = v5Job(asker, seeds, forkFilterOf(v), resume);
  const { text, results } = await runCrawls([job], v, out, {
    ...(extra.signal === undefined ? {} : { signal: extra.signal }),
    ...(extra.recording === undefined ? {} : { recording: extra.recording }),
  });
  return { text, summary: results[0]?.summary as CrawlSummary };
}

/** --fork-digest: the digest whose discv5 nodes are reported (hex, lowercase, no 0x). */
function forkFilterOf(v: Record<string, unknown>): string | undefined {
  return (v['fork-digest'] as string | undefined)?.replace(/^0x/, '').toLowerCase();
}

/** A DNS tree's whole walk is bounded by this (each lookup by 5 s): a tree that answers slowly cannot hold the crawl. */
const DNS_TREE_TIMEOUT_MS = 120_000;

/**
 * The seed records the options name (decoded; invalid ones dropped), EIP-1459 DNS trees
 * (`enrtree://KEY@domain` among the bootnodes) resolved through `--dns-server IP[:PORT]` or the
 * system's resolvers, and (for discv4) the enode URLs among them. Throws a UsageError if no valid
 * seed results, or a tree's root cannot be had or is not signed by its key.
 */
export async function givenSeedSet(
  v: Record<string, unknown>,
  decoder: EnrDecoder,
  out: Out,
  options: { required: boolean; signal?: AbortSignal; protocols?: readonly CrawlProtocol[] },
): Promise<{ records: Enr[]; enodes: string[] }> {
  const texts = seedTexts(v, options.protocols ?? ['v5']);
  if (texts.length === 0 && options.required)
    throw new UsageError('no seeds: give --bootnodes, --bootnodes-file, --network or --reseed (or --resume)');
  const enodes = texts.filter((t) => t.startsWith('enode://'));
  const records = texts.filter((t) => !t.startsWith('enrtree://') && !t.startsWith('enode://'));
  const given = decoder.decodeBatch(records).filter((r): r is Enr => !(r instanceof Error));
  for (const url of texts.filter((t) => t.startsWith('enrtree://'))) {
    const signal = AbortSignal.any([
      AbortSignal.timeout(DNS_TREE_TIMEOUT_MS),
      ...(options.signal === undefined ? [] : [options.signal]),
    ]);
    try {
      const tree = await resolveTree(url, {
        signal,
        ...(v['dns-server'] === undefined ? {} : { server: v['dns-server'] as string }),
      });
      given.push(...tree.records);
      out.log(
        `${url.slice(0, 60)}: ${tree.records.length} records (seq ${tree.seq})${tree.errors.length > 0 ? `; ${tree.errors.length} entries skipped, first: ${tree.errors[0]}` : ''}`,
      );
    } catch (err) {
      const code = err instanceof Discv5Error ? ` (${err.code})` : '';
      throw new UsageError(`cannot resolve ${url}: ${(err as Error).message}${code}`);
    }
  }
  if (given.length === 0 && enodes.length === 0 && texts.length > 0)
    throw new UsageError('none of the seed records is valid');
  return { records: given, enodes };
}

/** The discv5 seed records the options name (see `givenSeedSet`; enode URLs are discv4's and left out). */
export async function givenSeeds(
  v: Record<string, unknown>,
  decoder: EnrDecoder,
  out: Out,
  options: { required: boolean; signal?: AbortSignal },
): Promise<Enr[]> {
  const { records, enodes } = await givenSeedSet(v, decoder, out, options);
  if (records.length === 0 && enodes.length > 0)
    throw new UsageError('enode:// URLs seed discv4 only: give records (enr:) to crawl discv5');
  return records;
}

/**
 * The crawler identities `--identities` and `--bind` ask for (identity i binds port + i when a port
 * is given); with `discv4`, each serves discv4 too on the same socket and key.
 */
export function crawlerNodesFor(v: Record<string, unknown>, options: { discv4?: boolean } = {}): Promise<Discv5[]> {
  const at = v.bind === undefined ? { ip: '0.0.0.0', port: 0 } : parseHostPort(v.bind as string, '--bind');
  return crawlerNodes(identitiesOf(v), (i) => {
    const bind = { ip: at.ip, port: at.port === 0 ? 0 : at.port + i };
    return { bind: at.ip.includes(':') ? { ip6: bind } : { ip4: bind }, discv4: options.discv4 === true };
  });
}

/**
 * Ctrl-C or SIGTERM ends the work under way through `signal` (a crawl then records what it visited
 * and is marked cancelled); a second signal does not wait for that (the next run marks the crawl
 * failed). `exitCode()` is 128 + the signal's number once one came.
 */
export function interruptible(
  out: Out,
  what: string,
): { signal: AbortSignal; exitCode(): number | undefined; dispose(): void } {
  const controller = new AbortController();
  let interrupted: NodeJS.Signals | undefined;
  const code = (s: NodeJS.Signals) => 128 + (os.constants.signals[s] ?? 0);
  const onSignal = (signal: NodeJS.Signals) => {
    if (interrupted !== undefined) process.exit(code(signal));
    interrupted = signal;
    out.log(`${signal}: ${what}`);
    controller.abort();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  return {
    signal: controller.signal,
    exitCode: () => (interrupted === undefined ? undefined : code(interrupted)),
    dispose: () => {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    },
  };
}

/** The seeds of each protocol: records for discv5; enode URLs and records' UDP endpoints for discv4. */
function seedsOf(
  protocols: readonly CrawlProtocol[],
  crypto: Crypto,
  given: { records: Enr[]; enodes: string[] },
  resumed: Recording['resume'],
  out: Out,
): { v5: Enr[]; v4: V4Node[] } {
  const v5 = protocols.includes('v5') ? [...(resumed?.seeds ?? []), ...given.records] : [];
  const v4 = protocols.includes('v4')
    ? v4NodesOf(crypto, [...(resumed?.seedTexts ?? []), ...given.enodes], [...(resumed?.seeds ?? []), ...given.records])
    : [];
  const resuming = resumed !== undefined;
  if (protocols.includes('v5') && v5.length === 0 && !resuming) {
    if (protocols.length === 1)
      throw new UsageError(
        'enode:// URLs seed discv4 only: give records (enr:) to crawl discv5, or crawl with --discv4',
      );
    out.log('no discv5 seeds (enode:// URLs seed discv4 only): the discv5 crawl has nothing to start from');
  }
  if (protocols.includes('v4') && v4.length === 0 && !resuming) {
    if (protocols.length === 1)
      throw new UsageError('no discv4 seeds: give enode:// URLs or records with a UDP endpoint');
    out.log('no discv4 seeds (no enode:// URL, no record with a UDP endpoint)');
  }
  return { v5, v4 };
}

export async function crawlCommand(v: Record<string, unknown>, out: Out): Promise<void> {
  const target = dbTarget(v, DEFAULT_CRAWL_DB);
  const crypto = createCrypto();
  const decoder = new EnrDecoder(crypto);
  let protocols = protocolsOf(v);
  const given = await givenSeedSet(v, decoder, out, { required: v.resume !== true, protocols });
  const db = target === undefined ? undefined : await openForCrawl(target, out);
  try {
    const seedList = [...given.records, ...given.enodes];
    const recording = db === undefined ? undefined : await beginRecording(db, v, seedList, decoder, out);
    const resumed = recording?.resume;
    // A resumed crawl goes on with the protocols it was started with.
    if (resumed !== undefined) protocols = protocolsOf(resumed.options);
    const seeds = seedsOf(protocols, crypto, given, resumed, out);
    const discv4 = protocols.includes('v4');
    const nodes = await crawlerNodesFor(v, { discv4 }).catch(async (err: unknown) => {
      await recording?.recorder.finish('failed').catch(() => {});
      throw err;
    });
    const interrupt = interruptible(out, `ending the crawl${recording ? ', recording what was visited' : ''}`);
    try {
      const jobs: AnyJob[] = [];
      if (protocols.includes('v5')) jobs.push(v5Job(nodes, seeds.v5, forkFilterOf(v), resumed));
      if (discv4) {
        const pending = resumed === undefined ? undefined : v4NodesOfTexts(crypto, resumed.v4.pending);
        const resume = resumed === undefined ? undefined : { visited: resumed.v4.visited, pending: pending ?? [] };
        jobs.push(v4Job(nodes, crypto, seeds.v4, resume));
      }
      const extra = { signal: interrupt.signal, ...(recording === undefined ? {} : { recording }) };
      out.line((await runCrawls(jobs, v, out, extra)).text);
      process.exitCode = interrupt.exitCode() ?? process.exitCode;
    } finally {
      interrupt.dispose();
      await Promise.all(nodes.map((n) => n.stop()));
    }
  } finally {
    await db?.close();
  }
}

/** --identities: crawler identities, 1..64 (default 1). */
export function identitiesOf(v: Record<string, unknown>): number {
  const n = v.identities === undefined ? 1 : Number(v.identities);
  if (!Number.isInteger(n) || n < 1 || n > 64) throw new UsageError('--identities must be an integer 1..64');
  return n;
}
