/**
 * `discv5 monitor --every 10m`: crawls again and again (the crawl's options), each crawl a row of
 * the database. Each crawl starts from the seeds plus the nodes that answered in the last finished
 * crawl of this vantage, so a seed that went away does not lose the network. After each crawl it
 * logs the crawl's figures (crawl/figures.ts) and, with `--metrics`, serves them as Prometheus
 * gauges. The crawler identities live across crawls (their sessions make later crawls cheaper).
 * Ctrl-C or SIGTERM ends the crawl under way (recorded as cancelled) and the monitor.
 */
import { answeredRecords, type CrawlFigures, crawlFigures, UPTIME_WINDOW } from '../../crawl/figures.js';
import { createCrypto, type Enr, EnrDecoder } from '../../index.js';
import { type MetricsServer, serveMetrics } from '../../metrics/http.js';
import { PrometheusRegistry } from '../../metrics/registry.js';
import type { Gauge } from '../../metrics/types.js';
import type { CrawlDb } from '../../store/crawl-db.js';
import { parseDuration, UsageError } from '../args.js';
import { crawlAndReport, crawlerNodesFor, givenSeeds, interruptible } from './crawl.js';
import { beginRecording, DEFAULT_CRAWL_DB, dbTarget, openForCrawl, vantageOf } from './crawl-db.js';
import type { Out } from './net.js';
import { metricsAt } from './serve.js';

type ByLabel = 'network' | 'fork_digest' | 'client' | 'family';

/** The gauges of the last crawl, each label set the last crawl had; those it no longer has go to 0. */
class CrawlGauges {
  readonly #single: Record<'found' | 'answered' | 'duration' | 'finished' | 'changes' | 'alwaysUp' | 'crawl', Gauge>;
  readonly #by: Record<ByLabel, Gauge>;
  readonly #seen = new Map<string, Set<string>>();

  constructor(registry: PrometheusRegistry) {
    const g = (name: string, help: string, labelNames: string[] = []) => registry.gauge({ name, help, labelNames });
    this.#single = {
      crawl: g('discv5_monitor_last_crawl_id', 'Id of the last finished crawl in the database'),
      found: g('discv5_monitor_nodes_found', 'Nodes found by the last crawl'),
      answered: g('discv5_monitor_nodes_answered', 'Nodes that answered in the last crawl'),
      duration: g('discv5_monitor_crawl_duration_seconds', 'Duration of the last crawl'),
      finished: g('discv5_monitor_crawl_finished_timestamp_seconds', 'When the last crawl ended (Unix time)'),
      changes: g(
        'discv5_monitor_record_changes',
        'Nodes of the last crawl whose record seq changed since the crawl before',
      ),
      alwaysUp: g(
        'discv5_monitor_nodes_always_up',
        `Nodes that answered in every one of the last ${UPTIME_WINDOW} finished crawls (fewer while there are fewer)`,
      ),
    };
    const by = (what: string, label: string) =>
      g(`discv5_monitor_nodes_by_${what}`, `Nodes that answered in the last crawl, per ${label}`, [label]);
    this.#by = {
      network: by('network', 'network'),
      fork_digest: by('fork_digest', 'fork_digest'),
      client: by('client', 'client'),
      family: by('ip_family', 'family'),
    };
  }

  set(f: CrawlFigures): void {
    this.#single.crawl.set({}, f.crawlId);
    this.#single.found.set({}, f.found);
    this.#single.answered.set({}, f.answered);
    this.#single.duration.set({}, f.durationMs / 1000);
    this.#single.finished.set({}, Math.floor(f.finished / 1000));
    this.#single.changes.set({}, f.recordChanges);
    this.#single.alwaysUp.set({}, f.alwaysUp);
    this.#labelled('network', f.byNetwork);
    this.#labelled('fork_digest', f.byForkDigest);
    this.#labelled('client', f.byClient);
    this.#labelled('family', f.byFamily);
  }

  #labelled(label: ByLabel, values: Map<string, number>): void {
    const gauge = this.#by[label];
    const seen = this.#seen.get(label) ?? new Set<string>();
    for (const old of seen) if (!values.has(old)) gauge.set({ [label]: old }, 0);
    for (const [k, n] of values) {
      gauge.set({ [label]: k }, n);
      seen.add(k);
    }
    this.#seen.set(label, seen);
  }
}

