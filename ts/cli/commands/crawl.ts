/** `discv5 crawl`: enumerates a whole network and writes what it found. */
import { createWriteStream, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type CrawledNode, type CrawlSummary, crawl } from '../../crawl/crawler.js';
import { crawlerNodes } from '../../crawl/identities.js';
import { forkDigestOf, gethNodesJson, nodeJson, summaryText } from '../../crawl/output.js';
import { resolveTree } from '../../dns/resolve.js';
import { createCrypto, type Discv5, Discv5Error, type Enr, EnrDecoder } from '../../index.js';
import { parseHostPort, splitList, UsageError } from '../args.js';
import { beginRecording, DEFAULT_CRAWL_DB, dbTarget, openForCrawl, type Recording } from './crawl-db.js';
import type { Out } from './net.js';

const NETWORKS = ['mainnet', 'sepolia', 'holesky', 'hoodi'];

function bundledBootnodes(network: string): string[] {
  // data/ sits beside dist/ in the package, and beside ts/ in a checkout.
  for (const up of ['../data/bootnodes.json', '../../../data/bootnodes.json']) {
    try {
      const doc = JSON.parse(readFileSync(resolve(dirname(fileURLToPath(import.meta.url)), up), 'utf8'));
      return doc.networks[network] ?? [];
    } catch {}
  }
  throw new UsageError('bundled bootnode data not found');
}

