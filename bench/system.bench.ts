/**
 * System benchmarks (`npm run bench:system`): whole processes on UDP loopback, CPU measured per
 * process with `process.cpuUsage`.
 *
 * (a) Inbound handshakes on one node: a server (ours on native, on js, @chainsafe/discv5 11.0.0) in
 *     a process of its own, default settings; fresh client identities (our native nodes, in this
 *     process) each PING it once, which takes a full handshake. Its CPU is read before the first
 *     PING and after the last one has been answered plus 1.5 s, so that the server's follow-up work
 *     for each new peer (ours pings it back after 1 s) is counted too.
 * (b) Crawls: a prefilled network of N of our native nodes (`discv5 testnet --prefill`, clean,
 *     realistic, or rate-limited) in one process; each crawler in a process of its own finds every
 *     node it can from the bootnode. Our crawler runs on native (full and fast mode, 1 and 4
 *     identities) and on js; the @chainsafe/discv5 crawler runs the same walk and scheduling
 *     through its `sendFindNode` (bench/system-crawler.ts); go-ethereum's `devp2p discv5 crawl`
 *     (bench/system-geth.ts) gets the time our native full crawl took. Each of our crawlers is
 *     taken out of the network's tables when it is done, so that every crawler meets the same network.
 * (c) Testnets: time to ready, and CPU and memory while idle.
 * (d) The crawl database: what recording a crawl into SQLite and PostgreSQL costs (bench/system-db.ts).
 * (e) Discovery v4: one prefilled network whose nodes serve both protocols (`discv5 testnet
 *     --prefill --discv4`), crawled over discv5 and over discv4 (the same walk through the v4
 *     asker), native and js, one crawler at a time, each in a process of its own.
 * Writes its sections of bench/RESULTS.md and README (not with --quick). `--only db` runs (d) alone,
 * `--only v4` (e) alone.
 */
import { cpus } from 'node:os';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createCrypto, Discv5 } from '../ts/index.js';
import { BenchChild } from './child.js';
import { formatOps, replaceSection } from './harness.js';
import { dbBench } from './system-db.js';
import { GETH_VERSION, gethCrawl } from './system-geth.js';

const quick = process.argv.includes('--quick');
/** `--only db`: just the crawl database's part (bench/system-db.ts); `--only v4`: just the Discovery v4 crawls. */
const onlyAt = process.argv.indexOf('--only');
const only = onlyAt < 0 ? undefined : process.argv[onlyAt + 1];
if (only !== undefined && only !== 'db' && only !== 'v4') throw new Error(`--only db or --only v4, not ${only}`);
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
  network: string;
  size: number;
  crawler: string;
  kind: string;
  protocol: 'discv5' | 'discv4';
  /** Packets the crawler sent. */
  packetsSent: number;
  /** Members found, of all; answering members reported as answered, of all answering. */
  found: number;
  answered: number;
  answering: number;
  requests: number;
  wallMs: number;
  cpuMs: number;
  peakRssMb: number;
  heapGrowthKb: number;
  /** Requests the network's per-requester limit dropped during this crawl. */
  limitDrops: number;
}

interface CrawlerReport {
  nodeIds: string[];
  found: string[];
  answered: string[];
  requests: number;
  packetsSent?: number;
  wallMs: number;
  cpuMs: number;
  peakRssMb: number;
  heapGrowthKb: number;
}

/** A crawler to run: its label, backend (or rival, or go-ethereum's devp2p), mode and identities. */
interface CrawlerSpec {
  label: string;
  kind: 'native' | 'js' | 'rival' | 'geth';
  mode: 'full' | 'fast';
  identities: number;
  /** Which protocol it crawls (default discv5; discv4 needs a network started with it). */
  protocol?: 'discv5' | 'discv4';
}

interface NetworkReady {
  boot: string;
  /** The bootnode's enode:// URL, when the network serves discv4. */
  enode?: string;
  readyMs: number;
  ids: string[];
  answering: string[];
}

