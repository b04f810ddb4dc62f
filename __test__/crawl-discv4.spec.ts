/**
 * `discv5 crawl --discv4` and `--protocols v4,v5` end to end, through the command's own entry
 * (crawlCommand, in process, with the options the CLI parses; one run through main.ts as a user
 * runs it): a small network of library nodes serving both protocols on UDP loopback, their tables
 * filled from the global view, some of their records carrying an `eth` fork id (mainnet, sepolia,
 * an unknown chain), and one dead discv4 entry in every table (a key whose endpoint drops
 * everything: found, never answers, has no record). Checked: every node found and answered, the
 * NDJSON (an object per node and protocol), nodes.json (a node once; the dead one as its enode
 * URL), the SQLite database (one `nodes` row per node, a visit per protocol, records from
 * ENRREQUEST, enode URLs, execution networks), the summary per protocol, node sets with
 * `--protocol`, the report's per-protocol charts, and seeds (`--bootnodes-file` enode lines,
 * `--network` giving execution bootnodes for v4).
 */
import { spawn } from 'node:child_process';
import dgram from 'node:dgram';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import test, { type ExecutionContext } from 'ava';
import { UsageError } from '../ts/cli/args.js';
import { crawlCommand, givenSeedSet } from '../ts/cli/commands/crawl.js';
import { protocolsOf } from '../ts/cli/commands/crawl-v4.js';
import { nodesFilterCommand } from '../ts/cli/commands/nodes.js';
import { nodeRow } from '../ts/crawl/columns.js';
import { selectNodes } from '../ts/crawl/node-set.js';
import { EXECUTION_BOOTNODES } from '../ts/discv4/bootnodes.js';
import { V4Node } from '../ts/discv4/node.js';
import { forkIdAt } from '../ts/enr/eth-networks.js';
import type { EthForkId } from '../ts/enr/types.js';
import { createCrypto, Discv5, type Enr, EnrDecoder } from '../ts/index.js';
import { loadReportData } from '../ts/report/data.js';
import { SqliteCrawlDb } from '../ts/store/crawl-db-sqlite.js';
import { envCrypto } from './helpers/nodes.js';

/**
 * The network runs on native crypto on both legs (as crawl-db.spec's testnets do): what runs on
 * the backend under test (DISCV5_BACKEND) is the crawl, whose identities the command makes.
 */
const NATIVE = createCrypto({ backend: 'native' });
const work = mkdtempSync(join(tmpdir(), 'discv5-crawl-v4-'));
test.after.always(() => rmSync(work, { recursive: true, force: true }));

const NODES = 20;
const NOW = Math.floor(Date.now() / 1000);
/** The eth entry of node i: mainnet for a third, sepolia for a few, an unknown chain for two, none for the rest. */
function ethOf(i: number): EthForkId | undefined {
  if (i % 3 === 0) return forkIdAt('mainnet', 30_000_000, NOW);
  if (i % 5 === 1) return forkIdAt('sepolia', 10_000_000, NOW);
  if (i === 2 || i === 4) return { forkHash: Uint8Array.of(0xde, 0xad, 0xbe, 0xef), forkNext: 0n };
  return undefined;
}
const MAINNET = Array.from({ length: NODES }, (_, i) => i).filter((i) => i % 3 === 0).length;

/** No table upkeep: the tables stay as filled (a dead entry is not checked away mid-test). */
const QUIET = {
  requestTimeoutMs: 2_000,
  revalidateNewIntervalMs: 0,
  revalidateLiveIntervalMs: 0,
  refreshIntervalMs: 0,
  reseedIntervalMs: 0,
};

interface Net {
  nodes: Discv5[];
  v4: V4Node[];
  dead: V4Node;
  byId: Map<string, Discv5>;
}

/** A socket that reads and drops every datagram: an endpoint where nothing answers (nor says so). */
async function blackHole(t: ExecutionContext): Promise<number> {
  const socket = dgram.createSocket('udp4');
  socket.on('message', () => {});
  await new Promise<void>((r) => socket.bind(0, '127.0.0.1', r));
  t.teardown(() => new Promise<void>((r) => socket.close(() => r())));
  return socket.address().port;
}

