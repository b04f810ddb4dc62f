/**
 * The crawls of one `discv5 crawl`: one per protocol (discv5, discv4), run at the same time on the
 * same identities and sockets, writing into one NDJSON file (an object per node and protocol), one
 * nodes.json (a node once, whichever protocols saw it), one crawl of the database, and a summary
 * per protocol.
 */
import { createWriteStream, writeFileSync } from 'node:fs';
import { type CrawlAsker, type CrawledNode, type CrawlSummary, crawl } from '../../crawl/crawler.js';
import {
  forkDigestOf,
  type GethEntry,
  gethEntry,
  mergeGethEntries,
  nodeJson,
  summaryText,
} from '../../crawl/output.js';
import type { V4Node } from '../../discv4/node.js';
import type { Enr } from '../../enr/enr.js';
import type { CrawlProtocol } from '../../store/crawl-schema.js';
import { UsageError } from '../args.js';
import type { Recording } from './crawl-db.js';
import type { Out } from './net.js';

/** One protocol's crawl: who asks, from where, and how its nodes are written. */
export interface CrawlJob<R extends Enr | V4Node> {
  protocol: CrawlProtocol;
  askers: CrawlAsker<R> | readonly CrawlAsker<R>[];
  seeds: R[];
  /** What an earlier crawl did: its visited nodes are not asked again. */
  resume?: { visited: ReadonlySet<string>; pending: readonly R[] };
  json(node: CrawledNode<R>): Record<string, unknown>;
  /** Whether a node is reported (written); every node is recorded. */
  keep(node: CrawledNode<R>): boolean;
  text(summary: CrawlSummary<R>, reported: CrawledNode<R>[]): string;
  /** Its nodes.json entry, keyed by node id. */
  geth(node: CrawledNode<R>): [string, GethEntry];
  /** Crawl options of its own (`concurrency`: its default when --concurrency is not given). */
  options?: { askRecords?: boolean; concurrency?: number };
}

export type AnyJob = CrawlJob<Enr> | CrawlJob<V4Node>;

/** A job's outcome. */
export interface JobResult<R extends Enr | V4Node = Enr | V4Node> {
  protocol: CrawlProtocol;
  summary: CrawlSummary<R>;
  reported: CrawledNode<R>[];
}

/** A discv5 crawl with `askers`, reporting the nodes whose fork digest is `forkDigest` (hex), if given. */
export function v5Job(
  askers: CrawlAsker<Enr> | readonly CrawlAsker<Enr>[],
  seeds: Enr[],
  forkDigest: string | undefined,
  resume?: { visited: ReadonlySet<string>; pending: readonly Enr[] },
): CrawlJob<Enr> {
  return {
    protocol: 'v5',
    askers,
    seeds,
    ...(resume === undefined ? {} : { resume }),
    json: nodeJson,
    keep: (n) => forkDigest === undefined || forkDigestOf(n) === forkDigest,
    text: (s, reported) => summaryText(s, reported),
    geth: (n) => [n.enr.nodeIdHex, gethEntry(n, n.enr.text, n.enr.seq)],
  };
}

/** The crawl options of the command line, checked (each a UsageError when wrong). */
function crawlSettings(v: Record<string, unknown>) {
  // Undefined when not given: each job then takes its own default (crawlOptions).
  const concurrency = v.concurrency === undefined ? undefined : Number(v.concurrency);
  if (concurrency !== undefined && (!Number.isInteger(concurrency) || concurrency < 1))
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
  return {
    ...(concurrency === undefined ? {} : { concurrency }),
    mode: mode as 'full' | 'fast',
    ...(timeoutMs === undefined ? {} : { timeoutMs }),
    ...(maxNodes === undefined ? {} : { maxNodes }),
    ...(maxNodesPerIp === undefined ? {} : { maxNodesPerIp }),
  };
}

/** Shared by the jobs of one run: the NDJSON stream, the recorder, the progress count. */
interface Common {
  settings: ReturnType<typeof crawlSettings>;
  signal: AbortSignal | undefined;
  recording: Recording | undefined;
  write: ((line: string) => void) | undefined;
  progress: { done: number; reported: number };
}

