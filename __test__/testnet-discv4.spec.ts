/**
 * `discv5 testnet --discv4` (ts/testnet/): every node serves discv4 beside discv5 on the same
 * socket and key; prefilled, its v4 table holds the same members as its v5 one, all live; the
 * faults of the links act on discv4 too; the printed bootnode and the truth file carry `enode://`
 * URLs; and a crawl with the v4 asker (ts/crawl/discv4-asker.ts) finds every member and hears from
 * every one that answers, in one process, in several (sharded) and bootstrapped. The crawler runs
 * on the backend DISCV5_BACKEND names (the specs run once per backend), and so does the first
 * network; the others run on native crypto whatever the backend (on js, a v4 network answering a
 * crawl in the crawler's process takes minutes: every NEIGHBORS packet is signed, every packet's
 * signer recovered).
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test, { type ExecutionContext } from 'ava';
import { testnet } from '../ts/cli/commands/net.js';
import { crawl } from '../ts/crawl/crawler.js';
import { discv4Asker, TargetKeys } from '../ts/crawl/discv4-asker.js';
import { parseEnode } from '../ts/discv4/enode.js';
import { V4Node } from '../ts/discv4/node.js';
import { Discv5, type Discv5Options } from '../ts/index.js';
import { CLEAN_PROFILE, type FaultProfile } from '../ts/testnet/plan.js';
import { prefillBuckets } from '../ts/testnet/prefill.js';
import { startShardedTestnet } from '../ts/testnet/sharded.js';
import { DEAD_IP, startTestnet, Testnet } from '../ts/testnet/testnet.js';
import { scoreCrawl, type TruthDocument, truthOf } from '../ts/testnet/truth.js';
import { toHex } from '../ts/util/bytes.js';
import { cryptoFor } from './helpers/backends.js';
import { envCrypto } from './helpers/nodes.js';

// One at a time: networks of a hundred nodes in one process starve the timing of the others.
const serial = test.serial;

const profile = (p: Partial<FaultProfile>): FaultProfile => ({ ...CLEAN_PROFILE, ...p });
const native = cryptoFor('native');

/** A v4 crawler (a node with discv4, its sessions and bonds sized for the crawl), stopped at teardown. */
async function v4Crawler(
  t: ExecutionContext,
  place: Pick<Discv5Options, 'bind' | 'transport'>,
  crypto = envCrypto,
): Promise<Discv5> {
  const node = await Discv5.create({
    privateKey: crypto.generatePrivateKey(),
    crypto,
    ...place,
    config: { refreshIntervalMs: 0, revalidateNewIntervalMs: 0, revalidateLiveIntervalMs: 0, reseedIntervalMs: 0 },
    discv4: { bondWaitMs: 200, maxBonds: 100_000 },
  });
  await node.start();
  t.teardown(() => node.stop());
  return node;
}

/** Crawls discv4 from `seed` (an enode:// URL) and scores it against the truth (the crawler's own id left out). */
async function crawlV4(crawler: Discv5, seed: string, truth: TruthDocument) {
  const v4 = crawler.discv4;
  if (v4 === undefined) throw new Error('no discv4');
  const summary = await crawl<V4Node>(
    discv4Asker(v4, crawler.nodeId, new TargetKeys(envCrypto)),
    [V4Node.fromEnode(envCrypto, seed)],
    // Limits of 2-5 s: the network and the crawler share this process (and CI's busy cores).
    { rtt: { minMs: 2_000, maxMs: 5_000 } },
  );
  const self = crawler.localEnr.nodeIdHex;
  const found = summary.nodes.map((n) => n.enr.nodeIdHex).filter((id) => id !== self);
  const answered = summary.nodes.filter((n) => n.answered).map((n) => n.enr.nodeIdHex);
  return { summary, score: scoreCrawl(truth, found, answered) };
}

