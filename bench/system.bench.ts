/**
 * System benchmarks (`npm run bench:system`): whole processes on UDP loopback, CPU measured per
 * process with `process.cpuUsage`.
 *
 * (a) Inbound handshakes on one node: a server (ours on native, on js, @chainsafe/discv5 11.0.0) in
 *     a process of its own, default settings; fresh client identities (our native nodes, in this
 *     process) each PING it once, which takes a full handshake. Its CPU is read before the first
 *     PING and after the last one has been answered plus 1.5 s, so that the server's follow-up work
 *     for each new peer (ours pings it back after 1 s) is counted too.
 * (b) Crawls: a network of N of our native nodes (`discv5 testnet`'s) in one process; each crawler
 *     in a process of its own finds every node it can from the bootnode. Our crawler runs on native
 *     and on js; the @chainsafe/discv5 crawler runs the same walk and scheduling through its
 *     `sendFindNode` (bench/system-crawler.ts). Each crawler is taken out of the network's tables
 *     when it is done, so that every crawler meets the same network.
 * Writes its section of bench/RESULTS.md and README (not with --quick).
 */
import { cpus } from 'node:os';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createCrypto, Discv5 } from '../ts/index.js';
import { BenchChild } from './child.js';
import { formatOps, replaceSection } from './harness.js';

const quick = process.argv.includes('--quick');
const here = dirname(fileURLToPath(import.meta.url));
const native = createCrypto({ backend: 'native' });
const NAMES: Record<string, string> = { native: 'native', js: 'js', rival: '@chainsafe/discv5' };
const seconds = (ms: number) => `${(ms / 1000).toFixed(ms < 10_000 ? 2 : 1)} s`;

// --- (a) handshakes ------------------------------------------------------------------------------
interface HandshakeRun {
  kind: string;
  completed: number;
  failed: number;
  serverCpuMs: number;
  wallMs: number;
}

async function clients(count: number): Promise<Discv5[]> {
  const nodes: Discv5[] = [];
  for (let i = 0; i < count; i++) {
    const node = await Discv5.create({
      privateKey: native.generatePrivateKey(),
      crypto: native,
      bind: { ip4: { ip: '127.0.0.1', port: 0 } },
      config: { requestTimeoutMs: 10_000, refreshIntervalMs: 0, revalidateNewIntervalMs: 0 },
    });
    await node.start();
    nodes.push(node);
  }
  return nodes;
}

async function handshakes(kind: string, count: number): Promise<HandshakeRun> {
  const server = new BenchChild('system-server.ts', [kind]);
  const text = await server.next();
  const nodes = await clients(count);
  const cpuBefore = Number(await server.ask('cpu'));
  const started = performance.now();
  let completed = 0;
  let failed = 0;
  const concurrency = 64;
  for (let i = 0; i < nodes.length; i += concurrency) {
    const wave = nodes.slice(i, i + concurrency).map((n) => n.ping(text));
    for (const r of await Promise.allSettled(wave)) {
      if (r.status === 'fulfilled') completed++;
      else failed++;
    }
  }
  const wallMs = performance.now() - started;
  await new Promise((r) => setTimeout(r, 1_500));
  const serverCpuMs = Number(await server.ask('cpu')) - cpuBefore;
  await server.end();
  await Promise.all(nodes.map((n) => n.stop()));
  return { kind, completed, failed, serverCpuMs, wallMs };
}

// --- (b) crawls ----------------------------------------------------------------------------------
interface CrawlRun {
  size: number;
  kind: string;
  found: number;
  answered: number;
  requests: number;
  datagrams: number;
  wallMs: number;
  cpuMs: number;
}

interface CrawlerReport {
  nodeId: string;
  found: string[];
  answered: number;
  requests: number;
  wallMs: number;
  cpuMs: number;
}

/** Datagrams the whole network has received so far. */
async function datagramsOf(network: BenchChild): Promise<number> {
  return (JSON.parse(await network.ask('metrics')) as Record<string, number>)['in.datagrams'] ?? 0;
}

async function crawls(size: number, kinds: string[]): Promise<CrawlRun[]> {
  const started = performance.now();
  const network = new BenchChild('system-network.ts', [String(size)], { DISCV5_BACKEND: 'native' });
  const { boot, ids } = JSON.parse(await network.next()) as { boot: string; ids: string[] };
  console.log(`network of ${size}: ready in ${seconds(performance.now() - started)}`);
  const members = new Set(ids);
  const runs: CrawlRun[] = [];
  for (const kind of kinds) {
    // Ours three times, the median by CPU kept (this machine's neighbours make single runs vary);
    // the @chainsafe/discv5 crawler once, as it takes minutes.
    const tries: CrawlRun[] = [];
    for (let i = 0; i < (kind === 'rival' ? 1 : 3); i++) {
      const datagramsBefore = await datagramsOf(network);
      const crawler = new BenchChild('system-crawler.ts', [kind, boot], {
        DISCV5_BACKEND: kind === 'rival' ? 'native' : kind,
      });
      const report = JSON.parse(await crawler.next()) as CrawlerReport;
      await crawler.end();
      const datagrams = (await datagramsOf(network)) - datagramsBefore;
      await network.ask(`remove ${report.nodeId}`);
      const run: CrawlRun = {
        size,
        kind,
        found: report.found.filter((id) => members.has(id)).length,
        answered: report.answered,
        requests: report.requests,
        datagrams,
        wallMs: report.wallMs,
        cpuMs: report.cpuMs,
      };
      tries.push(run);
      console.log(
        `  ${NAMES[kind]}: found ${run.found}/${size} in ${seconds(run.wallMs)}, ${seconds(run.cpuMs)} CPU, ${run.requests} requests, ${run.datagrams} datagrams to the network`,
      );
    }
    runs.push(tries.sort((a, b) => a.cpuMs - b.cpuMs)[tries.length >> 1] as CrawlRun);
  }
  await network.end();
  return runs;
}