/** One of our crawlers (or the rival's stack), in a process of its own. */
async function ourRun(c: CrawlerSpec, boot: string): Promise<CrawlerReport> {
  const crawler = new BenchChild('system-crawler.ts', [c.kind, boot, c.mode, String(c.identities)], {
    DISCV5_BACKEND: c.kind === 'rival' ? 'native' : c.kind,
  });
  const report = JSON.parse(await crawler.next()) as CrawlerReport;
  await crawler.end();
  return report;
}

/**
 * go-ethereum's crawler, given the time our first crawler of this network took (it has no end of
 * its own: it runs random lookups until its time is up). It keeps only nodes that answered its
 * record request, so what it found also answered. Its id is random and not reported: it stays in
 * the tables it entered (one entry among thousands).
 */
async function gethRun(boot: string, ours: CrawlRun | undefined): Promise<CrawlerReport> {
  const seconds = Math.max(1, Math.ceil((ours?.wallMs ?? 10_000) / 1000));
  const r = await gethCrawl(boot, seconds);
  return {
    nodeIds: [],
    found: r.found,
    answered: r.found,
    requests: 0,
    wallMs: r.wallMs,
    cpuMs: r.cpuMs,
    peakRssMb: r.peakRssMb,
    heapGrowthKb: 0,
  };
}

/**
 * Stands up a prefilled network in its own process and crawls it with each crawler, one at a time
 * (`discv4`: its nodes serve discv4 too).
 */
async function crawls(
  name: string,
  size: number,
  profile: object,
  crawlers: CrawlerSpec[],
  discv4 = false,
): Promise<CrawlRun[]> {
  const network = new BenchChild(
    'system-network.ts',
    [String(size), JSON.stringify(profile), '1', ...(discv4 ? ['--discv4'] : [])],
    { DISCV5_BACKEND: 'native' },
  );
  const ready = JSON.parse(await network.next()) as NetworkReady;
  console.log(`${name} network of ${size}${discv4 ? ' (discv5 and discv4)' : ''}: ready in ${seconds(ready.readyMs)}`);
  const members = new Set(ready.ids);
  const answering = new Set(ready.answering);
  const runs: CrawlRun[] = [];
  const rateDrops = async () =>
    (JSON.parse(await network.ask('metrics')) as Record<string, number>)['drop.request-rate'] ?? 0;
  for (const c of crawlers) {
    const dropsBefore = await rateDrops();
    const protocol = c.protocol ?? 'discv5';
    const boot = protocol === 'discv4' ? ready.enode : ready.boot;
    if (boot === undefined) throw new Error(`the ${name} network does not serve ${protocol}`);
    const report = c.kind === 'geth' ? await gethRun(boot, runs[0]) : await ourRun(c, boot);
    const limitDrops = (await rateDrops()) - dropsBefore;
    for (const id of report.nodeIds) await network.ask(`remove ${id}`);
    const run: CrawlRun = {
      network: name,
      size,
      crawler: c.label,
      kind: c.kind,
      protocol,
      packetsSent: report.packetsSent ?? 0,
      found: report.found.filter((id) => members.has(id)).length,
      answered: report.answered.filter((id) => answering.has(id)).length,
      answering: answering.size,
      requests: report.requests,
      wallMs: report.wallMs,
      cpuMs: report.cpuMs,
      peakRssMb: report.peakRssMb,
      heapGrowthKb: report.heapGrowthKb,
      limitDrops,
    };
    runs.push(run);
    console.log(
      `  ${protocol === 'discv4' ? 'discv4' : 'discv5'} ${c.label}: found ${run.found}/${size}, answered ${run.answered}/${run.answering} in ${seconds(run.wallMs)}, ${(run.cpuMs / Math.max(run.found, 1)).toFixed(2)} ms CPU per node, ${(run.requests / Math.max(run.found, 1)).toFixed(1)} requests and ${(run.packetsSent / Math.max(run.found, 1)).toFixed(1)} packets per node, peak ${run.peakRssMb} MB`,
    );
  }
  await network.end();
  return runs;
}

