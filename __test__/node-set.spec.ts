/**
 * Node sets out of the crawl database (`selectNodes`, `discv5 nodes filter`), on both engines:
 * SQLite (a file) and PostgreSQL (a throwaway server on 127.0.0.1). Thirteen crawls, written by
 * hand through the database's own API, one day apart: 1-6 and 8-12 done, 7 cancelled, 13 failed.
 * Nine nodes with known records and known answers in each crawl, so that every filter, the uptime
 * window and the ordering of --limit are checked against sets worked out by hand (in the comments).
 *
 * The window of crawl 12 is crawls 2-6 and 8-12 (10 done crawls; 1 is too old, 7 was cancelled).
 *
 *   node  record                                  first seen  answered in (visited, not answered)
 *   A     mainnet, ip4, attnets 64, cgc 128       crawl 1     1-13
 *   H     mainnet, ip4, attnets 0, cgc 4          crawl 1     1-12
 *   I     mainnet, ip4, no attnets, no cgc        crawl 1     1-12
 *   B     mainnet, ip4+ip6, attnets 2 then 4      crawl 2     3, 4, 8-12 (2, 5, 6); seq 2 from crawl 10
 *         (seq 2 from crawl 10), cgc 4
 *   D     no eth2, ip4                            crawl 1     1-6, 8-11 (12)
 *   C     sepolia, ip6 only, attnets 8, cgc 8     crawl 11    11, 12
 *   E     fork digest deadbeef, ip4, attnets 1    crawl 1     12 (1-11)
 *   F     mainnet, ip4                            crawl 1     1-11 (not visited in 12)
 *   G     mainnet, ip4                            crawl 12    found in 12, never visited
 *
 * Crawl 12 then: visited A H I B D C E (7); answers in its window A H I 10, D 9, B 7, C 2, E 1.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import test from 'ava';
import { parseDuration, UsageError } from '../ts/cli/args.js';
import { crawlCommand } from '../ts/cli/commands/crawl.js';
import type { Out } from '../ts/cli/commands/net.js';
import {
  NODES_FILTER_COMMAND,
  NODES_FILTER_OPTIONS,
  NODES_FILTER_USAGE,
  nodesFilterCommand,
} from '../ts/cli/commands/nodes.js';
import { nodeRow } from '../ts/crawl/columns.js';
import { answersNeeded, NEVER, type NodeFilter, selectNodes, UPTIME_WINDOW } from '../ts/crawl/node-set.js';
import type { EnrEntries } from '../ts/enr/create.js';
import { knownForkDigests, networkOfForkDigest } from '../ts/enr/networks.js';
import { createCrypto, Enr, EnrDecoder } from '../ts/index.js';
import type { CrawlDb, VisitRow } from '../ts/store/crawl-db.js';
import { openCrawlDb } from '../ts/store/open-crawl-db.js';
import { fromHex } from '../ts/util/bytes.js';
import { Discv5Error } from '../ts/util/errors.js';
import { type PostgresServer, startPostgres } from './helpers/postgres.js';

const crypto = createCrypto();
const dir = mkdtempSync(join(tmpdir(), 'discv5-nodeset-'));
test.after.always(() => rmSync(dir, { recursive: true, force: true }));

let server: Promise<PostgresServer> | undefined;
const opened: CrawlDb[] = [];
test.after.always(async () => {
  for (const db of opened) await db.close().catch(() => {});
  if (server) await (await server).stop();
});

// ---------------------------------------------------------------------------------------------
// The data

const DAY = 86_400_000;
const T0 = Date.parse('2026-01-01T00:00:00.000Z');
const startOf = (crawl: number) => T0 + crawl * DAY;
const range = (a: number, b: number) => Array.from({ length: b - a + 1 }, (_, i) => a + i);

const digestOf = (network: string) => {
  const d = knownForkDigests().find((k) => k.network === network);
  if (d === undefined) throw new Error(`no known digest of ${network}`);
  return d.digest;
};
const MAINNET = digestOf('mainnet');
const SEPOLIA = digestOf('sepolia');
const eth2 = (digest: string) => ({
  forkDigest: fromHex(digest),
  nextForkVersion: fromHex('00000000'),
  nextForkEpoch: 0n,
});

type Name = 'A' | 'H' | 'I' | 'B' | 'D' | 'C' | 'E' | 'F' | 'G';

interface NodeSpec {
  entries: EnrEntries;
  /** The record from this crawl on (seq 2), if it changes. */
  update?: { from: number; entries: EnrEntries };
  /** Seconds after a crawl's start at which it is seen (visited) in that crawl. */
  offset: number;
  /** Crawl -> answered, for the crawls that visited it. */
  visits: Record<number, boolean>;
  /** Crawls in which it was found but not visited. */
  foundOnly?: number[];
}