// --- run -----------------------------------------------------------------------------------------
const hsPlan: [string, number][] = quick
  ? [
      ['native', 500],
      ['js', 60],
      ['rival', 40],
    ]
  : [
      ['native', 3_000],
      ['js', 300],
      ['rival', 200],
    ];
const hsRuns: HandshakeRun[] = [];
for (const [kind, count] of hsPlan) {
  const r = await handshakes(kind, count);
  hsRuns.push(r);
  console.log(
    `handshakes, ${NAMES[kind]} server: ${r.completed} in ${seconds(r.wallMs)}, ${formatOps((r.completed * 1000) / r.serverCpuMs)} per second of server CPU`,
  );
}

const sizes = quick ? [200] : [1_000, 5_000];
const crawlRuns: CrawlRun[] = [];
for (const size of sizes) crawlRuns.push(...(await crawls(size, ['native', 'js', 'rival'])));

// --- report --------------------------------------------------------------------------------------
const hsRate = (r: HandshakeRun) => (r.completed * 1000) / r.serverCpuMs;
const hsRival = hsRuns.find((r) => r.kind === 'rival') as HandshakeRun;
const hsTable = [
  '| server | handshakes | server CPU | per second of server CPU | server CPU per handshake | per second of wall time | vs @chainsafe/discv5 |',
  '| --- | ---: | ---: | ---: | ---: | ---: | ---: |',
  ...hsRuns.map(
    (r) =>
      `| ${NAMES[r.kind]} | ${r.completed}${r.failed > 0 ? ` (${r.failed} failed)` : ''} | ${seconds(r.serverCpuMs)} | ${formatOps(hsRate(r))} | ${(r.serverCpuMs / r.completed).toFixed(2)} ms | ${formatOps((r.completed * 1000) / r.wallMs)} | ${(hsRate(r) / hsRate(hsRival)).toFixed(1)}x |`,
  ),
].join('\n');

const rivalOf = (r: CrawlRun) => crawlRuns.find((x) => x.size === r.size && x.kind === 'rival') as CrawlRun;
const crawlTable = [
  '| network | crawler | nodes found | requests | datagrams to the network | time | crawler CPU | time vs @chainsafe/discv5 | CPU vs @chainsafe/discv5 |',
  '| ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
  ...crawlRuns.map(
    (r) =>
      `| ${r.size} | ${NAMES[r.kind]} | ${r.found} of ${r.size} | ${r.requests} | ${r.datagrams} | ${seconds(r.wallMs)} | ${seconds(r.cpuMs)} | ${(rivalOf(r).wallMs / r.wallMs).toFixed(1)}x | ${(rivalOf(r).cpuMs / r.cpuMs).toFixed(1)}x |`,
  ),
].join('\n');

function verdict(kind: string, target: number): string {
  const lines = crawlRuns
    .filter((r) => r.kind === kind)
    .map((r) => {
      const rival = rivalOf(r);
      const time = rival.wallMs / r.wallMs;
      const cpu = rival.cpuMs / r.cpuMs;
      const met = time >= target && cpu >= target && r.found === r.size;
      return `${r.size} nodes: ${met ? 'met' : 'NOT met'} (${time.toFixed(1)}x the time, ${cpu.toFixed(1)}x the CPU, ${r.found} of ${r.size} found)`;
    });
  return `- ${NAMES[kind]} crawler at least ${target}x faster than the @chainsafe/discv5 crawler, in time and in CPU: ${lines.join('; ')}`;
}
const verdicts = [verdict('native', 10), verdict('js', 2)].join('\n');
const body = `Inbound handshakes on one node (UDP loopback; the clients are native nodes in another process):

${hsTable}

Crawling a local network of our native nodes (in a process of its own) from its bootnode, each crawler in a process of its own; time and CPU are the crawl's alone:

${crawlTable}

${verdicts}`;
const section = `Run on ${new Date().toISOString().slice(0, 10)}: ${cpus()[0]?.model ?? 'unknown CPU'} (${cpus().length} cores), Node ${process.version}.

${body}`;
if (!quick) {
  replaceSection(resolve(here, 'RESULTS.md'), 'bench:system', section);
  replaceSection(resolve(here, '../README.md'), 'bench:system', body);
}
console.log(`\n${section}`);
process.exit(0);