/** NODES nodes serving discv5 and discv4 on UDP loopback, every table holding every other node (and the dead one). */
async function network(t: ExecutionContext): Promise<Net> {
  const nodes: Discv5[] = [];
  for (let i = 0; i < NODES; i++) {
    const node = await Discv5.create({
      privateKey: NATIVE.generatePrivateKey(),
      crypto: NATIVE,
      bind: { ip4: { ip: '127.0.0.1', port: 0 } },
      config: QUIET,
      discv4: { bondWaitMs: 100 },
    });
    await node.start();
    t.teardown(() => node.stop());
    const eth = ethOf(i);
    if (eth !== undefined) node.updateLocalEnr({ eth });
    nodes.push(node);
  }
  const v4 = nodes.map((n) => V4Node.fromEnr(NATIVE, n.localEnr) as V4Node);
  const deadKey = NATIVE.decompressPublicKey(NATIVE.publicKeyFromPrivate(NATIVE.generatePrivateKey()));
  const port = await blackHole(t);
  const dead = V4Node.of(NATIVE, {
    publicKey: deadKey?.subarray(1) as Uint8Array,
    ip: '127.0.0.1',
    udp: port,
    tcp: port,
  });
  for (const [i, n] of nodes.entries()) {
    n.discv4?.prefillTable([...v4.filter((_, j) => j !== i), dead]);
    n.prefillTable(nodes.filter((_, j) => j !== i).map((m) => m.localEnr));
  }
  return { nodes, v4, dead, byId: new Map(nodes.map((n) => [n.localEnr.nodeIdHex, n])) };
}

function capture(): { line(s: string): void; log(s: string): void; lines: string[]; logs: string[] } {
  const lines: string[] = [];
  const logs: string[] = [];
  return { line: (s) => lines.push(s), log: (s) => logs.push(s), lines, logs };
}

const ndjson = (file: string) =>
  readFileSync(file, 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as Record<string, unknown>);