/** Ready time, then idle CPU and memory over `idleSeconds`, of a clean prefilled network (in `processes` shards). */
async function idleNetwork(size: number, idleSeconds: number, processes = 1) {
  const network = new BenchChild('system-network.ts', [String(size), '{}', String(processes)], {
    DISCV5_BACKEND: 'native',
  });
  const ready = JSON.parse(await network.next()) as NetworkReady;
  const idle = JSON.parse(await network.ask(`idle ${idleSeconds}`)) as {
    cpuMs: number;
    rssBefore: number;
    rssAfter: number;
    heapBefore?: number;
    heapAfter?: number;
  };
  await network.end();
  const r = { size, processes, readyMs: ready.readyMs, idleCpu: idle.cpuMs / (idleSeconds * 10), idleSeconds, ...idle };
  console.log(
    `testnet of ${size}: ready in ${seconds(r.readyMs)}, idle ${r.idleCpu.toFixed(1)}% of a core over ${idleSeconds} s, RSS ${idle.rssBefore} -> ${idle.rssAfter} MB`,
  );
  return r;
}

// --- (e) Discovery v4 ----------------------------------------------------------------------------
/** One network serving both protocols, crawled over each: the section's introduction, and its figures. */
async function v4Bench(size: number): Promise<{ intro: string; figures: string }> {
  const v4 = (label: string, kind: CrawlerSpec['kind'], mode: CrawlerSpec['mode']): CrawlerSpec => ({
    label,
    kind,
    mode,
    identities: 1,
    protocol: 'discv4',
  });
  const runs = await crawls(
    'clean',
    size,
    {},
    [
      { label: 'native, full', kind: 'native', mode: 'full', identities: 1 },
      { label: 'native, fast', kind: 'native', mode: 'fast', identities: 1 },
      v4('native, full', 'native', 'full'),
      v4('native, fast', 'native', 'fast'),
      // Fast: on js a full v4 crawl of 10,000 nodes takes about 35 minutes (0.2 s of CPU a node).
      v4('js, fast (32 in flight)', 'js', 'fast'),
    ],
    true,
  );
  const perNode = (ms: number, n: number) => `${(ms / Math.max(n, 1)).toFixed(2)} ms`;
  const per = (x: number, n: number) => (x / Math.max(n, 1)).toFixed(1);
  const table = [
    '| protocol | crawler | found (of members) | answered | time | CPU per node | requests per node | packets sent per node | peak memory |',
    '| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
    ...runs.map(
      (r) =>
        `| ${r.protocol} | ${r.crawler} | ${r.found} of ${r.size} | ${r.answered} of ${r.answering} | ${seconds(r.wallMs)} | ${perNode(r.cpuMs, r.found)} | ${per(r.requests, r.found)} | ${per(r.packetsSent, r.found)} | ${r.peakRssMb} MB |`,
    ),
  ].join('\n');
  const find = (protocol: string, kind: string, mode: string) =>
    runs.find((r) => r.protocol === protocol && r.kind === kind && r.crawler.endsWith(mode));
  const v5Full = find('discv5', 'native', 'full');
  const v4Full = find('discv4', 'native', 'full');
  const v4Fast = find('discv4', 'native', 'fast');
  const v4Js = runs.find((r) => r.protocol === 'discv4' && r.kind === 'js');
  const cpuPer = (r: CrawlRun) => r.cpuMs / Math.max(r.found, 1);
  const verdicts: string[] = [];
  if (v5Full && v4Full)
    verdicts.push(
      `- discv4 against discv5, native full: ${(v4Full.wallMs / v5Full.wallMs).toFixed(1)}x the time, ${(cpuPer(v4Full) / cpuPer(v5Full)).toFixed(1)}x the CPU per node.`,
    );
  if (v4Fast && v4Js)
    verdicts.push(
      `- discv4, native against js (fast): ${(v4Js.wallMs / v4Fast.wallMs).toFixed(1)}x faster, ${(cpuPer(v4Js) / cpuPer(v4Fast)).toFixed(1)}x less CPU per node.`,
    );
  const intro = `One prefilled network of ${size} of our native nodes serving discv5 and discv4 on the same sockets (\`discv5 testnet --prefill --discv4\`, clean, in a process of its own; every v4 table holds the same members as the node's v5 table), crawled from the bootnode over discv5 and over discv4, each crawler in a process of its own, one after another; time, CPU and memory are the crawler's alone. A discv4 request of the walk is up to three FINDNODEs, one at a time (one per distance, each answered by two signed NEIGHBORS packets) and, in full mode, an ENRREQUEST; every node is bonded first (PING, PONG, and the node's PING back). On js the crawler keeps 32 requests in flight instead of 512: recovering the signer of each packet costs it 2 ms, and with more in flight its time limits run out behind its own CPU and it loses nodes. The network's heap is about twice a discv5-only network's, and its major collections can stall it for seconds, long enough for a node to miss all three tries of a request:`;
  return { intro, figures: `${table}\n\n${verdicts.join('\n')}` };
}

