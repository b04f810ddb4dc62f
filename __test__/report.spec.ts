/**
 * `discv5 report`: the crawl database as one self-contained HTML page. Data from two real crawls of
 * an in-memory testnet (some members change their record between the crawls), recorded into SQLite
 * and, in one test, into SQLite and PostgreSQL at once (the same figures from both engines), plus
 * hand-recorded hostile rows (markup, quotes and ampersands in every text column) that must come out
 * escaped. An empty database, the CLI's errors, and the page in a real headless Chromium with the
 * network cut off: no console error, charts with data points, the table sorting and filtering, a
 * screenshot kept as a test artifact (__test__/artifacts/report.png).
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import test from 'ava';
import { reportCommand } from '../ts/cli/commands/report.js';
import { crawl } from '../ts/crawl/crawler.js';
import { crawlerNode } from '../ts/crawl/identities.js';
import { CrawlRecorder } from '../ts/crawl/recorder.js';
import { createCrypto } from '../ts/index.js';
import { loadReportData, type ReportData } from '../ts/report/data.js';
import { writeReport } from '../ts/report/report.js';
import type { CrawlDb, NodeField, VisitRow } from '../ts/store/crawl-db.js';
import { NODE_FIELDS } from '../ts/store/crawl-schema.js';
import { openCrawlDb } from '../ts/store/open-crawl-db.js';
import type { SqlValue } from '../ts/store/sqlite.js';
import { CLEAN_PROFILE, OTHER_FORK_DIGESTS, TESTNET_FORK_DIGEST } from '../ts/testnet/plan.js';
import { startTestnet } from '../ts/testnet/testnet.js';
import { launchChromium } from './helpers/chromium.js';
import { type PostgresServer, startPostgres } from './helpers/postgres.js';

const NATIVE = createCrypto({ backend: 'native' });
const dir = mkdtempSync(join(tmpdir(), 'discv5-report-'));
test.after.always(() => rmSync(dir, { recursive: true, force: true }));
let server: Promise<PostgresServer> | undefined;
test.after.always(async () => {
  if (server) await (await server).stop();
});

const NODES = 40;
/** Live home members that change their record (cgc, attnets) between the two crawls. */
const UPDATED = 5;

/** Two crawls of one testnet, each recorded into every db of `dbs` at once; then the hostile rows into the second. */
async function crawlTwice(dbs: CrawlDb[]): Promise<{ ids: number[][]; live: number; updated: string[] }> {
  const net = await startTestnet({
    nodes: NODES,
    prefill: true,
    transport: 'memory',
    seed: 11,
    // What these specs test is the database: the crawl runs on native crypto on both legs (js only slows it).
    crypto: NATIVE,
    profile: { ...CLEAN_PROFILE, dead: 0.1, foreign: 0.2 },
  });
  const asker = await crawlerNode({ transport: net.network?.transport('127.0.0.1') }, undefined, NATIVE);
  const ids: number[][] = dbs.map(() => []);
  const updated: string[] = [];
  try {
    for (let round = 0; round < 2; round++) {
      if (round === 1) {
        const movers = net.members.filter((m) => m.node && m.plan.index > 0 && m.plan.network === 'home');
        for (const m of movers.slice(0, UPDATED)) {
          m.node?.updateLocalEnr({ cgc: 16, attnets: [1, 2, 3, 4] });
          updated.push(m.enr.nodeIdHex);
        }
      }
      const recorders = await Promise.all(
        dbs.map((db) =>
          CrawlRecorder.start(
            db,
            {
              vantage: 'test',
              seeds: [net.bootEnr.text],
              options: {},
              software: 'discv5-native/test',
              started: Date.now(),
            },
            { batchSize: 16 },
          ),
        ),
      );
      await crawl(asker, [net.bootEnr], {
        rtt: { maxMs: 400 },
        seedAttempts: 1,
        onFound: (enr) => {
          for (const r of recorders) r.found(enr);
        },
        onNode: (node) => {
          for (const r of recorders) r.visited(node);
        },
      });
      for (const [i, r] of recorders.entries()) ids[i]?.push((await r.finish('done')).id);
    }
  } finally {
    await asker.stop();
    await net.stop();
  }
  for (const [i, db] of dbs.entries()) await recordHostile(db, ids[i]?.[1] as number);
  return { ids, live: net.members.filter((m) => !m.plan.dead).length, updated };
}

