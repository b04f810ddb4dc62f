/**
 * `discv5 crawl` and its database, spawned as a user runs it (node dist/cli.js; `npm run build`
 * first): SIGTERM records the crawl as cancelled with everything visited so far; a kill -9 leaves a
 * crawl that the next run marks failed; `--resume` finishes either. The crawl is held open by a
 * seed that never answers (a socket of this test that reads and drops every datagram; a crawl is
 * patient with seeds for half a minute), so the signal always lands mid-crawl, after the rest of
 * the network is recorded; for the resume, a real node with that seed's key takes the socket's place.
 * Also: seeds from an EIP-1459 DNS tree served by a DNS server of the test on loopback.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import dgram from 'node:dgram';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import test, { type ExecutionContext } from 'ava';
import { buildTree } from '../ts/dns/build.js';
import { createCrypto, Discv5, Enr } from '../ts/index.js';
import { SqliteCrawlDb } from '../ts/store/crawl-db-sqlite.js';
import { startTestnet } from '../ts/testnet/testnet.js';
import { DnsServer } from './helpers/dns-server.js';
import { waitFor } from './helpers/nodes.js';

const cli = resolve(dirname(fileURLToPath(import.meta.url)), '../dist/cli.js');
const work = mkdtempSync(join(tmpdir(), 'discv5-crawl-db-'));
test.after.always(() => rmSync(work, { recursive: true, force: true }));
test.before(() => {
  if (!existsSync(cli)) throw new Error(`${cli} is missing: run npm run build first`);
});

const crypto = createCrypto();
const NODES = 30;

/** A seed that never answers: a record for a fresh key, naming a socket that drops everything. */
async function silentSeed(t: ExecutionContext): Promise<{ enr: Enr; key: Uint8Array; wake(): Promise<Discv5> }> {
  const socket = dgram.createSocket('udp4');
  socket.on('message', () => {});
  await new Promise<void>((r) => socket.bind(0, '127.0.0.1', r));
  const port = socket.address().port;
  const key = crypto.generatePrivateKey();
  let closed = false;
  const close = async () => {
    if (closed) return;
    closed = true;
    await new Promise<void>((r) => socket.close(() => r()));
  };
  t.teardown(close);
  return {
    enr: Enr.create(key, { ip: '127.0.0.1', udp: port }, crypto),
    key,
    // The node behind the record comes up: same key, same port.
    wake: async () => {
      await close();
      const node = await Discv5.create({ privateKey: key, crypto, bind: { ip4: { ip: '127.0.0.1', port } } });
      await node.start();
      t.teardown(() => node.stop());
      return node;
    },
  };
}

function crawlCli(
  t: ExecutionContext,
  args: string[],
): { child: ChildProcess; done: Promise<{ code: number | null; out: string; err: string }> } {
  const child = spawn(process.execPath, [cli, 'crawl', ...args], { stdio: ['ignore', 'pipe', 'pipe'], cwd: work });
  t.teardown(() => {
    child.kill('SIGKILL');
  });
  let out = '';
  let err = '';
  child.stdout?.on('data', (d: Buffer) => {
    out += d.toString();
  });
  child.stderr?.on('data', (d: Buffer) => {
    err += d.toString();
  });
  // 'close', not 'exit': only then has everything the process wrote to its pipes been read.
  const done = new Promise<{ code: number | null; out: string; err: string }>((r) =>
    child.once('close', (code) => r({ code, out, err })),
  );
  return { child, done };
}

/** Visits recorded so far for crawl `id` (read while the crawler writes: WAL lets both). */
function visits(db: SqliteCrawlDb, id: number): number {
  return Number(db.sql.prepare('SELECT COUNT(*) AS n FROM visits WHERE crawl_id = ?').get(id)?.n);
}