// --- run -----------------------------------------------------------------------------------------
// The crawl database and Discovery v4 first: their sections are written on their own, so that each
// can be run alone.
if (only !== 'v4') {
  const dbBody = await dbBench(quick ? 2_000 : 10_000);
  if (!quick) {
    replaceSection(resolve(here, 'RESULTS.md'), 'bench:crawl-db', dbBody);
    replaceSection(resolve(here, '../README.md'), 'bench:crawl-db', dbBody);
  }
  console.log(`\n${dbBody}\n`);
}
if (only === 'db') process.exit(0);
{
  const v4 = await v4Bench(quick ? 2_000 : 10_000);
  const v4Section = `Run on ${new Date().toISOString().slice(0, 10)}: ${cpus()[0]?.model ?? 'unknown CPU'} (${cpus().length} cores), Node ${process.version}.\n\n${v4.intro}\n\n${v4.figures}`;
  if (!quick) {
    replaceSection(resolve(here, 'RESULTS.md'), 'bench:system-v4', v4Section);
    // The README says what is measured in its own words: the figures only.
    replaceSection(resolve(here, '../README.md'), 'bench:system-v4', v4.figures);
  }
  console.log(`\n${v4Section}\n`);
}
if (only === 'v4') process.exit(0);

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

const spec = (label: string, kind: CrawlerSpec['kind'], mode: CrawlerSpec['mode'], identities = 1): CrawlerSpec => ({
  label,
  kind,
  mode,
  identities,
});
const big = quick ? 2_000 : 10_000;
const REALISTIC = { dead: 0.3, latency: [20, 300], loss: 0.01, nat: 0.1, foreign: 0.2 };
const ours = [
  spec('native, full', 'native', 'full'),
  spec('native, fast', 'native', 'fast'),
  spec('native, fast, 4 identities', 'native', 'fast', 4),
  spec('js, full', 'js', 'full'),
  spec(`go-ethereum devp2p ${GETH_VERSION}, same time as native full`, 'geth', 'full'),
];
const crawlRuns: CrawlRun[] = [
  ...(await crawls('clean', big, {}, ours)),
  ...(await crawls('realistic', big, REALISTIC, [ours[0], ours[1], ours[4]] as CrawlerSpec[])),
  // Full mode asks a node about 12 times, but spread over the crawl: a limit of 10 per second per
  // requester is not met (see the drops); one of 2 is, and there identities help.
  ...(await crawls('rate-limited (10/s)', quick ? 500 : 1_000, { rateLimit: 10 }, [
    spec('native, full', 'native', 'full'),
    spec('native, full, 4 identities', 'native', 'full', 4),
  ])),
  ...(await crawls('rate-limited (2/s)', quick ? 500 : 1_000, { rateLimit: 2 }, [
    spec('native, full', 'native', 'full'),
    spec('native, full, 4 identities', 'native', 'full', 4),
  ])),
  ...(await crawls('clean', quick ? 200 : 1_000, {}, [
    spec('native, full', 'native', 'full'),
    spec('js, full', 'js', 'full'),
    spec('@chainsafe/discv5, full', 'rival', 'full'),
  ])),
];
const idleRuns = [];
// The 1,000-node network idles for 10 minutes: its memory must stay flat. 50,000 nodes need
// several processes (one holds at most about 20,000 sockets here).
const idlePlan: [number, number, number][] = quick
  ? [[1_000, 10, 1]]
  : [
      [1_000, 600, 1],
      [10_000, 120, 1],
      [50_000, 120, 4],
    ];
