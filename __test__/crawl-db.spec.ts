/**
 * The crawl database on both engines, SQLite (a file) and PostgreSQL (a throwaway server on
 * 127.0.0.1 that the test starts itself): the schema; two crawls of a testnet and a cancelled one,
 * recorded in batches; resuming the cancelled one; crawls whose process is gone marked failed; a
 * fleet of two crawlers recording into one PostgreSQL database at the same time.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test, { type ExecutionContext } from 'ava';
import { nodeRow } from '../ts/crawl/columns.js';
import { type CrawledNode, type CrawlSummary, crawl } from '../ts/crawl/crawler.js';
import { crawlerNode } from '../ts/crawl/identities.js';
import { CrawlRecorder } from '../ts/crawl/recorder.js';
import { signRecord } from '../ts/enr/create.js';
import { createCrypto, type Discv5, Enr, EnrDecoder } from '../ts/index.js';
import { encode as rlpEncode } from '../ts/rlp/rlp.js';
import type { CrawlDb } from '../ts/store/crawl-db.js';
import { PgCrawlDb } from '../ts/store/crawl-db-pg.js';
import { SqliteCrawlDb } from '../ts/store/crawl-db-sqlite.js';
import { openCrawlDb } from '../ts/store/open-crawl-db.js';
import type { SqlRow, SqlValue } from '../ts/store/sqlite.js';
import { CLEAN_PROFILE } from '../ts/testnet/plan.js';
import { startTestnet, type Testnet } from '../ts/testnet/testnet.js';
import { type PostgresServer, startPostgres } from './helpers/postgres.js';

const NATIVE = createCrypto({ backend: 'native' });
const dir = mkdtempSync(join(tmpdir(), 'discv5-crawldb-'));
test.after.always(() => rmSync(dir, { recursive: true, force: true }));

let server: Promise<PostgresServer> | undefined;
test.after.always(async () => {
  if (server) await (await server).stop();
});

let files = 0;
const ENGINES = {
  sqlite: async () => openCrawlDb(join(dir, `crawl-${++files}.db`)),
  postgres: async () => {
    server ??= startPostgres();
    return openCrawlDb(await (await server).createDatabase());
  },
} as const;
type EngineName = keyof typeof ENGINES;

/** Runs SQL on either engine's connection (for checks the interface does not offer). */
async function query(db: CrawlDb, sql: string, params: SqlValue[] = []): Promise<SqlRow[]> {
  if (db instanceof SqliteCrawlDb) return db.sql.prepare(sql).all(...params);
  return (db as PgCrawlDb).sql.query(sql, params);
}

async function run(db: CrawlDb, sql: string, params: SqlValue[] = []): Promise<void> {
  if (db instanceof SqliteCrawlDb) db.sql.prepare(sql).run(...params);
  else await (db as PgCrawlDb).sql.query(sql, params);
}

/** A 60-node prefilled testnet in memory, 6 of its records dead, and a crawler node on it. */
async function network(t: ExecutionContext): Promise<{ net: Testnet; crawler: () => Promise<Discv5> }> {
  const net = await startTestnet({
    nodes: 60,
    prefill: true,
    transport: 'memory',
    seed: 7,
    // What these specs test is the database: the crawl runs on native crypto on both legs (js only slows it).
    crypto: NATIVE,
    profile: { ...CLEAN_PROFILE, dead: 0.1 },
  });
  t.teardown(() => net.stop());
  const crawler = async () => {
    const node = await crawlerNode({ transport: net.network?.transport('127.0.0.1') }, undefined, NATIVE);
    t.teardown(() => node.stop());
    return node;
  };
  return { net, crawler };
}