const answeredIn = (crawls: number[], answered = true) => Object.fromEntries(crawls.map((c) => [c, answered]));

const SPECS: Record<Name, NodeSpec> = {
  A: {
    entries: { ip: '127.0.0.1', udp: 30101, eth2: eth2(MAINNET), attnets: range(0, 63), cgc: 128 },
    offset: 10,
    visits: answeredIn(range(1, 13)),
  },
  H: {
    entries: { ip: '127.0.0.1', udp: 30102, eth2: eth2(MAINNET), attnets: [], cgc: 4 },
    offset: 20,
    visits: answeredIn(range(1, 12)),
  },
  I: { entries: { ip: '127.0.0.1', udp: 30103, eth2: eth2(MAINNET) }, offset: 20, visits: answeredIn(range(1, 12)) },
  B: {
    entries: { ip: '127.0.0.1', udp: 30104, ip6: '::1', udp6: 30104, eth2: eth2(MAINNET), attnets: [0, 1], cgc: 4 },
    update: {
      from: 10,
      entries: {
        ip: '127.0.0.1',
        udp: 30104,
        ip6: '::1',
        udp6: 30104,
        eth2: eth2(MAINNET),
        attnets: [0, 1, 2, 3],
        cgc: 4,
      },
    },
    offset: 30,
    visits: { ...answeredIn([2, 5, 6], false), ...answeredIn([3, 4, 8, 9, 10, 11, 12]) },
  },
  D: {
    entries: { ip: '127.0.0.1', udp: 30105 },
    offset: 40,
    visits: { ...answeredIn([1, 2, 3, 4, 5, 6, 8, 9, 10, 11]), 12: false },
  },
  C: {
    entries: { ip6: '::1', udp6: 30106, eth2: eth2(SEPOLIA), attnets: range(0, 7), cgc: 8 },
    offset: 50,
    visits: answeredIn([11, 12]),
  },
  E: {
    entries: { ip: '127.0.0.1', udp: 30107, eth2: eth2('deadbeef'), attnets: [5] },
    offset: 60,
    visits: { ...answeredIn(range(1, 11), false), 12: true },
  },
  F: { entries: { ip: '127.0.0.1', udp: 30108, eth2: eth2(MAINNET) }, offset: 70, visits: answeredIn(range(1, 11)) },
  G: { entries: { ip: '127.0.0.1', udp: 30109, eth2: eth2(MAINNET) }, offset: 80, visits: {}, foundOnly: [12] },
};
const NAMES = Object.keys(SPECS) as Name[];
const CRAWLS = range(1, 13);
const STATE: Record<number, 'done' | 'cancelled' | 'failed'> = { 7: 'cancelled', 13: 'failed' };

function key(n: number): Uint8Array {
  const k = new Uint8Array(32);
  k[30] = 1;
  k[31] = n;
  return k;
}

/** Keys picked so that A's node id sorts after H's and I's: a node-id order would put A last, last-seen order first. */
const KEYS: Record<Name, Uint8Array> = (() => {
  const keys = {} as Record<Name, Uint8Array>;
  let next = 1;
  for (const name of NAMES) keys[name] = key(next++);
  const idOf = (k: Uint8Array) => Enr.create(k, {}, crypto).nodeIdHex;
  while (idOf(keys.A) < idOf(keys.H) || idOf(keys.A) < idOf(keys.I)) keys.A = key(next++);
  return keys;
})();

const RECORDS = Object.fromEntries(
  NAMES.map((name) => {
    const s = SPECS[name];
    const first = Enr.create(KEYS[name], s.entries, crypto, 1n);
    const second = s.update ? Enr.create(KEYS[name], s.update.entries, crypto, 2n) : undefined;
    return [name, (crawl: number) => (second && s.update && crawl >= s.update.from ? second : first)];
  }),
) as Record<Name, (crawl: number) => Enr>;
const ID = Object.fromEntries(NAMES.map((n) => [n, RECORDS[n](1).nodeIdHex])) as Record<Name, string>;
const byId = new Map(NAMES.map((n) => [ID[n], n]));
const seenAt = (name: Name, crawl: number) => startOf(crawl) + SPECS[name].offset * 1000;
const endedAt = (name: Name, crawl: number) => new Date(seenAt(name, crawl) + 500).toISOString();