const SCRIPT = '<script>alert(1)</script>';
/** Rows no crawler would write, as a hand-edited or hostile database could hold them. */
const HOSTILE: { id: string; f: Partial<Record<NodeField, SqlValue>>; answered: boolean; rtt?: number }[] = [
  {
    id: `aa${'0'.repeat(62)}`,
    f: {
      client: SCRIPT,
      ip: '10.0.0.1',
      udp: 9000,
      network: 'mainnet',
      fork_digest: '6a95a1a9',
      attnets_count: 64,
      cgc: 128,
    },
    answered: true,
    rtt: 42,
  },
  {
    id: `ab${'0'.repeat(62)}`,
    f: { client: 'Light"house & co/v1', ip6: '2001:db8::1', udp6: 9000, network: 'sepolia' },
    answered: true,
    rtt: 7,
  },
  {
    id: `ac${'0'.repeat(62)}`,
    f: { client: 'Lighthouse/v7.0.1', ip: '10.0.0.3', ip6: '2001:db8::3', udp: 9000, network: 'mainnet', cgc: 8 },
    answered: true,
    rtt: 120,
  },
  {
    id: `ad${'0'.repeat(62)}`,
    f: {
      client: 'Lighthouse/v7.0.2',
      ip: '10.0.0.4',
      network: '<b>net</b>',
      fork_digest: '"><img src=x onerror=alert(2)>',
    },
    answered: false,
  },
  {
    id: `"><svg onload=alert(3)>&amp;${'e'.repeat(40)}`,
    f: { client: '</td></tr></table><script>alert(4)</script>', ip: "10.0.0.5' onmouseover='alert(5)" },
    answered: false,
  },
];

async function recordHostile(db: CrawlDb, crawlId: number): Promise<void> {
  const now = Date.now();
  const visits: VisitRow[] = HOSTILE.map((h) => {
    const fields = Object.fromEntries(NODE_FIELDS.map((k) => [k, null])) as Record<NodeField, SqlValue>;
    Object.assign(fields, { seq: 1, record: 'enr:-not-a-record' }, h.f);
    return {
      node: { nodeId: h.id, seen: now, fields },
      seq: 1,
      answered: h.answered,
      rttMs: h.rtt,
      error: h.answered ? undefined : 'timeout <b>&</b>',
      requests: 1,
      failedBuckets: [],
      started: now,
      ended: now,
      neighbors: [],
    };
  });
  await db.record(crawlId, { found: visits.map((v) => v.node), visits });
  await db.finishCrawl(crawlId, 'done'); // counts again, with these rows
}

interface Fixture {
  db: CrawlDb;
  ids: number[];
  live: number;
  updated: string[];
}
let fixture: Promise<Fixture> | undefined;
/** One SQLite database with the two crawls and the hostile rows, made once for the tests that read it. */
function sqliteFixture(): Promise<Fixture> {
  fixture ??= (async () => {
    const db = await openCrawlDb(join(dir, 'crawls.db'));
    const r = await crawlTwice([db]);
    return { db, ids: r.ids[0] as number[], live: r.live, updated: r.updated };
  })();
  return fixture;
}
test.after.always(async () => {
  if (fixture) await (await fixture).db.close();
});

const count = (counts: { label: string; value: number }[], label: string) =>
  counts.find((c) => c.label === label)?.value ?? 0;
const points = (html: string, id: string) => {
  const svg = new RegExp(`<svg[^>]* id="${id}"[^]*?</svg>`).exec(html)?.[0] ?? '';
  return (svg.match(/class="point"/g) ?? []).length;
};