/** One crawl of `net` recorded by `recorder` (quick limits: dead records are in memory, so a time limit is all they cost). */
async function recordedCrawl(
  asker: Discv5,
  seeds: Enr[],
  recorder: CrawlRecorder,
  extra: {
    signal?: AbortSignal;
    onNode?: (n: CrawledNode) => void;
    resume?: { visited: Set<string>; pending: Enr[] };
  } = {},
): Promise<CrawlSummary> {
  return crawl(asker, seeds, {
    rtt: { maxMs: 400 },
    seedAttempts: 1,
    ...(extra.signal ? { signal: extra.signal } : {}),
    ...(extra.resume ? { resume: extra.resume } : {}),
    onFound: (enr) => recorder.found(enr),
    onNode: (node) => {
      recorder.visited(node);
      extra.onNode?.(node);
    },
  });
}

const start = (vantage = 'test') => ({
  vantage,
  seeds: [] as string[],
  options: { mode: 'full' },
  software: 'discv5-native/test',
  started: Date.now(),
});

for (const engine of Object.keys(ENGINES) as EngineName[]) {
  test.serial(`${engine}: the schema has every table and column, and opening again keeps the data`, async (t) => {
    const db = await ENGINES[engine]();
    t.teardown(() => db.close());
    const columns = async (table: string) =>
      engine === 'sqlite'
        ? (await query(db, `PRAGMA table_info(${table})`)).map((r) => String(r.name))
        : (
            await query(
              db,
              'SELECT column_name FROM information_schema.columns WHERE table_name = ? ORDER BY ordinal_position',
              [table],
            )
          ).map((r) => String(r.column_name));
    t.deepEqual(await columns('crawls'), [
      'id',
      'started',
      'finished',
      'state',
      'vantage',
      'seeds',
      'options',
      'found',
      'answered',
      'requests',
      'software',
      'owner_host',
      'owner_pid',
      'heartbeat',
    ]);
    t.deepEqual(await columns('nodes'), [
      'id',
      'node_id',
      'first_seen',
      'last_seen',
      'seq',
      'record',
      'ip',
      'udp',
      'tcp',
      'quic',
      'ip6',
      'udp6',
      'tcp6',
      'quic6',
      'fork_digest',
      'next_fork_version',
      'next_fork_epoch',
      'attnets',
      'attnets_count',
      'syncnets',
      'syncnets_count',
      'cgc',
      'nfd',
      'eth_fork_hash',
      'eth_fork_next',
      'client',
      'network',
      'eth_network',
      'eth_fork',
      'enode',
    ]);
    t.deepEqual(await columns('visits'), [
      'crawl_id',
      'node',
      'seq',
      'answered',
      'rtt_ms',
      'error',
      'requests',
      'failed_buckets',
      'started',
      'ended',
      'protocol',
    ]);
    t.deepEqual(await columns('neighbors'), ['crawl_id', 'node', 'neighbor_ids', 'protocol']);
    const id = await db.startCrawl(start());
    t.is((await db.crawl(id))?.state, 'running');
    // A second connection (another crawler, or the next run) opens the same database at the same version.
    const again = db instanceof SqliteCrawlDb ? await openCrawlDb(db.location) : await reopenPg(db);
    t.teardown(() => again.close());
    t.deepEqual(
      (await again.crawls()).map((c) => c.id),
      [id],
    );
  });

  test.serial(
    `${engine}: two crawls and a cancelled one, recorded in batches; the cancelled one resumed`,
    async (t) => {
      t.timeout(120_000);
      const { net, crawler } = await network(t);
      const db = await ENGINES[engine]();
      t.teardown(() => db.close());
      const asker = await crawler();
      const seeds = [net.bootEnr];
      const live = net.members.filter((m) => !m.plan.dead).length;

      // Crawl 1, in batches of 16 rows.
      const r1 = await CrawlRecorder.start(db, start(), { batchSize: 16 });
      const s1 = await recordedCrawl(asker, seeds, r1);
      const c1 = await r1.finish('done');
      t.is(s1.found, 60);
      t.is(s1.answered, live);
      t.like(c1, { state: 'done', found: 60, answered: live, requests: s1.requests, vantage: 'test' });
      t.true(r1.batches > 3, `${r1.batches} batches`);
      // Every node, with its record decoded; every visit; the neighbours as the crawl saw them.
      const nodes = await query(db, 'SELECT id, node_id, record, ip, udp, fork_digest, attnets FROM nodes');
      t.is(nodes.length, 60);
      const byHex = new Map(s1.nodes.map((n) => [n.enr.nodeIdHex, n]));
      const hexOf = new Map(nodes.map((r) => [Number(r.id), String(r.node_id)]));
      for (const r of nodes) {
        const enr = byHex.get(String(r.node_id))?.enr;
        t.is(r.record, enr?.text);
        t.is(r.ip, enr?.ip ?? null);
        t.is(r.udp, enr?.udp ?? null);
        t.is(typeof r.fork_digest, 'string');
      }
      const visits = await query(db, 'SELECT node, answered, rtt_ms, error FROM visits WHERE crawl_id = ?', [c1.id]);
      t.is(visits.length, 60);
      for (const v of visits) {
        const n = byHex.get(hexOf.get(Number(v.node)) as string) as CrawledNode;
        t.is(v.answered, n.answered ? 1 : 0);
        t.is(v.error, n.error ?? null);
        t.is(v.rtt_ms, n.rttMs ?? null);
      }
      const lists = await query(db, 'SELECT node, neighbor_ids FROM neighbors WHERE crawl_id = ?', [c1.id]);
      t.is(lists.length, live, 'a list for each node that answered');
      for (const l of lists) {
        const n = byHex.get(hexOf.get(Number(l.node)) as string) as CrawledNode;
        const named = String(l.neighbor_ids)
          .split(' ')
          .map((id) => hexOf.get(Number(id)));
        // The crawler's own id, in the tables of the nodes it asked, is no node of the crawl.
        t.deepEqual(named.sort(), [...n.neighbors].filter((id) => byHex.has(id)).sort());
      }

      // Crawl 2: the same nodes, seen again.
      const r2 = await CrawlRecorder.start(db, start());
      await recordedCrawl(asker, seeds, r2);
      const c2 = await r2.finish('done');
      t.like(c2, { state: 'done', found: 60, answered: live });
      t.is((await query(db, 'SELECT COUNT(*) AS n FROM nodes'))[0]?.n, 60, 'a node is one row however often seen');
      const times = await query(db, 'SELECT COUNT(*) AS n FROM nodes WHERE first_seen < last_seen');
      t.is(times[0]?.n, 60, 'first seen in crawl 1, last seen in crawl 2');

      // Crawl 3, cancelled after 20 nodes: what was visited is recorded.
      const r3 = await CrawlRecorder.start(db, start());
      const controller = new AbortController();
      let seen = 0;
      const s3 = await recordedCrawl(asker, seeds, r3, {
        signal: controller.signal,
        onNode: () => {
          if (++seen === 20) controller.abort();
        },
      });
      t.is(s3.stop, 'aborted');
      const c3 = await r3.finish('cancelled');
      t.is(c3.state, 'cancelled');
      t.true(c3.found >= 20 && c3.found < 60, `${c3.found} visits recorded`);

      // Resumed: the visited nodes are not asked again; the crawl ends with every node visited once.
      t.is((await db.lastUnfinished('test'))?.id, c3.id);
      t.is(await db.lastUnfinished('elsewhere'), undefined);
      const point = await db.resume(c3.id);
      if (point === undefined) return t.fail('resume refused');
      t.is(point.visited.size, c3.found);
      t.true(point.pending.length > 0);
      t.is(await db.resume(c3.id), undefined, 'a running crawl cannot be taken over');
      const decoder = new EnrDecoder(createCrypto());
      const pending = decoder.decodeBatch(point.pending).filter((r): r is Enr => !(r instanceof Error));
      t.is(pending.length, point.pending.length);
      const asked: string[] = [];
      const r4 = CrawlRecorder.resumed(db, point);
      await recordedCrawl(asker, seeds, r4, {
        resume: { visited: point.visited, pending },
        onNode: (n) => asked.push(n.enr.nodeIdHex),
      });
      const c4 = await r4.finish('done');
      t.is(c4.id, c3.id);
      t.like(c4, { state: 'done', found: 60, answered: live });
      t.deepEqual(
        asked.filter((id) => point.visited.has(id)),
        [],
        'visited nodes not asked again',
      );
      t.deepEqual(
        (await db.crawls()).map((c) => c.state),
        ['done', 'done', 'done'],
      );
    },
  );

  test.serial(`${engine}: a running crawl whose process is gone is marked failed, a live one is not`, async (t) => {
    const db = await ENGINES[engine]();
    t.teardown(() => db.close());
    const ours = await db.startCrawl(start());
    const deadHere = await db.startCrawl(start());
    const staleElsewhere = await db.startCrawl(start());
    const freshElsewhere = await db.startCrawl(start());
    // A pid that is certainly not running: one above the kernel's maximum.
    await run(db, 'UPDATE crawls SET owner_pid = ? WHERE id = ?', [4_194_305, deadHere]);
    const old = new Date(Date.now() - 10 * 60_000).toISOString();
    await run(db, "UPDATE crawls SET owner_host = 'elsewhere', heartbeat = ? WHERE id = ?", [old, staleElsewhere]);
    await run(db, "UPDATE crawls SET owner_host = 'elsewhere' WHERE id = ?", [freshElsewhere]);
    t.deepEqual((await db.markAbandoned()).sort(), [deadHere, staleElsewhere].sort());
    const state = async (id: number) => (await db.crawl(id))?.state;
    t.is(await state(ours), 'running');
    t.is(await state(freshElsewhere), 'running');
    t.is(await state(deadHere), 'failed');
    t.is((await db.lastUnfinished('test'))?.id, Math.max(deadHere, staleElsewhere));
  });
}