/** H and I tie on uptime and last seen: node id decides. */
const [HI1, HI2] = (ID.H < ID.I ? ['H', 'I'] : ['I', 'H']) as [Name, Name];

async function populate(db: CrawlDb): Promise<void> {
  for (const crawl of CRAWLS) {
    const id = await db.startCrawl({
      vantage: 'test',
      seeds: [],
      options: {},
      software: 'discv5-native/test',
      started: startOf(crawl),
    });
    if (id !== crawl) throw new Error(`crawl ${crawl} got id ${id}`);
    const visits: VisitRow[] = [];
    const found = [];
    for (const name of NAMES) {
      const s = SPECS[name];
      const row = nodeRow(RECORDS[name](crawl), seenAt(name, crawl));
      if (s.foundOnly?.includes(crawl)) found.push(row);
      const answered = s.visits[crawl];
      if (answered === undefined) continue;
      visits.push({
        node: row,
        seq: row.fields?.seq ?? null,
        answered,
        rttMs: answered ? 20 : undefined,
        error: answered ? undefined : 'timeout',
        requests: 2,
        failedBuckets: [],
        started: row.seen,
        ended: row.seen + 500,
        neighbors: [],
      });
    }
    await db.record(id, { found, visits });
    await db.finishCrawl(id, STATE[crawl] ?? 'done');
  }
}

let files = 0;
const ENGINES = {
  sqlite: async () => join(dir, `crawl-${++files}.db`),
  postgres: async () => {
    server ??= startPostgres();
    return (await server).createDatabase();
  },
} as const;
type EngineName = keyof typeof ENGINES;

/** Per engine, one database with the thirteen crawls (tests only read it) and its --db value. */
const datasets = new Map<EngineName, Promise<{ db: CrawlDb; target: string }>>();
function dataset(engine: EngineName): Promise<{ db: CrawlDb; target: string }> {
  let d = datasets.get(engine);
  if (d === undefined) {
    d = (async () => {
      const target = await ENGINES[engine]();
      const db = await openCrawlDb(target);
      opened.push(db);
      await populate(db);
      return { db, target };
    })();
    datasets.set(engine, d);
  }
  return d;
}

async function names(db: CrawlDb, filter: NodeFilter): Promise<Name[]> {
  return (await selectNodes(db, filter)).nodes.map((n) => byId.get(n.nodeId) as Name);
}

function capture(): Out & { lines: string[]; logs: string[] } {
  const lines: string[] = [];
  const logs: string[] = [];
  return { lines, logs, line: (t) => lines.push(t), log: (t) => logs.push(t) };
}

// ---------------------------------------------------------------------------------------------
// The data is what the table says

test('the fixture: digests and keys as the table assumes', (t) => {
  t.is(networkOfForkDigest(MAINNET)?.network, 'mainnet');
  t.is(networkOfForkDigest(SEPOLIA)?.network, 'sepolia');
  t.is(networkOfForkDigest('deadbeef'), undefined);
  t.true(ID.A > ID.H && ID.A > ID.I);
  t.is(UPTIME_WINDOW, 10);
});

// ---------------------------------------------------------------------------------------------
// selectNodes, on both engines