test('two real crawls: the figures of each chart', async (t) => {
  t.timeout(120_000);
  const { db, ids, live, updated } = await sqliteFixture();
  const d = await loadReportData(db);
  const found = NODES + HOSTILE.length;
  t.is(d.crawlCount, 2);
  t.is(d.crawl?.id, ids[1], 'the last done crawl by default');
  t.like(d.crawl, { state: 'done', found, answered: live + 3, vantage: 'test', software: 'discv5-native/test' });
  t.true((d.crawl?.durationMs ?? -1) >= 0);
  t.deepEqual(
    d.crawls.map((c) => [c.id, c.found, c.answered]),
    [
      [ids[0], NODES, live],
      [ids[1], found, live + 3],
    ],
  );
  // The members that changed their record are the nodes whose seq differs between the crawls.
  t.deepEqual(d.changes, [
    { id: ids[1] as number, previous: ids[0] as number, compared: NODES, changed: updated.length },
  ]);
  t.is(updated.length, UPDATED);
  t.is(count(d.cgc, '16'), UPDATED, 'testnet records carry 4 or 128');
  t.is(count(d.attnets, '4'), UPDATED);
  t.is(count(d.attnets, '64'), 1);
  t.is(d.attnets.at(-1)?.label, 'none', 'no attnets entry last');
  // Per network and fork digest: the testnet's own digest names no known network.
  t.true(count(d.forkDigests, TESTNET_FORK_DIGEST) > NODES / 2);
  t.true(OTHER_FORK_DIGESTS.some((f) => count(d.forkDigests, f) > 0));
  t.is(count(d.forkDigests, '"><img src=x onerror=alert(2)>'), 1);
  t.is(
    d.forkDigests.reduce((s, c) => s + c.value, 0),
    found,
  );
  t.is(count(d.networks, 'mainnet'), 2);
  t.is(count(d.networks, 'sepolia'), 1);
  t.is(count(d.networks, '<b>net</b>'), 1);
  // Testnet consensus records carry a client entry in mainnet-like shares; execution records none.
  t.true(count(d.clients, 'Lighthouse/v8.0.1') > 0 && count(d.clients, 'Prysm/v6.1.4') > 0);
  t.true(count(d.clients, 'unknown') > 0 && count(d.clients, 'unknown') < NODES / 4);
  t.is(
    d.clients.reduce((sum, c) => sum + c.value, 0),
    found,
  );
  t.is(count(d.clients, SCRIPT), 1);
  t.deepEqual(
    d.stacks.map((s) => [s.label, s.value]),
    [
      ['IPv4', NODES + 3],
      ['IPv6', 1],
      ['dual stack', 1],
    ],
  );
  t.is(
    d.rtt.reduce((s, r) => s + r.count, 0),
    live + 3,
    'a round trip for each node that answered',
  );
  t.is(d.nodes.length, found);
  t.is(d.nodesTotal, found);
  t.true(d.nodes.slice(0, live + 3).every((n) => n.answered) && d.nodes.slice(live + 3).every((n) => !n.answered));
  // --crawl picks another crawl.
  const first = await loadReportData(db, { crawlId: ids[0] as number });
  t.is(first.crawl?.id, ids[0]);
  t.is(first.nodesTotal, NODES);
  await t.throwsAsync(() => loadReportData(db, { crawlId: 99 }), {
    code: 'ERR_INVALID_ARGUMENT',
    message: /no crawl 99/,
  });
});