async function reopenPg(db: CrawlDb): Promise<CrawlDb> {
  const url = (await server)?.urlFor(new URL(db.location).pathname.slice(1)) as string;
  return PgCrawlDb.open(url);
}

test.serial('postgres: a fleet of two crawlers records into one database at the same time', async (t) => {
  t.timeout(120_000);
  const { net, crawler } = await network(t);
  server ??= startPostgres();
  const url = await (await server).createDatabase();
  const [a, b] = await Promise.all([PgCrawlDb.open(url), PgCrawlDb.open(url)]);
  t.teardown(() => Promise.all([a?.close(), b?.close()]));
  const crawlers = await Promise.all([crawler(), crawler()]);
  const results = await Promise.all(
    [a, b].map(async (db, i) => {
      const recorder = await CrawlRecorder.start(db as CrawlDb, start(`vantage-${i}`), { batchSize: 8 });
      const summary = await recordedCrawl(crawlers[i] as Discv5, [net.bootEnr], recorder);
      return { summary, info: await recorder.finish('done') };
    }),
  );
  const live = net.members.filter((m) => !m.plan.dead).length;
  // Each crawler can meet the other (in the tables of nodes the other asked first): 60 or 61 found.
  const all = new Set<string>();
  for (const [i, r] of results.entries()) {
    t.like(r.info, { state: 'done', found: r.summary.found, answered: r.summary.answered, vantage: `vantage-${i}` });
    t.true(r.summary.found >= 60 && r.summary.answered >= live);
    for (const n of r.summary.nodes) all.add(n.enr.nodeIdHex);
  }
  t.is((await query(a as CrawlDb, 'SELECT COUNT(*) AS n FROM nodes'))[0]?.n, all.size, 'each node one row');
  const visits = results.reduce((sum, r) => sum + r.summary.found, 0);
  t.is((await query(a as CrawlDb, 'SELECT COUNT(*) AS n FROM visits'))[0]?.n, visits, 'each crawl its visits');
});