for (const signal of ['SIGTERM', 'SIGKILL'] as const) {
  test.serial(`${signal} mid-crawl, then --resume: every node recorded once`, async (t) => {
    t.timeout(180_000);
    const net = await startTestnet({ nodes: NODES, prefill: true, transport: 'udp' });
    t.teardown(() => net.stop());
    const seed = await silentSeed(t);
    const file = join(work, `${signal}.db`);
    const first = crawlCli(t, [
      '--bootnodes',
      `${net.bootEnr.text},${seed.enr.text}`,
      '--db',
      file,
      '--vantage',
      'here',
    ]);
    // Opened once the crawler has made the file and its schema.
    await waitFor(() => existsSync(`${file}-wal`), 60_000, 'the database', 50);
    const db = new SqliteCrawlDb(file);
    t.teardown(() => db.close());
    await waitFor(() => visits(db, 1) === NODES, 60_000, 'the network recorded', 50);
    first.child.kill(signal);
    const ended = await first.done;
    if (signal === 'SIGTERM') {
      t.is(ended.code, 143, ended.err);
      t.regex(ended.out, /crawl aborted: /);
      t.regex(ended.out, new RegExp(`recorded as crawl 1 \\(cancelled\\): ${NODES} nodes, ${NODES} answered`));
      t.like(await db.crawl(1), { state: 'cancelled', found: NODES, answered: NODES, vantage: 'here' });
    } else {
      t.is(ended.code, null, 'killed');
      t.is((await db.crawl(1))?.state, 'running', 'left as it was');
      // The next process that opens the database sees the owner is gone.
      t.deepEqual(await db.markAbandoned(), [1]);
      t.like(await db.crawl(1), { state: 'failed', found: NODES });
    }

    // The seed's node comes up; --resume needs no seeds: they are in the crawl's row.
    const woken = await seed.wake();
    const second = crawlCli(t, ['--resume', '--db', file, '--vantage', 'here']);
    const resumed = await second.done;
    t.is(resumed.code, 0, resumed.err);
    t.regex(
      resumed.err,
      new RegExp(`resuming crawl 1 \\(${signal === 'SIGTERM' ? 'cancelled' : 'failed'}\\): ${NODES} nodes visited`),
    );
    t.regex(resumed.out, new RegExp(`recorded as crawl 1 \\(done\\): ${NODES + 1} nodes, ${NODES + 1} answered`));
    t.like(await db.crawl(1), { state: 'done', found: NODES + 1, answered: NODES + 1 });
    const ids = db.sql
      .prepare('SELECT n.node_id FROM visits v JOIN nodes n ON n.id = v.node WHERE v.crawl_id = 1')
      .all()
      .map((r) => String(r.node_id));
    t.deepEqual(ids.sort(), [...net.members.map((m) => m.enr.nodeIdHex), woken.localEnr.nodeIdHex].sort());
    // Nothing left to resume.
    const third = await crawlCli(t, ['--resume', '--db', file, '--vantage', 'here']).done;
    t.is(third.code, 2);
    t.regex(third.err, /no cancelled or failed crawl of vantage "here"/);
  });
}

test('--no-db records nothing; --db with --no-db is a usage error', async (t) => {
  const r = await crawlCli(t, ['--no-db', '--db', join(work, 'x.db'), '--bootnodes', 'enr:-x']).done;
  t.is(r.code, 2);
  t.regex(r.err, /--db and --no-db/);
  t.false(existsSync(join(work, 'x.db')));
  t.false(existsSync(join(work, 'discv5.db')));
});

test('crawl seeded from an EIP-1459 DNS tree (--bootnodes enrtree://, --dns-server)', async (t) => {
  t.timeout(120_000);
  const net = await startTestnet({ nodes: NODES, prefill: true, transport: 'udp' });
  t.teardown(() => net.stop());
  // A tree listing three members, served by a DNS server of this test on loopback.
  const tree = buildTree(
    crypto.generatePrivateKey(),
    [net.bootEnr, ...net.members.slice(1, 3).map((m) => m.enr)],
    [],
    1,
    'nodes.example.org',
    crypto,
  );
  const dns = new DnsServer(tree.txt);
  await dns.start();
  t.teardown(() => dns.stop());
  const r = await crawlCli(t, ['--bootnodes', tree.url, '--dns-server', `127.0.0.1:${dns.port}`, '--no-db']).done;
  t.is(r.code, 0, r.err);
  t.regex(r.err, /: 3 records \(seq 1\)/);
  t.regex(r.out, new RegExp(`crawl done: ${NODES} nodes found, ${NODES} answered`));
  // A tree whose root is signed by another key is refused with the reason.
  const forged = buildTree(crypto.generatePrivateKey(), [net.bootEnr], [], 1, 'nodes.example.org', crypto);
  const other = new DnsServer([...forged.txt].map(([k, text]) => [k, text]));
  await other.start();
  t.teardown(() => other.stop());
  const bad = await crawlCli(t, ['--bootnodes', tree.url, '--dns-server', `127.0.0.1:${other.port}`, '--no-db']).done;
  t.is(bad.code, 2);
  t.regex(bad.err, /cannot resolve enrtree:\/\/.*ERR_DNS_TREE/);
});