async function runJob<R extends Enr | V4Node>(job: CrawlJob<R>, c: Common): Promise<JobResult<R>> {
  const reported: CrawledNode<R>[] = [];
  const isReported = new Set<CrawledNode<R>>();
  const finished = new Set<CrawledNode<R>>();
  const recorder = c.recording?.recorder;
  const report = (node: CrawledNode<R>) => {
    reported.push(node);
    isReported.add(node);
    c.progress.reported++;
    c.write?.(`${JSON.stringify(job.json(node))}\n`);
  };
  const summary = await crawl<R>(job.askers, job.seeds, {
    ...job.options,
    ...c.settings,
    ...(c.signal === undefined ? {} : { signal: c.signal }),
    ...(job.resume === undefined ? {} : { resume: job.resume }),
    ...(recorder === undefined ? {} : { onFound: (r: R) => recorder.found(r) }),
    onNode: (node) => {
      c.progress.done++;
      finished.add(node);
      recorder?.visited(node);
      if (job.keep(node)) report(node);
    },
  });
  // Nodes still under way when a timeout hit are reported (and recorded) too; those of a cancelled
  // crawl are not recorded, so that --resume visits them again.
  for (const n of summary.nodes) {
    if (finished.has(n)) continue;
    if (summary.stop === 'timeout') recorder?.visited(n);
    if (!isReported.has(n) && job.keep(n)) report(n);
  }
  return { protocol: job.protocol, summary, reported };
}

/**
 * Runs `jobs` at once, writing the outputs `v` names and recording into the database (`recording`)
 * as they go; returns the summary text and each job's result. An aborted crawl is recorded as cancelled.
 */
export async function runCrawls(
  jobs: readonly AnyJob[],
  v: Record<string, unknown>,
  out: Out,
  extra: { signal?: AbortSignal; recording?: Recording } = {},
): Promise<{ text: string; results: JobResult[] }> {
  const settings = crawlSettings(v);
  const ndjson = v.out ? createWriteStream(v.out as string) : undefined;
  const progress = { done: 0, reported: 0 };
  const started = performance.now();
  const line = () => {
    const s = (performance.now() - started) / 1000;
    return `${progress.done} nodes crawled, ${progress.reported} reported, ${s.toFixed(0)} s, ${Math.round(progress.done / Math.max(s, 0.001))} nodes/s`;
  };
  const tty = process.stderr.isTTY === true;
  const ticker = setInterval(() => (tty ? process.stderr.write(`\r${line()}   `) : out.log(line())), tty ? 250 : 5_000);
  ticker.unref();
  const recorder = extra.recording?.recorder;
  const common: Common = {
    settings,
    signal: extra.signal,
    recording: extra.recording,
    write: ndjson === undefined ? undefined : (text) => ndjson.write(text),
    progress,
  };
  const settled = await Promise.allSettled(
    jobs.map((job) =>
      job.protocol === 'v4' ? runJob(job as CrawlJob<V4Node>, common) : runJob(job as CrawlJob<Enr>, common),
    ),
  );
  clearInterval(ticker);
  const failure = settled.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failure !== undefined) {
    ndjson?.end();
    await recorder?.finish('failed').catch(() => {});
    throw failure.reason;
  }
  if (tty) process.stderr.write('\n');
  const results = settled.map((r) => (r as PromiseFulfilledResult<JobResult>).value);
  if (ndjson) await new Promise<void>((r) => ndjson.end(() => r()));
  if (v['nodes-json']) {
    const doc: Record<string, GethEntry> = {};
    results.forEach((r, i) => {
      const job = jobs[i] as CrawlJob<Enr | V4Node>;
      for (const n of r.reported) {
        const [id, e] = job.geth(n);
        const had = doc[id];
        doc[id] = had === undefined ? e : mergeGethEntries(had, e);
      }
    });
    writeFileSync(v['nodes-json'] as string, `${JSON.stringify(doc, null, 2)}\n`);
  }
  const texts = results.map((r, i) => (jobs[i] as CrawlJob<Enr | V4Node>).text(r.summary, r.reported));
  let text =
    jobs.length === 1
      ? (texts[0] as string)
      : texts.flatMap((t, i) => t.split('\n').map((l) => `${results[i]?.protocol}: ${l}`)).join('\n');
  if (recorder !== undefined) {
    const aborted = results.some((r) => r.summary.stop === 'aborted');
    const info = await recorder.finish(aborted ? 'cancelled' : 'done');
    const durationMs = Math.max(1, ...results.map((r) => r.summary.durationMs));
    const share = (100 * recorder.busyMs) / durationMs;
    text += `\nrecorded as crawl ${info.id} (${info.state}): ${info.found} nodes, ${info.answered} answered; recording took ${Math.round(recorder.busyMs)} ms of the crawl's thread (${share.toFixed(1)}% of its time)`;
    if (recorder.dropped > 0) text += `; ${recorder.dropped} rows dropped (the database could not keep up)`;
  }
  return { text, results };
}