function seedTexts(v: Record<string, unknown>): string[] {
  const seeds: string[] = [];
  seeds.push(...splitList(v.bootnodes as string | undefined));
  if (v['bootnodes-file']) {
    const text = readFileSync(v['bootnodes-file'] as string, 'utf8');
    seeds.push(...text.split(/\s+/).filter((s) => s.startsWith('enr:') || s.startsWith('enrtree://')));
  }
  if (v.network) {
    if (!NETWORKS.includes(v.network as string))
      throw new UsageError(`--network must be one of ${NETWORKS.join(', ')}`);
    seeds.push(...bundledBootnodes(v.network as string));
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
 * Crawls from `seeds` with `asker`, writing the outputs `v` names and recording into the database
 * (`recording`) as it goes; returns the summary and its text. An aborted crawl is recorded as cancelled.
 */
export async function crawlAndReport(
  asker: Discv5 | Discv5[],
  seeds: Enr[],
  v: Record<string, unknown>,
  out: Out,
  extra: { signal?: AbortSignal; recording?: Recording; known?: Enr[] } = {},
): Promise<{ text: string; summary: CrawlSummary }> {
  const forkFilter = (v['fork-digest'] as string | undefined)?.replace(/^0x/, '').toLowerCase();
  const concurrency = v.concurrency === undefined ? 512 : Number(v.concurrency);
  if (!Number.isInteger(concurrency) || concurrency < 1)
    throw new UsageError('--concurrency must be a positive integer');
  const limit = (flag: string): number | undefined => {
    if (v[flag] === undefined) return undefined;
    const n = Number(v[flag]);
    if (!Number.isInteger(n) || n < 1) throw new UsageError(`--${flag} must be a positive integer`);
    return n;
  };
  // --max-nodes and --max-nodes-per-ip, when the command line declares them (crawl defaults otherwise).
  const maxNodes = limit('max-nodes');
  const maxNodesPerIp = limit('max-nodes-per-ip');
  const mode = (v.mode as string | undefined) ?? 'full';
  if (mode !== 'full' && mode !== 'fast') throw new UsageError('--mode must be full or fast');
  const timeoutMs = v.timeout === undefined ? undefined : Number(v.timeout) * 1000;
  if (timeoutMs !== undefined && !(timeoutMs > 0)) throw new UsageError('--timeout must be a number of seconds');
  const ndjson = v.out ? createWriteStream(v.out as string) : undefined;
  const reported: CrawledNode[] = [];
  const isReported = new Set<CrawledNode>();
  const finished = new Set<CrawledNode>();
  let done = 0;
  const started = performance.now();
  const progress = () => {
    const s = (performance.now() - started) / 1000;
    return `${done} nodes crawled, ${reported.length} reported, ${s.toFixed(0)} s, ${Math.round(done / Math.max(s, 0.001))} nodes/s`;
  };
  const tty = process.stderr.isTTY === true;
  const ticker = setInterval(
    () => (tty ? process.stderr.write(`\r${progress()}   `) : out.log(progress())),
    tty ? 250 : 5_000,
  );
  ticker.unref();
  const recorder = extra.recording?.recorder;
  let summary: CrawlSummary;
  try {
    summary = await crawl(asker, seeds, {
      concurrency,
      mode,
      ...(extra.signal === undefined ? {} : { signal: extra.signal }),
      ...(extra.recording?.resume !== undefined
        ? { resume: extra.recording.resume }
        : extra.known !== undefined
          ? { resume: { visited: new Set<string>(), pending: extra.known } }
          : {}),
      ...(recorder === undefined ? {} : { onFound: (enr: Enr) => recorder.found(enr) }),
      ...(timeoutMs === undefined ? {} : { timeoutMs }),
      ...(maxNodes === undefined ? {} : { maxNodes }),
      ...(maxNodesPerIp === undefined ? {} : { maxNodesPerIp }),
      onNode: (node) => {
        done++;
        finished.add(node);
        recorder?.visited(node);
        if (forkFilter !== undefined && forkDigestOf(node) !== forkFilter) return;
        reported.push(node);
        isReported.add(node);
        ndjson?.write(`${JSON.stringify(nodeJson(node))}\n`);
      },
    });
  } catch (err) {
    clearInterval(ticker);
    await recorder?.finish('failed').catch(() => {});
    throw err;
  }
  clearInterval(ticker);
  if (tty) process.stderr.write('\n');
  // Nodes still under way when a timeout hit are reported (and recorded) too; those of a cancelled
  // crawl are not recorded, so that --resume visits them again.
  for (const n of summary.nodes) {
    if (!finished.has(n) && summary.stop === 'timeout') recorder?.visited(n);
    if (!isReported.has(n) && (forkFilter === undefined || forkDigestOf(n) === forkFilter) && done < summary.found) {
      reported.push(n);
      ndjson?.write(`${JSON.stringify(nodeJson(n))}\n`);
    }
  }
  if (ndjson) await new Promise<void>((r) => ndjson.end(() => r()));
  if (v['nodes-json'])
    writeFileSync(v['nodes-json'] as string, `${JSON.stringify(gethNodesJson(reported), null, 2)}\n`);
  let text = summaryText(summary, reported);
  if (recorder !== undefined) {
    const info = await recorder.finish(summary.stop === 'aborted' ? 'cancelled' : 'done');
    const share = (100 * recorder.busyMs) / Math.max(summary.durationMs, 1);
    text += `\nrecorded as crawl ${info.id} (${info.state}): ${info.found} nodes, ${info.answered} answered; recording took ${Math.round(recorder.busyMs)} ms of the crawl's thread (${share.toFixed(1)}% of its time)`;
    if (recorder.dropped > 0) text += `; ${recorder.dropped} rows dropped (the database could not keep up)`;
  }
  return { text, summary };
}

/** A DNS tree's whole walk is bounded by this (each lookup by 5 s): a tree that answers slowly cannot hold the crawl. */
const DNS_TREE_TIMEOUT_MS = 120_000;

/**
 * The seed records the options name (decoded; invalid ones dropped), EIP-1459 DNS trees
 * (`enrtree://KEY@domain` among the bootnodes) resolved through `--dns-server IP[:PORT]` or the
 * system's resolvers. Throws a UsageError if no valid record results, or a tree's root cannot be
 * had or is not signed by its key.
 */
export async function givenSeeds(
  v: Record<string, unknown>,
  decoder: EnrDecoder,
  out: Out,
  options: { required: boolean; signal?: AbortSignal },
): Promise<Enr[]> {
  const texts = seedTexts(v);
  if (texts.length === 0 && options.required)
    throw new UsageError('no seeds: give --bootnodes, --bootnodes-file, --network or --reseed (or --resume)');
  const records = texts.filter((t) => !t.startsWith('enrtree://'));
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
  if (given.length === 0 && texts.length > 0) throw new UsageError('none of the seed records is valid');
  return given;
}

/** The crawler identities `--identities` and `--bind` ask for (identity i binds port + i when a port is given). */
export function crawlerNodesFor(v: Record<string, unknown>): Promise<Discv5[]> {
  const at = v.bind === undefined ? { ip: '0.0.0.0', port: 0 } : parseHostPort(v.bind as string, '--bind');
  return crawlerNodes(identitiesOf(v), (i) => {
    const bind = { ip: at.ip, port: at.port === 0 ? 0 : at.port + i };
    return { bind: at.ip.includes(':') ? { ip6: bind } : { ip4: bind } };
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

export async function crawlCommand(v: Record<string, unknown>, out: Out): Promise<void> {
  const target = dbTarget(v, DEFAULT_CRAWL_DB);
  const decoder = new EnrDecoder(createCrypto());
  const given = await givenSeeds(v, decoder, out, { required: v.resume !== true });
  const db = target === undefined ? undefined : await openForCrawl(target, out);
  try {
    const recording = db === undefined ? undefined : await beginRecording(db, v, given, decoder, out);
    const seeds = [...(recording?.resume?.seeds ?? []), ...given];
    const nodes = await crawlerNodesFor(v).catch(async (err: unknown) => {
      await recording?.recorder.finish('failed').catch(() => {});
      throw err;
    });
    const interrupt = interruptible(out, `ending the crawl${recording ? ', recording what was visited' : ''}`);
    try {
      const extra = { signal: interrupt.signal, ...(recording === undefined ? {} : { recording }) };
      out.line((await crawlAndReport(nodes, seeds, v, out, extra)).text);
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