for (const [size, idleSeconds, processes] of idlePlan) idleRuns.push(await idleNetwork(size, idleSeconds, processes));

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

const perNode = (ms: number, n: number) => `${(ms / Math.max(n, 1)).toFixed(2)} ms`;
const crawlTable = [
  '| network | crawler | found (of members) | answered (of those that answer) | time | CPU per node | requests per node | peak memory | heap growth per node |',
  '| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
  ...crawlRuns.map(
    (r) =>
      `| ${r.network}, ${r.size} | ${r.crawler} | ${r.found} of ${r.size} | ${r.answered} of ${r.answering} | ${seconds(r.wallMs)} | ${perNode(r.cpuMs, r.found)} | ${r.kind === 'geth' ? 'not reported' : (r.requests / Math.max(r.found, 1)).toFixed(1)} | ${r.peakRssMb} MB | ${r.kind === 'geth' ? 'n/a (Go)' : `${(r.heapGrowthKb / Math.max(r.found, 1)).toFixed(1)} KB`} |`,
  ),
].join('\n');
const mb = (v: number | undefined) => (v === undefined ? 'n/a (shards)' : `${v} MB`);
const idleTable = [
  '| nodes | processes | ready in | idle CPU | idle for | RSS before | RSS after | heap kept, before | heap kept, after |',
  '| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
  ...idleRuns.map(
    (r) =>
      `| ${r.size} | ${r.processes} | ${seconds(r.readyMs)} | ${r.idleCpu.toFixed(1)}% of a core | ${r.idleSeconds} s | ${r.rssBefore} MB | ${r.rssAfter} MB | ${mb(r.heapBefore)} | ${mb(r.heapAfter)} |`,
  ),
].join('\n');

const rivalRun = crawlRuns.find((r) => r.kind === 'rival');
const vsRival = (kind: string) => {
  const r = crawlRuns.find((x) => x.kind === kind && x.size === rivalRun?.size && x.network === 'clean');
  if (r === undefined || rivalRun === undefined) return '';
  return `${NAMES[kind]}: ${(rivalRun.wallMs / r.wallMs).toFixed(1)}x faster, ${(rivalRun.cpuMs / r.cpuMs).toFixed(1)}x less CPU`;
};
const rateVerdict = (network: string) => {
  const [one, four] = crawlRuns.filter((r) => r.network === network);
  if (one === undefined || four === undefined) return '';
  return `- ${network}: 1 identity had ${one.limitDrops} requests dropped by the limit and took ${seconds(one.wallMs)}; 4 identities had ${four.limitDrops} dropped and were ${(one.wallMs / four.wallMs).toFixed(1)}x as fast.`;
};
const verdicts = [
  `- Against the @chainsafe/discv5 crawler on ${rivalRun?.size} nodes (same walk): ${vsRival('native')}; ${vsRival('js')}.`,
  rateVerdict('rate-limited (10/s)'),
  rateVerdict('rate-limited (2/s)'),
].join('\n');
const body = `Inbound handshakes on one node (UDP loopback; the clients are native nodes in another process):

${hsTable}

Crawling prefilled networks of our native nodes (\`discv5 testnet --prefill\`, in a process of their own) from the bootnode, each crawler in a process of its own; time, CPU and memory are the crawler's alone. Realistic: \`--dead 0.3 --latency 20-300 --loss 0.01 --nat 0.1 --foreign 0.2\` (found counts every member whose record some node serves; answered counts the members that answer unsolicited packets):

${crawlTable}

${verdicts}

Prefilled testnets (UDP loopback; 50,000 nodes in 4 processes, their CPU and memory summed): time to ready, then CPU (of all cores together) and memory while idle (resident, and the heap that survives a collection: resident memory also holds garbage not yet collected):

${idleTable}`;
const section = `Run on ${new Date().toISOString().slice(0, 10)}: ${cpus()[0]?.model ?? 'unknown CPU'} (${cpus().length} cores), Node ${process.version}.

${body}`;
if (!quick) {
  replaceSection(resolve(here, 'RESULTS.md'), 'bench:system', section);
  replaceSection(resolve(here, '../README.md'), 'bench:system', body);
}
console.log(`\n${section}`);
process.exit(0);