test.serial(
  'crawl --discv4: every node found with its record (ENRREQUEST), into NDJSON, nodes.json and the database',
  async (t) => {
    t.timeout(120_000);
    const net = await network(t);
    const boot = net.nodes[0] as Discv5;
    // --bootnodes-file keeps enode lines (here with a record and a comment-like word it skips).
    const seeds = join(work, 'v4-bootnodes.txt');
    writeFileSync(seeds, `# the bootnode\n${boot.discv4?.enode}\n`);
    const files = { db: join(work, 'v4.db'), out: join(work, 'v4.ndjson'), 'nodes-json': join(work, 'v4.json') };
    const out = capture();
    await crawlCommand(
      { discv4: true, 'bootnodes-file': seeds, bind: '127.0.0.1:0', vantage: 'test', mode: 'full', ...files },
      out,
    );
    const text = out.lines.join('\n');
    t.log(text);
    t.regex(text, new RegExp(`^crawl done: ${NODES + 1} nodes found, ${NODES} answered`));
    t.regex(text, new RegExp(`per execution network: .*mainnet [a-z0-9-]+ ${MAINNET}`));
    t.regex(text, /other \(1 fork hashes\) 2/);
    t.regex(text, /no record 1/);
    t.regex(text, new RegExp(`records \\(ENRREQUEST\\): ${NODES} of ${NODES} that answered`));
    t.regex(text, new RegExp(`recorded as crawl 1 \\(done\\): ${NODES + 1} nodes, ${NODES} answered`));

    // NDJSON: one object per node, protocol v4, with the record the node holds.
    const lines = ndjson(files.out);
    t.is(lines.length, NODES + 1);
    for (const l of lines) {
      t.is(l.protocol, 'v4');
      const owner = net.byId.get(l.nodeId as string);
      if (owner === undefined) {
        t.is(l.nodeId, net.dead.nodeIdHex);
        t.like(l, { answered: false, enr: null, record: null, eth: null, seq: '0', enode: net.dead.enode });
        t.is(l.error, 'ERR_REQUEST_TIMEOUT');
        continue;
      }
      const i = net.nodes.indexOf(owner);
      t.is(l.enr, owner.localEnr.text);
      // Its key and endpoint (the TCP port as the table that named it had it: the seed's own URL says 0).
      t.is(V4Node.fromEnode(envCrypto, l.enode as string).nodeIdHex, l.nodeId as string);
      t.is(l.enode, i === 0 ? boot.discv4?.enode : (net.v4[i] as V4Node).enode);
      t.like(l, { ip: '127.0.0.1', udp: owner.localEnr.udp, answered: true });
      t.is(l.seq, owner.localEnr.seq.toString());
      t.is((l.record as Record<string, unknown>).nodeId, l.nodeId);
      t.is(typeof l.rttMs, 'number');
      t.true(Array.isArray(l.neighbors));
      const eth = ethOf(i);
      if (eth === undefined) t.is(l.eth, null);
      else {
        const e = l.eth as Record<string, unknown>;
        t.is(e.forkHash, Buffer.from(eth.forkHash).toString('hex'));
        t.is(e.network, i % 3 === 0 ? 'mainnet' : i % 5 === 1 ? 'sepolia' : null);
        t.is(typeof e.fork, i % 3 === 0 || i % 5 === 1 ? 'string' : 'object');
      }
    }
    t.true(
      lines.some((l) => (l.neighbors as string[]).length >= NODES - 1),
      'a table read whole',
    );

    // nodes.json: the records, and the dead node as its enode URL (go-ethereum's text of a v4-only node).
    const geth = JSON.parse(readFileSync(files['nodes-json'], 'utf8')) as Record<string, Record<string, unknown>>;
    t.is(Object.keys(geth).length, NODES + 1);
    for (const n of net.nodes)
      t.like(geth[n.localEnr.nodeIdHex], { record: n.localEnr.text, seq: Number(n.localEnr.seq), score: 1 });
    t.like(geth[net.dead.nodeIdHex], {
      record: net.dead.enode,
      seq: 0,
      score: 0,
      lastResponse: '0001-01-01T00:00:00Z',
    });

    // The database: every node a row, every visit 'v4', records and execution networks decoded.
    const db = new SqliteCrawlDb(files.db);
    t.teardown(() => db.close());
    t.like(await db.crawl(1), { state: 'done', found: NODES + 1, answered: NODES });
    t.deepEqual((await db.crawl(1))?.options, { mode: 'full', discv4: true });
    const visits = await db.query('SELECT protocol, COUNT(*) AS n FROM visits WHERE crawl_id = 1 GROUP BY protocol');
    t.deepEqual(visits, [{ protocol: 'v4', n: NODES + 1 }]);
    const rows = await db.query(
      'SELECT node_id, seq, record, enode, ip, udp, tcp, eth_fork_hash, eth_network, eth_fork FROM nodes',
    );
    t.is(rows.length, NODES + 1);
    for (const r of rows) {
      const owner = net.byId.get(String(r.node_id));
      if (owner === undefined) {
        t.like(r, {
          seq: 0,
          record: net.dead.enode,
          enode: net.dead.enode,
          ip: '127.0.0.1',
          udp: net.dead.udp,
          eth_network: null,
        });
        continue;
      }
      const i = net.nodes.indexOf(owner);
      t.like(r, { record: owner.localEnr.text, ip: '127.0.0.1', udp: owner.localEnr.udp });
      t.is(r.enode, i === 0 ? boot.discv4?.enode : (net.v4[i] as V4Node).enode);
      t.is(r.eth_network, i % 3 === 0 ? 'mainnet' : i % 5 === 1 ? 'sepolia' : null);
      t.is(r.eth_fork === null, !(i % 3 === 0 || i % 5 === 1));
    }
    const lists = await db.query("SELECT COUNT(*) AS n FROM neighbors WHERE crawl_id = 1 AND protocol = 'v4'");
    t.is(
      lists[0]?.n,
      lines.filter((l) => (l.neighbors as string[]).length > 0).length,
      'a neighbour list per node whose walk brought neighbours',
    );

    // Node sets: --protocol v4 --network mainnet is the execution network; the dead node's line is its enode URL.
    const set = await selectNodes(db, { protocol: 'v4', network: 'mainnet' });
    t.is(set.nodes.length, MAINNET);
    t.is((await selectNodes(db, { protocol: 'v5' })).nodes.length, 0);
    const enrs = join(work, 'v4-enrs.txt');
    const filtered = capture();
    await nodesFilterCommand({ db: files.db, protocol: 'v4', enrs }, filtered);
    t.deepEqual(filtered.logs, [`${NODES + 1} nodes of ${NODES + 1} in crawl 1 match`]);
    t.true(readFileSync(enrs, 'utf8').split('\n').includes(net.dead.enode));
    await t.throwsAsync(nodesFilterCommand({ db: files.db, protocol: 'v6', enrs }, capture()), {
      instanceOf: UsageError,
    });
    await t.throwsAsync(nodesFilterCommand({ db: files.db, protocol: 'v4', network: 'gnosis', enrs }, capture()), {
      instanceOf: UsageError,
      message: /mainnet, sepolia, holesky, hoodi/,
    });

    // The report: per protocol, and discv4 nodes per execution network.
    const report = await loadReportData(db);
    t.deepEqual(report.protocols, [{ label: 'v4', value: NODES + 1, answered: NODES }]);
    const count = (label: string) => report.ethNetworks.find((c) => c.label.startsWith(label))?.value;
    t.is(count('mainnet '), MAINNET);
    t.is(count('unknown fork hash'), 2);
    t.is(count('no record'), 1);
    t.true(report.nodes.every((n) => n.protocol === 'v4'));

    // --resume of a discv4 crawl: crawl 2 was cancelled once the bootnode was visited (its table
    // named every other node); the resumed crawl walks with discv4 (the protocol the crawl was
    // started with), from the nodes found and not visited, and never asks the bootnode again.
    const two = await db.startCrawl({
      vantage: 'test',
      seeds: [boot.discv4?.enode as string],
      options: { discv4: true },
      software: 'test',
      started: Date.now(),
    });
    const bootV4 = (net.v4[0] as V4Node).withRecord(boot.localEnr);
    const others = [...net.v4.slice(1), net.dead].map((n) => n.nodeIdHex);
    await db.record(two, {
      found: [],
      visits: [
        {
          node: nodeRow(bootV4, Date.now()),
          seq: 1,
          answered: true,
          rttMs: 3,
          error: undefined,
          requests: 5,
          failedBuckets: [],
          started: Date.now(),
          ended: Date.now(),
          neighbors: others,
          protocol: 'v4',
        },
      ],
    });
    await db.finishCrawl(two, 'cancelled');
    const resumed = capture();
    await crawlCommand({ resume: true, db: files.db, vantage: 'test', bind: '127.0.0.1:0' }, resumed);
    t.regex(
      resumed.logs.join('\n'),
      new RegExp(
        `resuming crawl ${two} \\(cancelled\\): 0 nodes visited, 0 found and not yet visited; discv4: 1 visited, ${NODES} not yet`,
      ),
    );
    // The nodes' tables hold the first crawl's identity now (they bonded with it): a node that is
    // gone, found again; the bootnode is not asked again (its visit is the one recorded).
    const m = /^crawl done: (\d+) nodes found, (\d+) answered/.exec(resumed.lines.join('\n'));
    t.is(Number(m?.[2]), NODES - 1, resumed.lines.join('\n'));
    t.true([NODES, NODES + 1].includes(Number(m?.[1])));
    t.like(await db.crawl(two), { state: 'done', found: Number(m?.[1]) + 1, answered: NODES });
    t.deepEqual(
      await db.query('SELECT protocol, COUNT(*) AS n FROM visits WHERE crawl_id = ? GROUP BY protocol', [two]),
      [{ protocol: 'v4', n: Number(m?.[1]) + 1 }],
    );
    const bootVisit = await db.query(
      'SELECT v.rtt_ms, v.requests FROM visits v JOIN nodes n ON n.id = v.node WHERE v.crawl_id = ? AND n.node_id = ?',
      [two, boot.localEnr.nodeIdHex],
    );
    t.deepEqual(bootVisit, [{ rtt_ms: 3, requests: 5 }]);
  },
);

