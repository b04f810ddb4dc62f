/**
 * The crawl database's second schema version (Discovery v4), on SQLite and PostgreSQL: a database
 * made by version 1 (crawls, nodes, visits and neighbour lists written with version 1's columns)
 * is brought up to date when opened: its visits and lists read as discv5's, its crawls still
 * resume, filter and report; a node can then have a visit of each protocol in one crawl; a discv4
 * row without a record never replaces a node's signed record, and keeps its enode URL beside it.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import { nodeRow } from '../ts/crawl/columns.js';
import { selectNodes } from '../ts/crawl/node-set.js';
import { V4Node } from '../ts/discv4/node.js';
import { forkIdAt } from '../ts/enr/eth-networks.js';
import { createCrypto, Enr } from '../ts/index.js';
import { loadReportData } from '../ts/report/data.js';
import type { CrawlDb, VisitRow } from '../ts/store/crawl-db.js';
import { PgCrawlDb } from '../ts/store/crawl-db-pg.js';
import { SqliteCrawlDb } from '../ts/store/crawl-db-sqlite.js';
import { crawlSchema } from '../ts/store/crawl-schema.js';
import { schemaVersion } from '../ts/store/migrations.js';
import { openDatabase } from '../ts/store/open.js';
import { migratePg, PgDatabase } from '../ts/store/postgres.js';
import type { SqlRow, SqlValue } from '../ts/store/sqlite.js';
import { type PostgresServer, startPostgres } from './helpers/postgres.js';

const crypto = createCrypto();
const dir = mkdtempSync(join(tmpdir(), 'discv5-migration-'));
test.after.always(() => rmSync(dir, { recursive: true, force: true }));
let server: Promise<PostgresServer> | undefined;
test.after.always(async () => {
  if (server) await (await server).stop();
});

const keys = Array.from({ length: 3 }, () => crypto.generatePrivateKey());
const mainnet = forkIdAt('mainnet', 30_000_000, Math.floor(Date.now() / 1000));
/** Three nodes as version 1 recorded them: A with an eth entry, B and C plain. */
const records = keys.map((k, i) =>
  Enr.create(k, { ip: '127.0.0.1', udp: 30300 + i, ...(i === 0 ? { eth: mainnet } : {}) }, crypto),
);
const ids = records.map((r) => r.nodeIdHex);
const T = (s: number) => new Date(Date.UTC(2026, 11, 1, 0, 0, s)).toISOString();

/** Version 1's rows: crawl 1 done (A, B answered; A named B and C), crawl 2 cancelled (A visited, naming C). */
const V1_ROWS: [string, SqlValue[]][] = [
  ...[1, 2].map((id): [string, SqlValue[]] => [
    `INSERT INTO crawls (id, started, finished, state, vantage, seeds, options, found, answered, requests, software, owner_host, owner_pid, heartbeat)
       VALUES (?, ?, ?, ?, 'here', '[]', '{}', ?, ?, 10, 'discv5-native/0.0.9', 'elsewhere', 1, ?)`,
    [
      id,
      T(id * 10),
      T(id * 10 + 5),
      id === 1 ? 'done' : 'cancelled',
      id === 1 ? 3 : 1,
      id === 1 ? 2 : 1,
      T(id * 10 + 5),
    ],
  ]),
  ...records.map((r, i): [string, SqlValue[]] => [
    `INSERT INTO nodes (id, node_id, first_seen, last_seen, seq, record, ip, udp, eth_fork_hash, eth_fork_next)
     VALUES (?, ?, ?, ?, ?, ?, '127.0.0.1', ?, ?, ?)`,
    [
      i + 1,
      r.nodeIdHex,
      T(1),
      T(2),
      Number(r.seq),
      r.text,
      r.udp ?? null,
      i === 0 ? Buffer.from(mainnet.forkHash).toString('hex') : null,
      i === 0 ? mainnet.forkNext.toString() : null,
    ],
  ]),
  ...[
    [1, 1, 1],
    [1, 2, 1],
    [1, 3, 0],
    [2, 1, 1],
  ].map(([crawl, node, answered]): [string, SqlValue[]] => [
    `INSERT INTO visits (crawl_id, node, seq, answered, rtt_ms, error, requests, failed_buckets, started, ended)
     VALUES (?, ?, 1, ?, 5, NULL, 3, NULL, ?, ?)`,
    [crawl as number, node as number, answered as number, T(11), T(12)],
  ]),
  ['INSERT INTO neighbors (crawl_id, node, neighbor_ids) VALUES (1, 1, ?), (2, 1, ?)', ['2 3', '3']],
];