test.serial('sqlite: a corrupt database file is moved aside and a fresh one made', async (t) => {
  const path = join(dir, 'corrupt.db');
  writeFileSync(path, Buffer.alloc(8192, 0x5a));
  const reports: string[] = [];
  const db = await openCrawlDb(path, { onReport: (r) => reports.push(r.kind) });
  t.teardown(() => db.close());
  t.deepEqual(reports, ['corrupt']);
  t.deepEqual(await db.crawls(), []);
});

test('postgres: without the pg client the error says what to install', async (t) => {
  await t.throwsAsync(
    () =>
      PgCrawlDb.open('postgres://127.0.0.1:1/x', {
        load: () => {
          throw new Error("Cannot find module 'pg'");
        },
      }),
    { code: 'ERR_STORE_UNAVAILABLE', message: /npm install pg/ },
  );
});

test('a record decodes into the node columns; malformed entries are NULL, never an error', (t) => {
  const c = createCrypto();
  const key = c.generatePrivateKey();
  const rlp = (v: Uint8Array | Uint8Array[]) => rlpEncode(v);
  const ascii = (s: string) => new TextEncoder().encode(s);
  const raw = new Map<string, Uint8Array>([
    ['attnets', rlp(Uint8Array.of(0x22, 0, 0, 0, 0, 0, 0, 0x80))],
    ['cgc', rlp(Uint8Array.of(8))],
    ['client', rlp([ascii('Lighthouse'), ascii('v7.0.1')])],
    // mainnet's deneb digest; next fork electra at 364032
    ['eth2', rlp(Uint8Array.of(0x6a, 0x95, 0xa1, 0xa9, 5, 0, 0, 0, 0x00, 0x8e, 0x05, 0, 0, 0, 0, 0))],
    ['eth', rlpEncode([[Uint8Array.of(0x9f, 0x3d, 0x22, 0x54), Uint8Array.of(0x68, 0x1a, 0x43, 0x57)]])],
    ['ip', rlp(Uint8Array.of(203, 0, 113, 7))],
    ['ip6', rlp(Uint8Array.of(0x20, 0x01, 0x0d, 0xb8, ...new Uint8Array(11), 1))],
    ['nfd', rlp(Uint8Array.of(0xad, 0x53, 0x2c, 0xeb))],
    ['quic', rlp(Uint8Array.of(0x23, 0x29))],
    ['syncnets', rlp(Uint8Array.of(0x09))],
    ['tcp', rlp(Uint8Array.of(0x23, 0x28))],
    ['udp', rlp(Uint8Array.of(0x23, 0x28))],
  ]);
  const enr = Enr.decode(Enr.fromParts(signRecord(c, key, 7n, raw), c, true).text, c);
  const row = nodeRow(enr, Date.parse('2026-12-07T09:00:00Z'));
  t.is(row.nodeId, enr.nodeIdHex);
  t.deepEqual(row.fields, {
    seq: 7,
    record: enr.text,
    ip: '203.0.113.7',
    udp: 9000,
    tcp: 9000,
    quic: 9001,
    ip6: '2001:db8::1',
    udp6: null,
    tcp6: null,
    quic6: null,
    fork_digest: '6a95a1a9',
    next_fork_version: '05000000',
    next_fork_epoch: '364032',
    attnets: '2200000000000080',
    attnets_count: 3,
    syncnets: '09',
    syncnets_count: 2,
    cgc: 8,
    nfd: 'ad532ceb',
    eth_fork_hash: '9f3d2254',
    eth_fork_next: '1746551639',
    client: 'Lighthouse/v7.0.1',
    network: 'mainnet',
    eth_network: 'mainnet',
    eth_fork: 'cancun',
    enode: null,
  });
  // A record of ours with malformed typed entries (signed, so it decodes): those columns are NULL.
  const bad = new Map<string, Uint8Array>([
    ['attnets', rlp(Uint8Array.of(1, 2, 3))],
    ['cgc', rlp(Uint8Array.of(0, 1))],
    ['client', rlp(ascii('not a list'))],
    ['eth2', rlp(Uint8Array.of(1, 2, 3))],
  ]);
  const worse = nodeRow(Enr.decode(Enr.fromParts(signRecord(c, key, 2n ** 64n - 1n, bad), c, true).text, c), 0);
  t.like(worse.fields, {
    seq: 2n ** 63n - 1n, // saturated in the BIGINT column; the record text keeps the exact value
    attnets: null,
    attnets_count: null,
    cgc: null,
    client: null,
    fork_digest: null,
    network: null,
    ip: null,
  });
});