function figuresText(f: CrawlFigures): string {
  const top = (m: Map<string, number>, n = 5) =>
    [...m]
      .slice(0, n)
      .map(([k, v]) => `${k} ${v}`)
      .join(', ');
  return [
    `crawl ${f.crawlId}: ${f.found} found, ${f.answered} answered in ${(f.durationMs / 1000).toFixed(1)} s`,
    `${f.alwaysUp} answered in each of the last ${f.windowCrawls} crawls`,
    `${f.recordChanges} record changes`,
    `networks: ${top(f.byNetwork) || '-'}`,
    `clients: ${top(f.byClient) || '-'}`,
  ].join('; ');
}

const hasTrees = (v: Record<string, unknown>) =>
  /enrtree:\/\//.test(String(v.bootnodes ?? '')) || v['bootnodes-file'] !== undefined;

/** Waits `ms`, or less if `signal` fires. */
function pause(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
  });
}

async function lastDone(db: CrawlDb, vantage: string): Promise<number | undefined> {
  const rows = await db.query("SELECT MAX(id) AS id FROM crawls WHERE vantage = ? AND state = 'done'", [vantage]);
  return rows[0]?.id === null || rows[0]?.id === undefined ? undefined : Number(rows[0].id);
}

export async function monitorCommand(v: Record<string, unknown>, out: Out): Promise<void> {
  const everyMs = parseDuration((v.every as string | undefined) ?? '10m', '--every');
  const rounds = v.rounds === undefined ? Number.POSITIVE_INFINITY : Number(v.rounds);
  if (!(Number.isInteger(rounds) || rounds === Number.POSITIVE_INFINITY) || rounds < 1)
    throw new UsageError('--rounds must be a positive integer');
  if (v.resume === true) throw new UsageError('monitor starts a new crawl each time: --resume is for crawl');
  const target = dbTarget(v, DEFAULT_CRAWL_DB);
  if (target === undefined) throw new UsageError('monitor records into a database: drop --no-db');
  const vantage = vantageOf(v);
  const decoder = new EnrDecoder(createCrypto());
  // Resolved now, to fail early on bad seeds; DNS trees again before each crawl (lists change).
  let given = await givenSeeds(v, decoder, out, { required: true });
  const db = await openForCrawl(target, out);
  const registry = v.metrics === undefined ? undefined : new PrometheusRegistry();
  const gauges = registry === undefined ? undefined : new CrawlGauges(registry);
  let metrics: MetricsServer | undefined;
  const interrupt = interruptible(out, 'ending the crawl under way and the monitor');
  try {
    const nodes = await crawlerNodesFor(v);
    try {
      if (registry !== undefined) {
        metrics = await serveMetrics(registry, metricsAt(String(v.metrics)));
        out.log(`metrics at ${metrics.url}`);
      }
      const last = await lastDone(db, vantage);
      if (last !== undefined) {
        const f = await crawlFigures(db, last);
        if (f !== undefined) gauges?.set(f);
      }
      for (let round = 1; round <= rounds && !interrupt.signal.aborted; round++) {
        const started = Date.now();
        if (round > 1 && hasTrees(v))
          given = await givenSeeds(v, decoder, out, { required: true, signal: interrupt.signal });
        const previous = await lastDone(db, vantage);
        const known =
          previous === undefined
            ? []
            : decoder.decodeBatch(await answeredRecords(db, previous)).filter((r): r is Enr => !(r instanceof Error));
        const recording = await beginRecording(db, v, given, decoder, out);
        out.log(
          `crawl ${recording.recorder.crawlId}: from ${given.length} seeds and ${known.length} nodes that answered last time`,
        );
        const result = await crawlAndReport(nodes, given, v, out, { signal: interrupt.signal, recording, known });
        out.line(result.text);
        const f = await crawlFigures(db, recording.recorder.crawlId);
        if (f !== undefined) {
          if (result.summary.stop !== 'aborted') gauges?.set(f);
          out.line(figuresText(f));
        }
        if (round < rounds) await pause(Math.max(0, everyMs - (Date.now() - started)), interrupt.signal);
      }
      process.exitCode = interrupt.exitCode() ?? process.exitCode;
    } finally {
      await metrics?.close();
      await Promise.all(nodes.map((n) => n.stop()));
    }
  } finally {
    interrupt.dispose();
    await db.close();
  }
}