const ENGINES = {
  /** A version-1 SQLite file, then the file's path. */
  sqlite: async (): Promise<{ target: string; open(): Promise<CrawlDb> }> => {
    const path = join(dir, `v1-${Math.random().toString(16).slice(2)}.db`);
    const db = openDatabase(path, { migrations: [{ version: 1, up: crawlSchema('sqlite')[0] as string }] });
    t1(schemaVersion(db));
    db.transaction(() => {
      for (const [sql, params] of V1_ROWS) db.prepare(sql).run(...params);
    });
    db.close();
    return { target: path, open: async () => new SqliteCrawlDb(path) };
  },
  postgres: async (): Promise<{ target: string; open(): Promise<CrawlDb> }> => {
    server ??= startPostgres();
    const url = await (await server).createDatabase();
    const db = await PgDatabase.connect(url);
    try {
      t1((await migratePg(db, [crawlSchema('postgres')[0] as string])).to);
      for (const [sql, params] of V1_ROWS) await db.query(sql, params);
      // Identity columns were given explicit ids: move them past those, as a real version-1 database would be.
      await db.query("SELECT setval(pg_get_serial_sequence('crawls', 'id'), 2)");
      await db.query("SELECT setval(pg_get_serial_sequence('nodes', 'id'), 3)");
    } finally {
      await db.close();
    }
    return { target: url, open: () => PgCrawlDb.open(url) };
  },
};

function t1(version: number): void {
  if (version !== 1) throw new Error(`made version ${version}, not 1`);
}

async function version(db: CrawlDb): Promise<number> {
  if (db instanceof SqliteCrawlDb) return schemaVersion(db.sql);
  return Number((await db.query('SELECT version FROM discv5_schema'))[0]?.version);
}

const visit = (node: VisitRow['node'], protocol: 'v4' | 'v5', answered = true): VisitRow => ({
  node,
  seq: 0,
  answered,
  rttMs: 7,
  error: undefined,
  requests: 2,
  failedBuckets: [],
  started: Date.now(),
  ended: Date.now(),
  neighbors: [],
  protocol,
});