test.serial(
  'crawl --protocols v4,v5 --identities 2: each node found under both protocols, one row, a visit of each',
  async (t) => {
    t.timeout(120_000);
    const net = await network(t);
    const boot = net.nodes[0] as Discv5;
    const files = { db: join(work, 'both.db'), out: join(work, 'both.ndjson'), 'nodes-json': join(work, 'both.json') };
    const out = capture();
    // One record seeds both: discv5 from it, discv4 from its UDP endpoint.
    await crawlCommand(
      {
        protocols: 'v4,v5',
        identities: '2',
        bootnodes: boot.localEnr.text,
        bind: '127.0.0.1:0',
        vantage: 'test',
        ...files,
      },
      out,
    );
    const text = out.lines.join('\n');
    t.log(text);
    t.regex(text, new RegExp(`^v5: crawl done: ${NODES} nodes found, ${NODES} answered`, 'm'));
    t.regex(text, new RegExp(`^v4: crawl done: ${NODES + 1} nodes found, ${NODES} answered`, 'm'));
    t.regex(text, /^v5: reported: .* per fork digest: /m);
    t.regex(text, /^v4: reported: .* per execution network: /m);
    t.regex(text, new RegExp(`recorded as crawl 1 \\(done\\): ${NODES + 1} nodes, ${NODES} answered`));

    const lines = ndjson(files.out);
    const seen = (protocol: string) =>
      new Set(lines.filter((l) => l.protocol === protocol).map((l) => l.nodeId as string));
    const all = net.nodes.map((n) => n.localEnr.nodeIdHex);
    t.deepEqual([...seen('v5')].sort(), [...all].sort());
    t.deepEqual([...seen('v4')].sort(), [...all, net.dead.nodeIdHex].sort());
    t.is(lines.length, 2 * NODES + 1);
    for (const l of lines) if (net.byId.has(l.nodeId as string)) t.true(l.answered, `${l.protocol} ${l.nodeId}`);

    // nodes.json: a node once, with its record (the dead node, seen by discv4 only, as its enode URL).
    const geth = JSON.parse(readFileSync(files['nodes-json'], 'utf8')) as Record<string, Record<string, unknown>>;
    t.is(Object.keys(geth).length, NODES + 1);
    for (const n of net.nodes) t.like(geth[n.localEnr.nodeIdHex], { record: n.localEnr.text, score: 1 });
    t.like(geth[net.dead.nodeIdHex], { record: net.dead.enode, score: 0 });

    const db = new SqliteCrawlDb(files.db);
    t.teardown(() => db.close());
    t.like(await db.crawl(1), { state: 'done', found: NODES + 1, answered: NODES });
    t.deepEqual((await db.crawl(1))?.options, { identities: '2', protocols: 'v4,v5' });
    t.is((await db.query('SELECT COUNT(*) AS n FROM nodes'))[0]?.n, NODES + 1, 'a node is one row');
    const perNode = await db.query(
      `SELECT n.node_id, n.record, n.enode, COUNT(*) AS visits, SUM(v.answered) AS answered,
       SUM(CASE WHEN v.protocol = 'v4' THEN 1 ELSE 0 END) AS v4
     FROM visits v JOIN nodes n ON n.id = v.node WHERE v.crawl_id = 1 GROUP BY n.node_id, n.record, n.enode`,
    );
    for (const r of perNode) {
      const owner = net.byId.get(String(r.node_id));
      if (owner === undefined) {
        t.like(r, { visits: 1, v4: 1, answered: 0 });
        continue;
      }
      t.like(r, { visits: 2, v4: 1, answered: 2, record: owner.localEnr.text }, 'discv5 and discv4 visits, one record');
      t.regex(String(r.enode), /^enode:\/\//, 'the enode URL kept beside the record');
    }
    const lists = await db.query(
      'SELECT protocol, COUNT(*) AS n FROM neighbors WHERE crawl_id = 1 GROUP BY protocol ORDER BY protocol',
    );
    // A list per node and protocol whose walk brought neighbours (every one, unless a loaded
    // machine lost a walk's requests after the node answered): as the NDJSON says.
    const withNeighbors = (protocol: string) =>
      lines.filter((l) => l.protocol === protocol && (l.neighbors as string[]).length > 0).length;
    t.deepEqual(lists, [
      { protocol: 'v4', n: withNeighbors('v4') },
      { protocol: 'v5', n: withNeighbors('v5') },
    ]);
    t.true(withNeighbors('v4') > NODES / 2 && withNeighbors('v5') > NODES / 2);
    // Node sets count a node once; --protocol picks one protocol's visits.
    t.like(await selectNodes(db, {}), { total: NODES + 1 });
    t.is((await selectNodes(db, { protocol: 'v5', answered: true })).nodes.length, NODES);
    t.is((await selectNodes(db, { protocol: 'v4' })).nodes.length, NODES + 1);
    const report = await loadReportData(db);
    t.deepEqual(report.protocols, [
      { label: 'v5', value: NODES, answered: NODES },
      { label: 'v4', value: NODES + 1, answered: NODES },
    ]);
    t.is(report.nodesTotal, 2 * NODES + 1);
    t.is(report.crawl?.found, NODES + 1);
    t.is(
      report.networks.reduce((s, c) => s + c.value, 0),
      NODES + 1,
      'the other charts count a node once',
    );
  },
);

const cli = resolve(dirname(fileURLToPath(import.meta.url)), '../ts/cli/main.ts');

/** `discv5 crawl ARGS` run as a user runs it (main.ts under tsx, its own process), asynchronously: this process serves the network meanwhile. */
function runCli(args: string[]): Promise<{ code: number | null; out: string; err: string }> {
  // From the checkout, where --import finds tsx (every run here is --no-db: nothing is written).
  const child = spawn(process.execPath, ['--import', 'tsx', cli, 'crawl', ...args], {
    cwd: resolve(dirname(cli), '../..'),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout.on('data', (d: Buffer) => {
    out += d.toString();
  });
  child.stderr.on('data', (d: Buffer) => {
    err += d.toString();
  });
  const timer = setTimeout(() => child.kill('SIGKILL'), 90_000);
  return new Promise((done) =>
    child.once('close', (code) => {
      clearTimeout(timer);
      done({ code, out, err });
    }),
  );
}

test.serial('the command line: --discv4 and --protocols as a user gives them', async (t) => {
  t.timeout(120_000);
  const net = await network(t);
  const enode = net.nodes[0]?.discv4?.enode as string;
  // Fast mode: NEIGHBORS carry no records, so each node is still asked for its own.
  const v4 = await runCli(['--discv4', '--mode', 'fast', '--bootnodes', enode, '--no-db', '--bind', '127.0.0.1:0']);
  t.is(v4.code, 0, v4.err);
  t.regex(v4.out, new RegExp(`^crawl done: ${NODES + 1} nodes found, ${NODES} answered`));
  t.regex(v4.out, /fast mode/);
  t.regex(v4.out, new RegExp(`records \\(ENRREQUEST\\): ${NODES} of ${NODES} that answered`));
  const bad = await runCli(['--discv4', '--protocols', 'v5', '--bootnodes', enode, '--no-db']);
  t.is(bad.code, 2, bad.err);
  t.regex(bad.err, /--discv4 means --protocols v4/);
  const v5only = await runCli(['--bootnodes', enode, '--no-db']);
  t.is(v5only.code, 2, v5only.err);
  t.regex(v5only.err, /enode:\/\/ URLs seed discv4 only/);
  const help = await runCli(['--help']);
  t.regex(help.out, /--discv4 \| --protocols v4,v5/);
});

test('protocols and seeds: --discv4 = --protocols v4; --network gives execution bootnodes for v4, consensus records for v5', async (t) => {
  t.deepEqual(protocolsOf({}), ['v5']);
  t.deepEqual(protocolsOf({ discv4: true }), ['v4']);
  t.deepEqual(protocolsOf({ discv4: true, protocols: 'v4' }), ['v4']);
  t.deepEqual(protocolsOf({ protocols: 'v4,v5' }), ['v5', 'v4']);
  t.deepEqual(protocolsOf({ protocols: 'v5, v4, v4' }), ['v5', 'v4']);
  for (const v of [{ protocols: 'v6' }, { protocols: '' }, { discv4: true, protocols: 'v4,v5' }])
    t.throws(() => protocolsOf(v), { instanceOf: UsageError }, JSON.stringify(v));
  const decoder = new EnrDecoder(envCrypto);
  const seeds = (protocols: ('v4' | 'v5')[]) =>
    givenSeedSet({ network: 'mainnet' }, decoder, capture(), { required: true, protocols });
  const v4 = await seeds(['v4']);
  t.deepEqual(v4, { records: [], enodes: [...EXECUTION_BOOTNODES.mainnet] });
  const v5 = await seeds(['v5']);
  t.deepEqual(v5.enodes, []);
  t.true(v5.records.length > 0);
  t.true(v5.records.every((r: Enr) => r.text.startsWith('enr:')));
  const both = await seeds(['v5', 'v4']);
  t.is(both.records.length, v5.records.length);
  t.deepEqual(both.enodes, [...EXECUTION_BOOTNODES.mainnet]);
});