serial('a prefilled v4 testnet: every v4 table holds its v5 buckets, all live; the truth has the enodes', async (t) => {
  const net = await startTestnet({ nodes: 80, prefill: true, transport: 'memory', seed: 3, discv4: true });
  t.teardown(() => net.stop());
  const expected = prefillBuckets(net.members.map((m) => m.enr.nodeId));
  net.members.forEach((m, i) => {
    const v4 = m.node?.discv4;
    if (v4 === undefined) throw new Error(`member ${i} serves no discv4`);
    const want = (expected[i] as number[]).map((j) => net.members[j]?.enr.nodeIdHex as string).sort();
    const entries = v4.entries();
    t.deepEqual(entries.map((e) => e.enr.nodeIdHex).sort(), want, `member ${i}: the v4 table is its v5 buckets`);
    t.deepEqual(
      m.node
        ?.table()
        .map((e) => e.nodeId)
        .sort(),
      want,
      `member ${i}: and so is its v5 table`,
    );
    t.true(
      entries.every((e) => e.live),
      'prefilled v4 entries are live (served at once)',
    );
    // A member's enode is the node itself: its key, and the endpoint it is reached at.
    const parts = parseEnode(m.enode as string);
    t.is(toHex(envCrypto.keccak256(parts.publicKey)), m.enr.nodeIdHex);
    t.deepEqual([parts.ip, parts.udp, parts.tcp], [m.enr.ip, m.enr.udp, m.enr.udp]);
    t.is(m.node?.discv4?.enode, m.enode, 'the URL the node gives of itself');
  });
  t.is(net.bootEnode, net.members[0]?.enode);
  const truth = truthOf(net);
  t.true(truth.members.every((m, i) => m.enode === net.members[i]?.enode));
  // Without --discv4 the truth has no enodes, and the nodes no v4 side.
  const plain = await startTestnet({ nodes: 4, prefill: true, transport: 'memory', seed: 3 });
  t.teardown(() => plain.stop());
  t.is(plain.bootEnode, undefined);
  t.true(truthOf(plain).members.every((m) => m.enode === undefined));
  t.true(plain.nodes.every((n) => n.discv4 === undefined));

  // Ready means crawlable over v4: a crawl right away finds and hears from everyone.
  const crawler = await v4Crawler(t, { transport: net.network?.transport('127.0.0.1') });
  const { summary, score } = await crawlV4(crawler, net.bootEnode as string, truth);
  t.is(score.found, 80);
  t.is(score.answeredOfAnswering, 80);
  t.is(summary.answered, summary.found);
  // Every answering node gave its own record (ENRREQUEST), the one the truth names.
  const byId = new Map(truth.members.map((m) => [m.nodeId, m.enr]));
  for (const n of summary.nodes) if (byId.has(n.enr.nodeIdHex)) t.is(n.enr.record?.text, byId.get(n.enr.nodeIdHex));
  // What the v4 tables serve was found (the crawler, which entered some, left out).
  const found = new Set(summary.nodes.map((n) => n.enr.nodeIdHex));
  const served = net.served([crawler.localEnr.nodeIdHex], 'discv4');
  t.is(served.size, 80);
  for (const id of served) t.true(found.has(id), `missing ${id.slice(0, 8)}`);
});

