/**
 * `discv5 monitor`, spawned as a user runs it (node dist/cli.js; `npm run build` first), against a
 * testnet on loopback: each crawl a row; the next one seeded from the nodes that answered; a node's
 * record change counted; the last crawl's figures served as Prometheus gauges; SIGTERM during the
 * pause between crawls ends it.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import test, { type ExecutionContext } from 'ava';
import { clientOf } from '../ts/enr/client.js';
import { SqliteCrawlDb } from '../ts/store/crawl-db-sqlite.js';
import { startTestnet } from '../ts/testnet/testnet.js';
import { waitFor } from './helpers/nodes.js';

const cli = resolve(dirname(fileURLToPath(import.meta.url)), '../dist/cli.js');
const work = mkdtempSync(join(tmpdir(), 'discv5-monitor-'));
test.after.always(() => rmSync(work, { recursive: true, force: true }));
test.before(() => {
  if (!existsSync(cli)) throw new Error(`${cli} is missing: run npm run build first`);
});

function monitor(t: ExecutionContext, args: string[]) {
  const child: ChildProcess = spawn(process.execPath, [cli, 'monitor', ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
    cwd: work,
  });
  t.teardown(() => {
    child.kill('SIGKILL');
  });
  const io = { out: '', err: '' };
  child.stdout?.on('data', (d: Buffer) => {
    io.out += d.toString();
  });
  child.stderr?.on('data', (d: Buffer) => {
    io.err += d.toString();
  });
  const done = new Promise<number | null>((r) => child.once('close', (code) => r(code)));
  return { child, io, done };
}

test('monitor: crawls in rounds, reseeds from the last answers, counts record changes, serves gauges', async (t) => {
  t.timeout(180_000);
  const net = await startTestnet({ nodes: 24, prefill: true, transport: 'udp' });
  t.teardown(() => net.stop());
  const file = join(work, 'monitor.db');
  const args = ['--bootnodes', net.bootEnr.text, '--db', file, '--vantage', 'lab'];

  // One round: crawl 1.
  const first = monitor(t, [...args, '--rounds', '1']);
  t.is(await first.done, 0, first.io.err);
  t.regex(first.io.err, /crawl 1: from 1 seeds and 0 nodes that answered last time/);
  t.regex(
    first.io.out,
    /crawl 1: 24 found, 24 answered in [\d.]+ s; 24 answered in each of the last 1 crawls; 0 record changes/,
  );

  // A node's record changes; then two rounds an hour apart, stopped in the pause after the first.
  const changed = net.nodes[5];
  changed?.updateLocalEnr({ attnets: [1, 2, 3] });
  const second = monitor(t, [...args, '--rounds', '2', '--every', '1h', '--metrics', '127.0.0.1:0']);
  await waitFor(() => /crawl 2: \d+ found/.test(second.io.out), 90_000, 'crawl 2', 50);
  t.regex(second.io.err, /crawl 2: from 1 seeds and 24 nodes that answered last time/);
  t.regex(
    second.io.out,
    /crawl 2: 24 found, 24 answered in [\d.]+ s; 24 answered in each of the last 2 crawls; 1 record changes/,
  );
  const url = /metrics at (http:\/\/\S+)/.exec(second.io.err)?.[1];
  if (url === undefined) return t.fail(`no metrics URL in: ${second.io.err}`);
  const text = await (await fetch(url)).text();
  t.regex(text, /^discv5_monitor_last_crawl_id 2$/m);
  t.regex(text, /^discv5_monitor_nodes_found 24$/m);
  t.regex(text, /^discv5_monitor_nodes_answered 24$/m);
  t.regex(text, /^discv5_monitor_record_changes 1$/m);
  t.regex(text, /^discv5_monitor_nodes_by_fork_digest\{fork_digest="0d15c0de"\} 24$/m);
  t.regex(text, /^discv5_monitor_nodes_by_ip_family\{family="ipv4"\} 24$/m);
  const lighthouse = net.members.filter((m) => clientOf(m.enr) === 'Lighthouse/v8.0.1').length;
  t.true(lighthouse > 0);
  t.regex(text, new RegExp(`^discv5_monitor_nodes_by_client\\{client="Lighthouse/v8.0.1"\\} ${lighthouse}$`, 'm'));
  second.child.kill('SIGTERM');
  t.is(await second.done, 143);
  t.false(/crawl 3/.test(second.io.out), 'no third crawl');

  const db = new SqliteCrawlDb(file);
  t.teardown(() => db.close());
  t.deepEqual(
    (await db.crawls()).map((c) => [c.id, c.state, c.vantage, c.found]),
    [
      [1, 'done', 'lab', 24],
      [2, 'done', 'lab', 24],
    ],
  );
  const row = await db.query('SELECT attnets_count FROM nodes WHERE node_id = ?', [changed?.localEnr.nodeIdHex ?? '']);
  t.is(row[0]?.attnets_count, 3, 'the changed record is the one kept');
});

test('monitor: bad options are usage errors', async (t) => {
  const bad = async (...args: string[]) => {
    const m = monitor(t, args);
    const code = await m.done;
    return { code, err: m.io.err };
  };
  t.like(await bad('--every', '10x', '--bootnodes', 'enr:-x'), { code: 2 });
  t.like(await bad('--no-db'), { code: 2 });
  t.like(await bad('--rounds', '0', '--bootnodes', 'enr:-x'), { code: 2 });
});