for (const engine of Object.keys(ENGINES) as EngineName[]) {
  test(`${engine}: the set is the nodes visited in the crawl; last is the newest done crawl`, async (t) => {
    const { db } = await dataset(engine);
    const last = await selectNodes(db, {});
    t.is(last.crawlId, 12, 'crawl 13 failed: last is 12');
    t.is(last.total, 7);
    t.deepEqual(last.window, [12, 11, 10, 9, 8, 6, 5, 4, 3, 2]);
    // Uptime first (A H I 1.0, D 0.9, B 0.7, C 0.2, E 0.1); A was last seen in crawl 13, after H and I.
    t.deepEqual(
      last.nodes.map((n) => byId.get(n.nodeId)),
      ['A', HI1, HI2, 'D', 'B', 'C', 'E'],
    );
    t.deepEqual(await names(db, { crawl: 'last' }), ['A', HI1, HI2, 'D', 'B', 'C', 'E']);
    const eleven = await selectNodes(db, { crawl: 11 });
    t.is(eleven.total, 8, 'F was visited in 11');
    t.deepEqual(eleven.window, [11, 10, 9, 8, 6, 5, 4, 3, 2, 1]);
  });

  test(`${engine}: uptime, answers and responses over the window`, async (t) => {
    const { db } = await dataset(engine);
    const at12 = new Map((await selectNodes(db, {})).nodes.map((n) => [byId.get(n.nodeId) as Name, n]));
    const expect12: Record<string, [answers: number, visits: number]> = {
      A: [10, 10],
      H: [10, 10],
      I: [10, 10],
      D: [9, 10],
      B: [7, 10],
      C: [2, 2],
      E: [1, 10],
    };
    for (const [name, [answers, visits]] of Object.entries(expect12)) {
      const n = at12.get(name as Name);
      t.is(n?.answers, answers, `${name} answers`);
      t.is(n?.visits, visits, `${name} visits`);
      t.is(n?.uptime, answers / 10, `${name} uptime: a crawl that did not see it counts as down`);
    }
    const a = at12.get('A');
    t.is(a?.firstResponse, endedAt('A', 2), 'crawl 1 is out of the window');
    t.is(a?.lastResponse, endedAt('A', 12), 'crawl 13 is after the chosen crawl: not in its window');
    t.is(a?.lastCheck, endedAt('A', 12));
    t.is(a?.lastSeen, new Date(seenAt('A', 13)).toISOString());
    t.is(a?.firstSeen, new Date(seenAt('A', 1)).toISOString());
    const d = at12.get('D');
    t.false(d?.answered);
    t.is(d?.lastResponse, endedAt('D', 11));
    t.is(d?.lastCheck, endedAt('D', 12));
    const b = at12.get('B');
    t.is(b?.seq, 2n);
    t.is(b?.record, RECORDS.B(12).text, 'the newest record');
    t.is(b?.firstResponse, endedAt('B', 3));
    t.is(b?.attnetsCount, 4);
    t.is(b?.network, 'mainnet');
    t.is(b?.ip6, '::1');
    t.is(at12.get('C')?.forkDigest, SEPOLIA);
    t.is(at12.get('C')?.ip, null);
    t.is(at12.get('E')?.network, null);
    t.is(at12.get('I')?.attnetsCount, null);
    t.is(at12.get('I')?.cgc, null);

    // Crawl 11: window 1-6, 8-11. D and F answered in all ten; E in none.
    const at11 = await selectNodes(db, { crawl: 11 });
    const up11 = Object.fromEntries(at11.nodes.map((n) => [byId.get(n.nodeId), n.uptime]));
    t.deepEqual(up11, { A: 1, H: 1, I: 1, D: 1, F: 1, B: 0.6, C: 0.1, E: 0 });
    // Ties on uptime 1: last seen A (13), D (12, +40 s), H and I (12, +20 s), F (11).
    t.deepEqual(
      at11.nodes.map((n) => byId.get(n.nodeId)),
      ['A', 'D', HI1, HI2, 'F', 'B', 'C', 'E'],
    );
    const e11 = at11.nodes.find((n) => n.nodeId === ID.E);
    t.is(e11?.firstResponse, null);
    t.is(e11?.lastResponse, null);
    t.is(e11?.lastCheck, endedAt('E', 11));

    // Crawl 3: only 3 crawls before it, so the window is 3 long: B answered in 1 of them.
    const at3 = await selectNodes(db, { crawl: 3 });
    t.deepEqual(at3.window, [3, 2, 1]);
    t.is(at3.nodes.find((n) => n.nodeId === ID.B)?.uptime, 1 / 3);
    t.deepEqual(await names(db, { crawl: 3, minUptime: 0.3 }), ['A', 'D', HI1, HI2, 'F', 'B']);
    t.deepEqual(await names(db, { crawl: 3, minUptime: 0.34 }), ['A', 'D', HI1, HI2, 'F']);
    t.deepEqual(await names(db, { crawl: 3, minUptime: 1 / 3 }), ['A', 'D', HI1, HI2, 'F', 'B']);

    // A crawl named by id need not be done: the cancelled 7 and the failed 13 head their own windows
    // (E was visited in 7 and did not answer).
    const at7 = await selectNodes(db, { crawl: 7 });
    t.deepEqual(at7.window, [7, 6, 5, 4, 3, 2, 1]);
    t.deepEqual(
      at7.nodes.map((n) => [byId.get(n.nodeId), n.uptime]),
      [
        ['A', 1],
        [HI1, 1],
        [HI2, 1],
        ['F', 1],
        ['E', 0],
      ],
    );
    const at13 = await selectNodes(db, { crawl: 13 });
    t.deepEqual(at13.window, [13, 12, 11, 10, 9, 8, 6, 5, 4, 3]);
    t.is(at13.total, 1);
    t.is(at13.nodes[0]?.answers, 10);
  });

  test(`${engine}: each filter selects the set worked out by hand`, async (t) => {
    const { db } = await dataset(engine);
    const cases: [NodeFilter, Name[]][] = [
      [{}, ['A', HI1, HI2, 'D', 'B', 'C', 'E']],
      [{ answered: true }, ['A', HI1, HI2, 'B', 'C', 'E']],
      [{ network: 'mainnet' }, ['A', HI1, HI2, 'B']],
      [{ network: 'sepolia' }, ['C']],
      [{ network: 'hoodi' }, []],
      [{ forkDigest: '0xDEADBEEF' }, ['E']],
      [{ forkDigest: MAINNET }, ['A', HI1, HI2, 'B']],
      [{ forkDigest: `0x${SEPOLIA}` }, ['C']],
      [{ minAttnets: 0 }, ['A', 'H', 'B', 'C', 'E'].sort(order) as Name[]], // I has no attnets entry
      [{ minAttnets: 1 }, ['A', 'B', 'C', 'E']],
      [{ minAttnets: 4 }, ['A', 'B', 'C']], // B's newest record has 4
      [{ minAttnets: 5 }, ['A', 'C']],
      [{ minAttnets: 65 }, []],
      [{ minCgc: 4 }, ['A', 'H', 'B', 'C'].sort(order) as Name[]],
      [{ minCgc: 8 }, ['A', 'C']],
      [{ ip4: true }, ['A', HI1, HI2, 'D', 'B', 'E']],
      [{ ip6: true }, ['B', 'C']],
      [{ ip4: true, ip6: true }, ['B']],
      // Crawl 12 starts at day 12: first seen by day 10 is crawl 1's nodes (+10..60 s), day 2 B's.
      [{ minAgeMs: 2 * DAY }, ['A', HI1, HI2, 'D', 'B', 'E']],
      [{ minAgeMs: 10 * DAY }, ['A', HI1, HI2, 'D', 'E']],
      [{ minAgeMs: 10 * DAY - 30_000 }, ['A', HI1, HI2, 'D', 'B', 'E']], // B first seen day 2 + 30 s
      [{ minAgeMs: 11 * DAY }, []],
      [{ minAgeMs: Number.MAX_SAFE_INTEGER }, []], // before year 0: no node, no invalid date
      [{ minUptime: 0 }, ['A', HI1, HI2, 'D', 'B', 'C', 'E']],
      [{ minUptime: 0.1 }, ['A', HI1, HI2, 'D', 'B', 'C', 'E']],
      [{ minUptime: 0.15 }, ['A', HI1, HI2, 'D', 'B', 'C']],
      [{ minUptime: 0.7 }, ['A', HI1, HI2, 'D', 'B']],
      [{ minUptime: 0.75 }, ['A', HI1, HI2, 'D']],
      [{ minUptime: 0.9 }, ['A', HI1, HI2, 'D']],
      [{ minUptime: 0.95 }, ['A', HI1, HI2]],
      [{ minUptime: 1 }, ['A', HI1, HI2]],
      [{ network: 'mainnet', ip6: true }, ['B']],
      [{ answered: true, minUptime: 0.5, ip4: true }, ['A', HI1, HI2, 'B']],
      [{ crawl: 11, minUptime: 1 }, ['A', 'D', HI1, HI2, 'F']],
      [{ crawl: 11, network: 'mainnet', answered: true }, ['A', HI1, HI2, 'F', 'B']],
      [{ crawl: 1, answered: true }, ['A', 'D', HI1, HI2, 'F']],
    ];
    for (const [filter, expected] of cases) t.deepEqual(await names(db, filter), expected, JSON.stringify(filter));
  });

  test(`${engine}: --limit keeps the best by uptime, then last seen, then node id`, async (t) => {
    const { db } = await dataset(engine);
    t.deepEqual(await names(db, { limit: 1 }), ['A']);
    t.deepEqual(await names(db, { limit: 2 }), ['A', HI1]);
    t.deepEqual(await names(db, { limit: 4 }), ['A', HI1, HI2, 'D']);
    t.deepEqual(await names(db, { limit: 100 }), ['A', HI1, HI2, 'D', 'B', 'C', 'E']);
    t.deepEqual(await names(db, { answered: true, limit: 4 }), ['A', HI1, HI2, 'B']);
    t.deepEqual(await names(db, { crawl: 11, limit: 5 }), ['A', 'D', HI1, HI2, 'F']);
    t.deepEqual(await names(db, { ip6: true, limit: 1 }), ['B']);
  });

  test(`${engine}: bad filters and missing crawls throw ERR_INVALID_ARGUMENT`, async (t) => {
    const { db } = await dataset(engine);
    for (const filter of [
      { crawl: 99 },
      { crawl: 0 },
      { network: 'mainnet', forkDigest: MAINNET },
      { forkDigest: 'abc' },
      { minUptime: 1.5 },
      { limit: 0 },
      { minAttnets: -1 },
    ] as NodeFilter[]) {
      const err = await t.throwsAsync(selectNodes(db, filter), { instanceOf: Discv5Error }, JSON.stringify(filter));
      t.is((err as Discv5Error).code, 'ERR_INVALID_ARGUMENT');
    }
    const empty = await openCrawlDb(await ENGINES[engine]());
    t.teardown(() => empty.close());
    await t.throwsAsync(selectNodes(empty, {}), { message: /no finished crawl/ });
  });

  test(`${engine}: the CLI writes go-ethereum's nodes.json and one record per line`, async (t) => {
    const { target } = await dataset(engine);
    const out = capture();
    const json = join(dir, `${engine}-nodes.json`);
    const enrs = join(dir, `${engine}-enrs.txt`);
    await nodesFilterCommand({ db: target, 'nodes-json': json, enrs, network: 'mainnet' }, out);
    t.deepEqual(out.logs, ['4 nodes of 7 in crawl 12 match']);
    t.deepEqual(out.lines, []);
    const doc = JSON.parse(readFileSync(json, 'utf8')) as Record<string, Record<string, unknown>>;
    t.deepEqual(Object.keys(doc), [ID.A, ID[HI1], ID[HI2], ID.B], 'keyed by node id, best first');
    for (const [id, node] of Object.entries(doc)) {
      t.regex(id, /^[0-9a-f]{64}$/);
      t.deepEqual(Object.keys(node), ['seq', 'record', 'score', 'firstResponse', 'lastResponse', 'lastCheck']);
      t.is(typeof node.seq, 'number');
      t.is(typeof node.score, 'number');
      for (const k of ['firstResponse', 'lastResponse', 'lastCheck'])
        t.regex(node[k] as string, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/);
    }
    t.deepEqual(doc[ID.B], {
      seq: 2,
      record: RECORDS.B(12).text,
      score: 7,
      firstResponse: endedAt('B', 3),
      lastResponse: endedAt('B', 12),
      lastCheck: endedAt('B', 12),
    });
    t.is(doc[ID.A]?.score, 10);

    const lines = readFileSync(enrs, 'utf8').split('\n');
    t.is(lines.pop(), '', 'ends with a newline');
    const decoded = new EnrDecoder(crypto).decodeBatch(lines);
    t.deepEqual(
      decoded.map((r) => (r instanceof Error ? r.message : r.nodeIdHex)),
      [ID.A, ID[HI1], ID[HI2], ID.B],
      'every line a valid record',
    );

    // A node that never answered in the window: score 0 and go-ethereum's zero time.
    const e = join(dir, `${engine}-e.json`);
    await nodesFilterCommand({ db: target, crawl: '11', 'fork-digest': 'deadbeef', 'nodes-json': e }, capture());
    t.deepEqual(JSON.parse(readFileSync(e, 'utf8')), {
      [ID.E]: {
        seq: 1,
        record: RECORDS.E(11).text,
        score: 0,
        firstResponse: NEVER,
        lastResponse: NEVER,
        lastCheck: endedAt('E', 11),
      },
    });
  });

  test(`${engine}: the CLI passes every option through (argv parsed as the CLI parses it)`, async (t) => {
    const { target } = await dataset(engine);
    const run = async (args: string[]) => {
      const { values } = parseArgs({ args, options: NODES_FILTER_OPTIONS, strict: true, allowPositionals: false });
      const out = capture();
      await nodesFilterCommand({ db: target, ...values }, out);
      const lines = out.lines
        .join('\n')
        .split('\n')
        .filter((l) => l !== '');
      return { ids: lines.map((l) => byId.get(new EnrDecoder(crypto).decode(l).nodeIdHex)), logs: out.logs };
    };
    t.deepEqual(await run(['--enrs', '-']), {
      ids: ['A', HI1, HI2, 'D', 'B', 'C', 'E'],
      logs: ['7 nodes of 7 in crawl 12 match'],
    });
    t.deepEqual((await run(['--enrs', '-', '--answered', '--ip4', '--min-uptime', '0.5'])).ids, ['A', HI1, HI2, 'B']);
    t.deepEqual((await run(['--enrs', '-', '--attnets', '4', '--min-cgc', '8'])).ids, ['A', 'C']);
    t.deepEqual((await run(['--enrs', '-', '--ip6'])).ids, ['B', 'C']);
    t.deepEqual((await run(['--enrs', '-', '--min-age', '10d'])).ids, ['A', HI1, HI2, 'D', 'E']);
    t.deepEqual((await run(['--enrs', '-', '--min-age', '864000'])).ids, ['A', HI1, HI2, 'D', 'E']);
    t.deepEqual((await run(['--enrs', '-', '--min-age', '240h'])).ids, ['A', HI1, HI2, 'D', 'E']);
    t.deepEqual((await run(['--enrs', '-', '--fork-digest', `0x${SEPOLIA}`])).ids, ['C']);
    t.deepEqual((await run(['--enrs', '-', '--limit', '2'])).ids, ['A', HI1]);
    t.deepEqual(await run(['--enrs', '-', '--crawl', '13']), { ids: ['A'], logs: ['1 nodes of 1 in crawl 13 match'] });
    t.deepEqual(await run(['--enrs', '-', '--network', 'hoodi']), {
      ids: [],
      logs: ['0 nodes of 7 in crawl 12 match'],
    });
    // nodes.json to stdout: one JSON document.
    const out = capture();
    await nodesFilterCommand({ db: target, 'nodes-json': '-', crawl: 'last', limit: '1' }, out);
    t.deepEqual(Object.keys(JSON.parse(out.lines.join('\n'))), [ID.A]);
    // The table entry the CLI wires.
    const entry = capture();
    await NODES_FILTER_COMMAND.run([], { db: target, enrs: '-', limit: '1' }, entry);
    t.is(entry.lines.length, 1);
    await t.throwsAsync(NODES_FILTER_COMMAND.run(['x'], { db: target, enrs: '-' }, capture()), {
      instanceOf: UsageError,
    });
  });

  test(`${engine}: round trip: the nodes.json written is what crawl --reseed reads, the --enrs file what --bootnodes-file reads`, async (t) => {
    const { target } = await dataset(engine);
    const json = join(dir, `${engine}-reseed.json`);
    const enrs = join(dir, `${engine}-bootnodes.txt`);
    await nodesFilterCommand({ db: target, 'nodes-json': json, enrs, ip4: true }, capture());
    const want = ['A', HI1, HI2, 'D', 'B', 'E'].map((n) => ID[n as Name]);
    // crawl.ts seedTexts: --reseed takes each value's `record`, --bootnodes-file each enr: word.
    const doc = JSON.parse(readFileSync(json, 'utf8')) as Record<string, { record?: string }>;
    const reseed = Object.values(doc)
      .map((n) => n.record)
      .filter((r): r is string => typeof r === 'string');
    const bootnodes = readFileSync(enrs, 'utf8')
      .split(/\s+/)
      .filter((s) => s.startsWith('enr:'));
    const decoder = new EnrDecoder(crypto);
    for (const texts of [reseed, bootnodes]) {
      const records = decoder.decodeBatch(texts);
      t.deepEqual(
        records.map((r) => (r instanceof Error ? r.message : r.nodeIdHex)),
        want,
      );
    }
  });
}