for (const engine of ['sqlite', 'postgres'] as const) {
  test.serial(`${engine}: a version-1 database is migrated on open; its rows read as discv5's`, async (t) => {
    t.timeout(60_000);
    const made = await ENGINES[engine]();
    const db = await made.open();
    t.teardown(() => db.close());
    t.is(await version(db), 2);
    const rows = async (sql: string, params: SqlValue[] = []): Promise<SqlRow[]> => db.query(sql, params);
    t.deepEqual(
      (await rows('SELECT crawl_id, node, protocol, answered FROM visits ORDER BY crawl_id, node')).map((r) => [
        Number(r.crawl_id),
        Number(r.node),
        r.protocol,
        Number(r.answered),
      ]),
      [
        [1, 1, 'v5', 1],
        [1, 2, 'v5', 1],
        [1, 3, 'v5', 0],
        [2, 1, 'v5', 1],
      ],
    );
    t.deepEqual(
      (await rows('SELECT crawl_id, neighbor_ids, protocol FROM neighbors ORDER BY crawl_id')).map((r) => [
        Number(r.crawl_id),
        r.neighbor_ids,
        r.protocol,
      ]),
      [
        [1, '2 3', 'v5'],
        [2, '3', 'v5'],
      ],
    );
    t.deepEqual(
      await rows('SELECT eth_network, eth_fork, enode FROM nodes WHERE id = 1'),
      [{ eth_network: null, eth_fork: null, enode: null }],
      'filled when the node is seen again',
    );
    // The old crawls still filter, report and resume.
    t.deepEqual((await selectNodes(db, { answered: true })).nodes.map((n) => n.nodeId).sort(), [ids[0], ids[1]].sort());
    t.is((await selectNodes(db, { protocol: 'v4' })).nodes.length, 0);
    const report = await loadReportData(db);
    t.like(report.crawl, { id: 1, found: 3, answered: 2 });
    t.deepEqual(report.protocols, [{ label: 'v5', value: 3, answered: 2 }]);
    const point = await db.resume(2);
    if (point === undefined) return t.fail('resume refused');
    t.deepEqual([...point.visited], [ids[0]]);
    t.deepEqual(point.pending, [records[2]?.text]);
    t.deepEqual(point.v4, { visited: new Set(), pending: [] });
    await db.finishCrawl(2, 'done');

    // A new crawl: node A by both protocols (one row, two visits); B by discv4 without a record.
    const crawl = await db.startCrawl({
      vantage: 'here',
      seeds: [],
      options: {},
      software: 'test',
      started: Date.now(),
    });
    const a = records[0] as Enr;
    const aV4 = V4Node.fromEnr(crypto, a) as V4Node;
    const bV4 = (V4Node.fromEnr(crypto, records[1] as Enr) as V4Node).at('127.0.0.1', 30401, 30402);
    const bBare = V4Node.fromEnode(crypto, bV4.enode);
    const rowsIn = [nodeRow(a, Date.now()), nodeRow(aV4, Date.now()), nodeRow(bBare, Date.now())];
    await db.record(crawl, {
      found: rowsIn,
      visits: [
        visit(nodeRow(a, Date.now()), 'v5'),
        visit(nodeRow(aV4, Date.now()), 'v4'),
        visit(rowsIn[2] as VisitRow['node'], 'v4', false),
      ],
    });
    const info = await db.finishCrawl(crawl, 'done');
    t.like(info, { found: 2, answered: 1 }, 'nodes, not visits');
    t.deepEqual(
      (
        await rows('SELECT v.protocol FROM visits v WHERE v.crawl_id = ? AND v.node = 1 ORDER BY v.protocol', [crawl])
      ).map((r) => r.protocol),
      ['v4', 'v5'],
    );
    t.deepEqual(await rows('SELECT record, eth_network, enode FROM nodes WHERE id = 1'), [
      { record: a.text, eth_network: 'mainnet', enode: aV4.enode },
    ]);
    // B's signed record stays; the enode URL discv4 reached it at is kept beside it.
    t.deepEqual(await rows('SELECT record, seq, enode FROM nodes WHERE id = 2'), [
      { record: records[1]?.text, seq: Number(records[1]?.seq), enode: bBare.enode },
    ]);
    t.is((await selectNodes(db, { protocol: 'v4' })).nodes.length, 2);
    t.is((await selectNodes(db, { protocol: 'v4', network: 'mainnet' })).nodes[0]?.nodeId, ids[0]);
    t.is((await selectNodes(db, { protocol: 'v5' })).nodes.length, 1);
    t.is((await selectNodes(db, {})).total, 2);

    // Opened again: nothing to migrate, the data as it was.
    const again = await made.open();
    t.teardown(() => again.close());
    t.is(await version(again), 2);
    t.is((await again.crawls()).length, 3);
  });
}

test('a discv4 row without a record: its endpoint, its enode URL as record, seq 0', (t) => {
  const node = V4Node.fromEnr(crypto, records[2] as Enr) as V4Node;
  const bare = V4Node.fromEnode(crypto, node.enode);
  t.like(nodeRow(bare, 0).fields, {
    seq: 0,
    record: bare.enode,
    enode: bare.enode,
    ip: '127.0.0.1',
    udp: 30302,
    tcp: null, // its record names no TCP port: the URL says 0, the row none
    ip6: null,
    fork_digest: null,
    eth_network: null,
  });
  t.like(nodeRow(node, 0).fields, { record: records[2]?.text, enode: node.enode, seq: Number(records[2]?.seq) });
});