serial('faults act on discv4: dead records never answer, NAT members ignore strangers, latency delays', async (t) => {
  t.timeout(180_000);
  const net = await startTestnet({
    nodes: 100,
    prefill: true,
    transport: 'memory',
    seed: 7,
    discv4: true,
    profile: profile({ dead: 0.2, nat: 0.1, latency: [20, 80], foreign: 0.2 }),
    crypto: native,
  });
  t.teardown(() => net.stop());
  const truth = truthOf(net);
  const dead = net.members.filter((m) => m.plan.dead);
  const natted = net.members.filter((m) => m.plan.nat);
  t.is(dead.length, 20);
  t.is(natted.length, 10);
  // Dead records are in v4 tables, at the dead address, and their enodes name it.
  const inTables = new Set(net.nodes.flatMap((n) => n.discv4?.entries().map((e) => e.enr.nodeIdHex) ?? []));
  t.true(dead.every((m) => inTables.has(m.enr.nodeIdHex) && parseEnode(m.enode as string).ip === DEAD_IP));

  const stranger = await v4Crawler(t, { transport: net.network?.transport('127.0.0.1') });
  const v4 = stranger.discv4;
  if (v4 === undefined) throw new Error('no discv4');
  await t.throwsAsync(() => v4.ping(dead[0]?.enode as string, 300), { code: 'ERR_REQUEST_TIMEOUT' });
  await t.throwsAsync(() => v4.ping(natted[0]?.enode as string, 300), { code: 'ERR_REQUEST_TIMEOUT' });
  t.true((natted[0]?.link?.stats.natBlocked ?? 0) >= 1, 'the NAT dropped the v4 PING');
  const slow = net.members.find((m) => !m.plan.dead && !m.plan.nat && m.plan.index > 0);
  if (slow === undefined) throw new Error('no answering member');
  const pong = await v4.ping(slow.enode as string, 2_000);
  t.true(pong.rttMs >= slow.plan.rttMs - 2, `v4 ping took ${pong.rttMs} ms, round trip ${slow.plan.rttMs} ms`);

  // The crawl finds every member (dead and NAT ones through the tables that hold them) and hears
  // from every member that answers unsolicited packets.
  const { score } = await crawlV4(stranger, net.bootEnode as string, truth);
  t.is(score.found, 100, `found ${score.found}, missed ${score.missed.join(', ')}`);
  t.is(score.answering, 70);
  t.is(score.answeredOfAnswering, 70, `missed ${score.missed.join(', ')}`);
});

serial('--loss: datagrams of discv4 crossing a link are lost too', async (t) => {
  const net = await startTestnet({
    nodes: 12,
    prefill: true,
    transport: 'memory',
    seed: 5,
    discv4: true,
    profile: profile({ loss: 0.3 }),
    crypto: native,
  });
  t.teardown(() => net.stop());
  const client = await v4Crawler(t, { transport: net.network?.transport('127.0.0.1') });
  const v4 = client.discv4;
  const target = net.members[4];
  if (v4 === undefined || target?.enode === undefined) throw new Error('no member');
  // Each PING and its PONG cross the link: about half of 40 are answered (0.7 × 0.7).
  const pings = await Promise.allSettled(Array.from({ length: 40 }, () => v4.ping(target.enode as string, 500)));
  const answered = pings.filter((p) => p.status === 'fulfilled').length;
  t.true(answered > 8 && answered < 36, `${answered} of 40 answered`);
  t.true((target.link?.stats.lost ?? 0) >= 40 - answered, 'the link lost the rest');
});

serial('--rate-limit: a node answers at most N discv4 requests per second per requester', async (t) => {
  const net = await startTestnet({
    nodes: 12,
    prefill: true,
    transport: 'memory',
    seed: 5,
    discv4: true,
    profile: profile({ rateLimit: 5 }),
    crypto: native,
  });
  t.teardown(() => net.stop());
  // A native client: on js, signing 10 requests takes long enough for the allowance to refill.
  const client = await v4Crawler(t, { transport: net.network?.transport('127.0.0.1') }, native);
  const v4 = client.discv4;
  const target = net.members[4];
  if (v4 === undefined || target?.enode === undefined) throw new Error('no member');
  await v4.bond(target.enode, 2_000);
  // ENRREQUESTs, all at once (a node's FINDNODEs go one at a time: NEIGHBORS names no request).
  const results = await Promise.allSettled(
    Array.from({ length: 10 }, () => v4.requestEnr(target.enode as string, 500)),
  );
  const answered = results.filter((r) => r.status === 'fulfilled').length;
  t.true(answered >= 5 && answered <= 6, `${answered} of 10 answered (burst 5, plus what a second refills)`);
  t.true((target.node?.metrics()['discv4.drop.request-rate'] ?? 0) >= 4);
});