// ---------------------------------------------------------------------------------------------
// The CLI: arguments, and the real reader of --reseed

test('crawl --reseed takes the nodes.json written as its seeds', async (t) => {
  const { target } = await dataset('sqlite');
  const json = join(dir, 'reseed-real.json');
  await nodesFilterCommand({ db: target, 'nodes-json': json, ip4: true, limit: '3' }, capture());
  // The records name 127.0.0.1 ports where nothing listens: the crawl finds its 3 seeds and stops at its timeout.
  const out = capture();
  await crawlCommand({ reseed: json, 'no-db': true, timeout: '1', bind: '127.0.0.1:0' }, out);
  t.regex(out.lines.join('\n'), /: 3 nodes found/);
});

test('usage errors: outputs, exclusive options, strict values', async (t) => {
  const { target } = await dataset('sqlite');
  const usage = async (v: Record<string, unknown>, message: RegExp) =>
    t.throwsAsync(
      nodesFilterCommand({ db: target, ...v }, capture()),
      { instanceOf: UsageError, message },
      JSON.stringify(v),
    );
  await usage({}, /give an output/);
  await usage({ 'nodes-json': '-', enrs: '-' }, /both write to stdout/);
  await usage({ enrs: '-', ip4: true, ip6: true }, /--ip4 and --ip6/);
  await usage({ enrs: '-', network: 'mainnet', 'fork-digest': MAINNET }, /--network and --fork-digest/);
  await usage({ enrs: '-', network: 'mainnett' }, /--network must be one of/);
  for (const digest of ['abc', '0x1234', 'deadbeefaa', 'xyzwxyzw', ''])
    await usage({ enrs: '-', 'fork-digest': digest }, /--fork-digest/);
  for (const age of ['7x', '', '-1d', '1.5.3h', 'd', '7 d', '1e3', '7dd', '0x10'])
    await usage({ enrs: '-', 'min-age': age }, /--min-age must be a duration/);
  for (const f of ['1.5', 'abc', '-0.1', '', '1e-1', '0.5x'])
    await usage({ enrs: '-', 'min-uptime': f }, /--min-uptime/);
  for (const n of ['0', '-1', 'x', '1.5', '']) await usage({ enrs: '-', limit: n }, /--limit/);
  for (const n of ['-1', 'x', '2.5']) {
    await usage({ enrs: '-', attnets: n }, /--attnets/);
    await usage({ enrs: '-', 'min-cgc': n }, /--min-cgc/);
  }
  for (const c of ['0', 'first', '-3', '1.5']) await usage({ enrs: '-', crawl: c }, /--crawl/);
  await usage({ enrs: '-', crawl: '99' }, /no crawl 99/);
});