test('record changes compare a crawl with the previous done crawl of its vantage; a running crawl is counted from its visits', async (t) => {
  const db = await openCrawlDb(join(dir, 'vantages.db'));
  t.teardown(() => db.close());
  const fields = (seq: number) => {
    const f = Object.fromEntries(NODE_FIELDS.map((k) => [k, null])) as Record<NodeField, SqlValue>;
    return Object.assign(f, { seq, record: 'enr:-x', ip: '10.0.0.1' });
  };
  /** A crawl of `vantage` visiting nodes 0..n-1, node i at seq seqs(i); ended as `state` (or left running). */
  const crawlOf = async (vantage: string, n: number, seqs: (i: number) => number, state?: 'done' | 'cancelled') => {
    const id = await db.startCrawl({ vantage, seeds: [], options: {}, software: 'x', started: Date.now() });
    const now = Date.now();
    const visits: VisitRow[] = Array.from({ length: n }, (_, i) => ({
      node: { nodeId: i.toString(16).padStart(64, '0'), seen: now, fields: fields(seqs(i)) },
      seq: seqs(i),
      answered: i % 2 === 0,
      rttMs: i % 2 === 0 ? 10 + i : undefined,
      error: undefined,
      requests: 1,
      failedBuckets: [],
      started: now,
      ended: now,
      neighbors: [],
    }));
    await db.record(id, { found: visits.map((v) => v.node), visits });
    if (state) await db.finishCrawl(id, state);
    return id;
  };
  const a1 = await crawlOf('a', 10, () => 1, 'done');
  const b1 = await crawlOf('b', 10, (i) => (i < 5 ? 9 : 1), 'done');
  const a2 = await crawlOf('a', 10, (i) => (i < 2 ? 2 : 1), 'cancelled');
  const a3 = await crawlOf('a', 12, (i) => (i < 3 ? 3 : 1), 'done');
  const b2 = await crawlOf('b', 6, () => 9);
  const d = await loadReportData(db);
  t.deepEqual(d.changes, [
    { id: a2, previous: a1, compared: 10, changed: 2 },
    { id: a3, previous: a1, compared: 10, changed: 3 }, // a2 was cancelled: a1 is a3's previous done crawl
    { id: b2, previous: b1, compared: 6, changed: 1 },
  ]);
  t.is(d.crawl?.id, a3, 'the newest done crawl, not the running one');
  t.deepEqual(
    d.crawls.map((c) => [c.id, c.state, c.found, c.answered]),
    [
      [a1, 'done', 10, 5],
      [b1, 'done', 10, 5],
      [a2, 'cancelled', 10, 5],
      [a3, 'done', 12, 6],
      [b2, 'running', 6, 3],
    ],
  );
  const running = await loadReportData(db, { crawlId: b2, now: Date.now() + 60_000 });
  t.like(running.crawl, { id: b2, state: 'running', found: 6, answered: 3 });
  t.true((running.crawl?.durationMs ?? 0) >= 60_000, 'a running crawl lasts until the report');
  t.is(running.nodesTotal, 6);
});