serial('the CLI: --discv4 prints the bootnode enode after its record, --truth writes every enode', async (t) => {
  t.timeout(180_000);
  const dir = mkdtempSync(join(tmpdir(), 'discv5-testnet-v4-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const truthFile = join(dir, 'truth.json');
  const lines: string[] = [];
  const logs: string[] = [];
  const net = await testnet(
    { nodes: '40', prefill: true, discv4: true, truth: truthFile, dead: '0.1', seed: '9' },
    { line: (l) => lines.push(l), log: (l) => logs.push(l) },
  );
  t.teardown(() => net.stop());
  t.true(net instanceof Testnet);
  t.is(lines.length, 2);
  t.regex(lines[0] as string, /^enr:/);
  t.regex(lines[1] as string, /^enode:\/\/[0-9a-f]{128}@127\.0\.0\.1:\d+$/);
  t.regex(logs.join('\n'), /40 nodes on udp, serving discv5 and discv4, ready in/);
  t.regex(logs.join('\n'), /discv4 table entries/);
  const truth = JSON.parse(readFileSync(truthFile, 'utf8')) as TruthDocument;
  t.is(truth.nodes, 40);
  t.is(truth.members[0]?.enode, lines[1]);
  t.true(truth.members.every((m) => /^enode:\/\//.test(m.enode ?? '')));
  // Crawled over UDP from the printed enode: the truth file's count, every answering member heard.
  const crawler = await v4Crawler(t, { bind: { ip4: { ip: '127.0.0.1', port: 0 } } });
  const { score } = await crawlV4(crawler, lines[1] as string, truth);
  t.is(score.found, truth.nodes);
  t.is(score.answeredOfAnswering, truth.members.filter((m) => m.answersUnsolicited).length);
  t.is(score.answering, 36);
});

serial('a sharded v4 testnet: the option reaches every shard, crawled whole over v4', async (t) => {
  t.timeout(180_000);
  const net = await startShardedTestnet({
    nodes: 60,
    processes: 2,
    profile: profile({ dead: 0.1 }),
    seed: 5,
    discv4: true,
    // Ports of its own: testnet.spec's sharded testnet (from 10,000) may run at the same time.
    basePort: 10_500,
  });
  t.teardown(() => net.stop());
  const truth = truthOf(net);
  t.true(
    net.members.every((m) => m.plan.dead || m.enr.udp === 10_500 + m.plan.index),
    'at the ports asked',
  );
  t.true(truth.members.every((m) => m.enode !== undefined));
  t.is(net.bootEnode, truth.members[0]?.enode);
  const crawler = await v4Crawler(t, { bind: { ip4: { ip: '127.0.0.1', port: 0 } } });
  const { score } = await crawlV4(crawler, net.bootEnode as string, truth);
  t.is(score.found, 60, 'every member found, the dead ones through the v4 tables that hold them');
  t.is(score.answeredOfAnswering, 54);
});

serial('a bootstrapped v4 testnet: the nodes join the v4 network through the bootnode too', async (t) => {
  t.timeout(180_000);
  const net = await startTestnet({ nodes: 24, transport: 'memory', seed: 2, discv4: true, crypto: native });
  t.teardown(() => net.stop());
  const liveV4 = new Set(
    net.nodes.flatMap((n) => n.discv4?.entries().filter((e) => e.live) ?? []).map((e) => e.enr.nodeIdHex),
  );
  t.is(liveV4.size, 24, 'every node is live in some v4 table');
  const crawler = await v4Crawler(t, { transport: net.network?.transport('127.0.0.1') });
  const { score } = await crawlV4(crawler, net.bootEnode as string, truthOf(net));
  t.is(score.found, 24);
  t.is(score.answeredOfAnswering, 24);
});