test('usage errors: a missing database file is not created; a database without a finished crawl', async (t) => {
  const missing = join(dir, 'nope', 'missing.db');
  await t.throwsAsync(nodesFilterCommand({ db: missing, enrs: '-' }, capture()), {
    instanceOf: UsageError,
    message: /no crawl database at/,
  });
  t.false(existsSync(missing));
  const fresh = join(dir, 'fresh.db');
  const db = await openCrawlDb(fresh);
  await db.startCrawl({ vantage: 'v', seeds: [], options: {}, software: 's', started: T0 }); // running, not done
  await db.close();
  await t.throwsAsync(nodesFilterCommand({ db: fresh, enrs: '-' }, capture()), {
    instanceOf: UsageError,
    message: /no finished crawl/,
  });
});

test('durations: s m h d w or plain seconds, strictly', (t) => {
  t.is(parseDuration('90', '--x'), 90_000);
  t.is(parseDuration('30s', '--x'), 30_000);
  t.is(parseDuration('30m', '--x'), 1_800_000);
  t.is(parseDuration('12h', '--x'), 43_200_000);
  t.is(parseDuration('7d', '--x'), 7 * DAY);
  t.is(parseDuration('2w', '--x'), 14 * DAY);
  t.is(parseDuration('1.5h', '--x'), 5_400_000);
  t.is(parseDuration('0', '--x', { allowZero: true }), 0);
  t.throws(() => parseDuration('0', '--x'), { instanceOf: UsageError });
  t.throws(() => parseDuration('400d', '--x'), { instanceOf: UsageError }, 'a year at most');
  t.throws(() => parseDuration('7D', '--x'), { instanceOf: UsageError });
  t.throws(() => parseDuration(' 7d', '--x'), { instanceOf: UsageError });
});

test('uptime thresholds: the fewest answers out of the window that reach F', (t) => {
  t.is(answersNeeded(0, 10), 0);
  t.is(answersNeeded(0.7, 10), 7);
  t.is(answersNeeded(0.71, 10), 8);
  t.is(answersNeeded(1, 10), 10);
  t.is(answersNeeded(0.3, 3), 1);
  t.is(answersNeeded(1 / 3, 3), 1);
  t.is(answersNeeded(0.34, 3), 2);
  t.is(answersNeeded(0.1 * 3, 10), 3, '0.30000000000000004 is 0.3');
});

test('the usage names every option', (t) => {
  for (const flag of Object.keys(NODES_FILTER_OPTIONS)) t.true(NODES_FILTER_USAGE.includes(`--${flag}`), flag);
  t.true(NODES_FILTER_USAGE.startsWith('discv5 nodes filter'));
});

function order(a: string, b: string): number {
  const rank = ['A', HI1, HI2, 'D', 'B', 'C', 'E'];
  return rank.indexOf(a) - rank.indexOf(b);
}