test('the page: one chart per figure with its data points, self-contained, the table bounded', async (t) => {
  t.timeout(120_000);
  const { db, ids } = await sqliteFixture();
  const out = join(dir, 'report.html');
  const r = await writeReport(db, { out });
  t.like(r, { crawlId: ids[1], crawls: 2, rows: NODES + HOSTILE.length, nodes: NODES + HOSTILE.length });
  const html = readFileSync(out, 'utf8');
  t.is(r.bytes, Buffer.byteLength(html));
  for (const id of ['chart-crawls', 'chart-networks', 'chart-forks', 'chart-clients', 'chart-stacks']) {
    t.true(points(html, id) > 0, `${id} has points`);
  }
  for (const id of ['chart-attnets', 'chart-cgc', 'chart-rtt', 'chart-changes']) t.true(points(html, id) > 0, id);
  t.is(points(html, 'chart-crawls'), 4, 'found and answered of two crawls');
  t.is(points(html, 'chart-changes'), 1);
  t.regex(html, /<title>crawl #\d+: 5 of 40 nodes also visited in crawl #\d+ had another record seq<\/title>/);
  // Nothing to fetch: no src or href, no URL but the SVG namespace; a CSP forbids loading anything.
  t.notRegex(html.replace(/"[^"]*"/g, '""').replace(/>[^<]*</g, '><'), /\s(src|href)=/i);
  t.deepEqual([...new Set(html.match(/[a-z]+:\/\/[^\s"'<>]*/gi))], ['http://www.w3.org/2000/svg']);
  t.regex(html, /<meta http-equiv="Content-Security-Policy" content="default-src &#39;none&#39;;/);
  // The table: every node of the crawl; with a bound, the first rows and a note saying so.
  t.is((html.match(/<tr class="(yes|no)"( hidden)?>/g) ?? []).length, NODES + HOSTILE.length);
  t.false(html.includes('id="table-cut"'));
  const small = await writeReport(db, { out: join(dir, 'small.html'), maxRows: 10 });
  const cut = readFileSync(small.out, 'utf8');
  t.is((cut.match(/<tr class="(yes|no)"( hidden)?>/g) ?? []).length, 10);
  t.regex(cut, /id="table-cut">The crawl visited 45 nodes; this table holds the first 10/);
  t.false(existsSync(`${out}.${process.pid}.tmp`));
});

test('hostile strings from the database come out escaped', async (t) => {
  t.timeout(120_000);
  const { db } = await sqliteFixture();
  const out = join(dir, 'hostile.html');
  await writeReport(db, { out });
  const html = readFileSync(out, 'utf8');
  // One script element, ours; no markup from the database survives as markup.
  t.is((html.match(/<script/gi) ?? []).length, 1);
  t.is((html.match(/<\/script/gi) ?? []).length, 1);
  for (const raw of [SCRIPT, '<b>net</b>', '<img', '<svg onload', "' onmouseover='", 'Light"house', '& co'])
    t.false(html.includes(raw), `raw ${raw}`);
  t.true(html.includes('&#60;script&#62;alert(1)&#60;/script&#62;'));
  t.true(html.includes('Light&#34;house &#38; co/v1'));
  t.true(html.includes('&#60;b&#62;net&#60;/b&#62;'));
  t.true(html.includes('&#34;&#62;&#60;img src=x onerror=alert(2)&#62;'));
  t.true(html.includes('10.0.0.5&#39; onmouseover=&#39;alert(5)'));
  t.true(html.includes('&#38;amp;'), 'an entity in the data is shown, not decoded');
  // Every attribute value is quoted and holds no raw quote or angle bracket.
  const tags = html.match(/<[a-z][^>]*>/gi) ?? [];
  t.true(tags.length > 1000);
  for (const tag of tags) {
    const bare = tag.slice(1).replace(/"[^"]*"/g, '""');
    t.notRegex(bare, /=(?!"")|['<]/, tag.slice(0, 80));
    t.notRegex(bare, /\s(on\w+|src|href|style)=/i, tag.slice(0, 80));
  }
});

test('an empty database gives a page that says so; --crawl on it is an error', async (t) => {
  const db = await openCrawlDb(join(dir, 'empty.db'));
  t.teardown(() => db.close());
  const out = join(dir, 'empty.html');
  const r = await writeReport(db, { out });
  t.like(r, { crawlId: undefined, crawls: 0, rows: 0, nodes: 0 });
  const html = readFileSync(out, 'utf8');
  t.regex(html, /id="empty-state">No crawls recorded in this database yet/);
  t.false(html.includes('<svg'));
  await t.throwsAsync(() => writeReport(db, { out, crawlId: 1 }), {
    message: /no crawl 1 in the database \(it holds no crawl\)/,
  });
});

test('cli: discv5 report writes the file; a missing database, a bad or unknown --crawl are usage errors', async (t) => {
  t.timeout(120_000);
  const { db, ids } = await sqliteFixture();
  const lines: string[] = [];
  const out = { line: (s: string) => lines.push(s), log: (s: string) => lines.push(s) };
  const file = join(dir, 'cli.html');
  await reportCommand({ db: db.location, out: file, crawl: String(ids[0]) }, out);
  t.regex(
    lines.join('\n'),
    new RegExp(`^wrote ${file} \\(\\d+ KiB\\): crawl ${ids[0]}, ${NODES} nodes; 2 crawls in all$`),
  );
  t.regex(readFileSync(file, 'utf8'), new RegExp(`<h1>discv5 crawl report: crawl #${ids[0]}</h1>`));
  const missing = join(dir, 'nothing-here.db');
  const usage = { name: 'UsageError' };
  await t.throwsAsync(() => reportCommand({ db: missing, out: file }, out), {
    ...usage,
    message: /no crawl database at/,
  });
  t.false(existsSync(missing), 'not created');
  await t.throwsAsync(() => reportCommand({ db: db.location }, out), { ...usage, message: /missing --out/ });
  for (const crawl of ['0', '-1', 'x', '1.5'])
    await t.throwsAsync(() => reportCommand({ db: db.location, out: file, crawl }, out), {
      ...usage,
      message: /--crawl must be a crawl id/,
    });
  await t.throwsAsync(() => reportCommand({ db: db.location, out: file, crawl: '77' }, out), {
    ...usage,
    message: /no crawl 77/,
  });
  const empty = join(dir, 'cli-empty.db');
  await (await openCrawlDb(empty)).close();
  lines.length = 0;
  await reportCommand({ db: empty, out: file }, out);
  t.regex(lines[0] ?? '', /: no crawl recorded in .* yet$/);
});

/** The figures of a report, without what differs between engines (location, times). */
function figures(d: ReportData) {
  const { location: _l, dialect: _d, generated: _g, crawl, crawls, nodes, ...rest } = d;
  return {
    ...rest,
    crawl: { found: crawl?.found, answered: crawl?.answered, state: crawl?.state },
    crawls: crawls.map((c) => [c.found, c.answered, c.state]),
    nodes: nodes.map((n) => ({ ...n, firstSeen: undefined, lastSeen: undefined })),
    changes: d.changes.map((c) => [c.compared, c.changed]),
  };
}

test.serial('postgres: the same crawls recorded into PostgreSQL and SQLite give the same report', async (t) => {
  t.timeout(180_000);
  server ??= startPostgres();
  const pg = await openCrawlDb(await (await server).createDatabase());
  t.teardown(() => pg.close());
  const lite = await openCrawlDb(join(dir, 'twin.db'));
  t.teardown(() => lite.close());
  await crawlTwice([pg, lite]);
  const [a, b] = await Promise.all([loadReportData(pg), loadReportData(lite)]);
  t.is(a.dialect, 'postgres');
  t.is(a.nodesTotal, NODES + HOSTILE.length);
  t.is(a.changes[0]?.changed, UPDATED);
  t.deepEqual(figures(a), figures(b));
  const out = join(dir, 'pg.html');
  await writeReport(pg, { out });
  const html = readFileSync(out, 'utf8');
  t.true(html.includes('&#60;script&#62;alert(1)&#60;/script&#62;'));
  t.true(points(html, 'chart-rtt') > 0 && points(html, 'chart-changes') === 1);
});

const ARTIFACT = fileURLToPath(new URL('./artifacts/report.png', import.meta.url));

test.serial('chromium: the page works offline, sorts, filters, runs no injected script', async (t) => {
  t.timeout(240_000);
  const { db } = await sqliteFixture();
  const out = join(dir, 'browser.html');
  await writeReport(db, { out });
  const url = pathToFileURL(out).href;
  const started = performance.now();
  const browser = await launchChromium();
  t.teardown(() => browser.close());
  const page = await browser.open(url);

  const charts = await page.evaluate<{ id: string; points: number; values: boolean }[]>(`
    Array.from(document.querySelectorAll('svg.chart'), (svg) => {
      const pts = Array.from(svg.querySelectorAll('.point'));
      return {
        id: svg.id,
        points: pts.length,
        values: pts.every((p) => p.dataset.value !== '' && Number.isFinite(Number(p.dataset.value)) && p.querySelector('title')),
      };
    })`);
  t.is(charts.length, 9);
  for (const c of charts) t.true(c.points > 0 && c.values, `${c.id}: ${c.points} points`);

  const column = (i: number) =>
    page.evaluate<string[]>(
      `Array.from(document.querySelectorAll('#nodes tbody tr:not([hidden])'), (r) => r.cells[${i}].dataset.v ?? r.cells[${i}].textContent)`,
    );
  const headers = await page.evaluate<string[]>(
    `Array.from(document.querySelectorAll('#nodes th'), (th) => th.textContent)`,
  );
  const rtt = headers.indexOf('rtt ms');
  const client = headers.indexOf('client');
  const asNumbers = (xs: string[]) => xs.map((x) => (x === '' ? Number.NEGATIVE_INFINITY : Number(x)));
  await page.click('#nodes th button', rtt);
  const up = asNumbers(await column(rtt));
  t.deepEqual(
    up,
    [...up].sort((a, b) => a - b),
    'rtt ascending',
  );
  t.is(await page.evaluate(`document.querySelectorAll('#nodes th')[${rtt}].getAttribute('aria-sort')`), 'ascending');
  await page.click('#nodes th button', rtt);
  const down = asNumbers(await column(rtt));
  t.deepEqual(
    down,
    [...down].sort((a, b) => b - a),
    'rtt descending',
  );
  t.true((down[0] as number) >= 120);
  await page.click('#nodes th button', client);
  const clients = await column(client);
  t.deepEqual(
    clients,
    [...clients].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)),
    'clients in order',
  );
  t.true(clients.includes(SCRIPT), 'the hostile client shown as text');

  await page.type('#filter', 'lighthouse/v7');
  const visible = await column(client);
  // 'Light"house & co' has no "lighthouse/v7" in it, nor have the testnet's clients (v8.0.1).
  t.deepEqual(visible.sort(), ['Lighthouse/v7.0.1', 'Lighthouse/v7.0.2']);
  t.is(await page.evaluate(`document.getElementById('shown').textContent`), '2');
  await page.type('#filter', ' mainnet');
  t.deepEqual(await column(client), ['Lighthouse/v7.0.1']);

  mkdirSync(join(ARTIFACT, '..'), { recursive: true });
  await page.evaluate(
    `(document.getElementById('filter').value = '', document.getElementById('filter').dispatchEvent(new Event('input')), 0)`,
  );
  const png = await page.screenshot();
  writeFileSync(ARTIFACT, png);
  t.deepEqual([...png.subarray(0, 8)], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  t.true(png.length > 20_000, `${png.length} bytes`);

  t.deepEqual(page.log.requests, [url], 'no request but the page itself');
  t.deepEqual(page.log.blocked, []);
  t.deepEqual(page.log.errors, []);
  t.deepEqual(page.log.dialogs, [], 'no injected script ran');
  t.deepEqual(
    page.log.console.filter((m) => m.level === 'error'),
    [],
  );

  // A page at a time: 10 rows here; sorting and filtering go back to the first page.
  const paged = join(dir, 'paged.html');
  await writeReport(db, { out: paged, pageRows: 10 });
  const p2 = await browser.open(pathToFileURL(paged).href);
  const state = () =>
    p2.evaluate<[number, string, string, boolean, boolean]>(`[
      document.querySelectorAll('#nodes tbody tr:not([hidden])').length,
      document.getElementById('range').textContent,
      document.getElementById('shown').textContent,
      document.getElementById('prev').disabled,
      document.getElementById('next').disabled,
    ]`);
  const total = NODES + HOSTILE.length;
  t.deepEqual(await state(), [10, '1-10', String(total), true, false]);
  const ids = () =>
    p2.evaluate<string[]>(
      `Array.from(document.querySelectorAll('#nodes tbody tr:not([hidden])'), (r) => r.cells[0].dataset.v)`,
    );
  const firstPage = await ids();
  await p2.click('#next');
  t.deepEqual(await state(), [10, '11-20', String(total), false, false]);
  const secondPage = await ids();
  t.deepEqual(
    firstPage.filter((id) => secondPage.includes(id)),
    [],
  );
  for (let i = 0; i < 3; i++) await p2.click('#next');
  t.deepEqual(await state(), [total - 40, `41-${total}`, String(total), false, true]);
  await p2.click('#nodes th button', 0);
  t.deepEqual(await state(), [10, '1-10', String(total), true, false]);
  await p2.type('#filter', 'unknown 0d15c0de');
  const home = Number((await state())[2]);
  t.true(home > 10 && home < total);
  t.deepEqual(await state(), [10, '1-10', String(home), true, false]);
  await p2.type('#filter', ' no-such-word');
  t.deepEqual(await state(), [0, 'none', '0', true, true]);
  t.deepEqual([p2.log.requests, p2.log.errors, p2.log.dialogs], [[pathToFileURL(paged).href], [], []]);
  t.deepEqual(
    p2.log.console.filter((m) => m.level === 'error'),
    [],
  );

  // The checks can see a request: a page that asks for one has it recorded and blocked.
  const probe = join(dir, 'probe.html');
  writeFileSync(probe, '<!doctype html><img src="http://192.0.2.1/x.png"><script>alert("ran")</script>');
  const other = await browser.open(pathToFileURL(probe).href);
  t.true(other.log.requests.includes('http://192.0.2.1/x.png'), other.log.requests.join(' '));
  t.true(other.log.blocked.includes('http://192.0.2.1/x.png'));
  t.deepEqual(other.log.dialogs, ['alert: ran']);
  await browser.close();
  t.log(`Chromium test: ${Math.round(performance.now() - started)} ms (${browser.version}); screenshot ${ARTIFACT}`);
});
