/**
 * The `discv5` CLI end to end, spawned as a user runs it (node dist/cli.js; `npm run build` first):
 * every command on loopback, --help, bad arguments and invalid records.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import test, { type ExecutionContext } from 'ava';
import { Enr } from '../ts/index.js';
import { envCrypto } from './helpers/nodes.js';
import { parsePrometheus, type Sample } from './helpers/prometheus.js';
import { corpus, type Json, vectors } from './helpers/vectors.js';

const cli = resolve(dirname(fileURLToPath(import.meta.url)), '../dist/cli.js');
const work = mkdtempSync(join(tmpdir(), 'discv5-cli-'));
test.after.always(() => rmSync(work, { recursive: true, force: true }));

function run(...args: string[]) {
  // In the test's own folder: `crawl` records into ./discv5.db by default.
  const r = spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8', timeout: 60_000, cwd: work });
  return { code: r.status, out: r.stdout.trim(), err: r.stderr.trim() };
}

/** A long-running command: resolves its first stdout line; stopped (SIGTERM) at teardown. */
async function start(
  t: ExecutionContext,
  ...args: string[]
): Promise<{ child: ChildProcess; first: string; stderr: () => string }> {
  const child = spawn(process.execPath, [cli, ...args], { stdio: ['ignore', 'pipe', 'pipe'], cwd: work });
  let err = '';
  child.stderr?.on('data', (d: Buffer) => {
    err += d.toString();
  });
  t.teardown(() => {
    child.kill('SIGKILL');
  });
  const first = await new Promise<string>((resolveLine, reject) => {
    let buffer = '';
    child.stdout?.on('data', (d: Buffer) => {
      buffer += d.toString();
      const nl = buffer.indexOf('\n');
      if (nl >= 0) resolveLine(buffer.slice(0, nl));
    });
    child.once('exit', (code) => reject(new Error(`exited ${code}: ${err}`)));
  });
  return { child, first, stderr: () => err };
}

async function stop(child: ChildProcess, signal: NodeJS.Signals): Promise<number | null> {
  // 'close', not 'exit': only then has everything the process wrote to its pipes been read.
  const exited = new Promise<number | null>((r) => child.once('close', (code) => r(code)));
  child.kill(signal);
  return exited;
}

test.before(() => {
  if (!existsSync(cli)) throw new Error(`${cli} is missing: run npm run build first`);
});

test('--help everywhere; no command is a usage error', (t) => {
  const top = run('--help');
  t.is(top.code, 0);
  for (const c of ['keygen', 'enr decode', 'enr create', 'ping', 'findnode', 'talk', 'serve', 'testnet'])
    t.true(top.out.includes(`discv5 ${c}`), c);
  for (const c of [['keygen'], ['enr', 'decode'], ['ping'], ['serve'], ['testnet']]) {
    const h = run(...c, '--help');
    t.is(h.code, 0, c.join(' '));
    t.true(h.out.startsWith(`discv5 ${c.join(' ')}`));
  }
  t.is(run().code, 2);
});

test('bad arguments exit 2 with one line', (t) => {
  for (const args of [
    ['nope'],
    ['serve'],
    ['serve', '--listen', '127.0.0.1:99999'],
    ['findnode', 'enr:x'],
    ['keygen', '--bogus'],
    ['testnet', '--nodes', '1'],
  ]) {
    const r = run(...args);
    t.is(r.code, 2, args.join(' '));
    t.is(r.err.split('\n').length, 1, args.join(' '));
    t.true(r.err.startsWith('discv5: '), r.err);
  }
});

test('keygen: a key on stdout, or a new file of mode 0600 that is never overwritten', (t) => {
  t.regex(run('keygen').out, /^[0-9a-f]{64}$/);
  const file = join(work, 'key');
  t.is(run('keygen', '--out', file).code, 0);
  t.regex(readFileSync(file, 'utf8'), /^[0-9a-f]{64}\n$/);
  t.is(statSync(file).mode & 0o777, 0o600);
  t.is(run('keygen', '--out', file).code, 2);
});

test('enr decode: every field, --json with the agreed names; invalid records exit non-zero', (t) => {
  const v = vectors.enr.eip778_example;
  const json = run('enr', 'decode', v.text, '--json');
  t.is(json.code, 0);
  const fields = JSON.parse(json.out);
  t.like(fields, { nodeId: v.expected_node_id, seq: '1', ip: '127.0.0.1', udp: 30303, signature: 'valid' });
  const text = run('enr', 'decode', v.text);
  t.true(text.out.includes(v.expected_node_id));
  // A real consensus-layer record (from the corpus): eth2 and attnets as the agreed JSON.
  const cl = corpus.records.find((r: Json) => r.valid && r.decoded.eth2 && r.decoded.attnets);
  const clFields = JSON.parse(run('enr', 'decode', cl.enr, '--json').out);
  t.deepEqual(clFields.eth2, cl.decoded.eth2);
  t.is(clFields.attnets, cl.decoded.attnets);
  t.is(clFields.nodeId, cl.decoded.nodeId);
  for (const bad of ['enr:xyz', `${v.text}A`, v.text.replace('Q', 'R')]) {
    const r = run('enr', 'decode', bad);
    t.not(r.code, 0, bad);
    t.regex(r.err, /^discv5: invalid record \(ERR_ENR_[A-Z0-9_]+\)/);
  }
});

test('enr create: a signed record from a key file, that decodes back', (t) => {
  const key = join(work, 'create.key');
  writeFileSync(key, `${vectors.enr.eip778_example.private_key}\n`);
  const made = run('enr', 'create', '--key', key, '--ip', '127.0.0.1', '--udp', '30303');
  t.is(made.out, vectors.enr.eip778_example.text, 'the EIP-778 example, exactly');
  const withEth2 = run(
    'enr',
    'create',
    '--key',
    key,
    '--ip',
    '10.0.0.1',
    '--udp',
    '9000',
    '--tcp',
    '9001',
    '--eth2',
    'b5303f2a010000000022010000000000',
  );
  const fields = JSON.parse(run('enr', 'decode', withEth2.out, '--json').out);
  t.deepEqual(fields.eth2, { forkDigest: 'b5303f2a', nextForkVersion: '01000000', nextForkEpoch: '74240' });
  t.is(fields.tcp, 9001);
  t.is(run('enr', 'create', '--key', join(work, 'missing')).code, 2);
});

test('serve, then ping, findnode and talk against it; SIGTERM stops it cleanly', async (t) => {
  const key = join(work, 'serve.key');
  run('keygen', '--out', key);
  const server = await start(t, 'serve', '--listen', '127.0.0.1:0', '--key', key);
  t.regex(server.first, /^enr:/);
  const enr = server.first;
  const pong = run('ping', enr, '--json');
  t.is(pong.code, 0, pong.err);
  const answer = JSON.parse(pong.out);
  t.like(answer, { ip: '127.0.0.1' });
  // A fresh record's seq is the time in ms at start (so it outranks records of earlier runs).
  t.true(BigInt(answer.enrSeq) > 1_600_000_000_000n, answer.enrSeq);
  const self = run('findnode', enr, '--distances', '0');
  t.is(self.out, enr, 'FINDNODE [0] returns the record');
  const talk = run('talk', enr, 'unknown-protocol', 'cafe');
  t.is(talk.code, 0);
  t.is(talk.out, '', 'an unknown protocol is answered empty');
  t.is(await stop(server.child, 'SIGTERM'), 0);
  t.regex(server.stderr(), /SIGTERM: stopping/);
  const dead = run('ping', enr);
  t.is(dead.code, 1);
  t.regex(dead.err, /ERR_REQUEST_TIMEOUT/);
});

/** `serve --json`: its record, then one JSON object per line, each handed to `onEvent` until it returns true. */
async function serveJson(
  t: ExecutionContext,
  args: string[],
  onEvent: (e: Record<string, unknown>) => boolean,
): Promise<{ child: ChildProcess; record: string; matched: boolean }> {
  const child = spawn(process.execPath, [cli, 'serve', ...args, '--json'], { stdio: ['ignore', 'pipe', 'inherit'] });
  t.teardown(() => {
    child.kill('SIGKILL');
  });
  const deadline = setTimeout(() => child.kill('SIGKILL'), 60_000); // ends the lines, failing the test
  t.teardown(() => clearTimeout(deadline));
  let record = '';
  let matched = false;
  for await (const line of createInterface({ input: child.stdout as NodeJS.ReadableStream })) {
    if (record === '') record = line;
    else if (onEvent(JSON.parse(line) as Record<string, unknown>)) {
      matched = true;
      break;
    }
  }
  child.stdout?.resume(); // keep draining: a full pipe would block the child, and 'close' needs the end
  return { child, record, matched };
}

// Serial: the other tests of this file block this process in spawnSync for seconds at a time, and a
// child whose stdout nobody reads meanwhile blocks on its full pipe (stdout to a pipe is synchronous).
test.serial(
  'serve --data-dir keeps its key and raises its seq across restarts; --json lines, the status line and --metrics',
  async (t) => {
    const dir = join(work, 'serve-data');
    const events: Record<string, unknown>[] = [];
    const first = await serveJson(
      t,
      ['--listen', '127.0.0.1:0', '--data-dir', dir, '--metrics', '127.0.0.1:0', '--status-every', '0.5'],
      (e) =>
        events.push(e) > 0 && events.some((x) => x.event === 'status') && events.some((x) => x.event === 'metrics'),
    );
    t.true(first.matched);
    t.regex(first.record, /^enr:/);
    const status = events.find((e) => e.event === 'status') as Record<string, unknown>;
    t.like(status, { livePeers: 0, sessions: 0, seq: Enr.decode(first.record, envCrypto).seq.toString() });
    t.is(typeof status.t, 'string');
    const url = (events.find((e) => e.event === 'metrics') as { url: string }).url;
    t.regex(url, /^http:\/\/127\.0\.0\.1:\d+\/metrics$/);
    // A peer of its own: another serve, in a process of its own, that answers the first one's checks.
    const peer = await serveJson(
      t,
      ['--listen', '127.0.0.1:0', '--bootnodes', first.record],
      (e) => e.event === 'session',
    );
    t.true(peer.matched, 'the peer reached it');
    const peerId = Enr.decode(peer.record, envCrypto).nodeIdHex;
    const sample = (samples: Sample[], name: string, labels: Record<string, string>) =>
      samples.find((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))?.value ?? 0;
    let samples: Sample[] = [];
    for (let i = 0; i < 300 && sample(samples, 'discv5_table_entries', { state: 'all' }) < 1; i++) {
      if (i > 0) await new Promise((r) => setTimeout(r, 100));
      samples = parsePrometheus(await (await fetch(url)).text()).samples;
    }
    t.is(sample(samples, 'discv5_table_entries', { state: 'all' }), 1, 'the peer in its table, seen in /metrics');
    t.true(sample(samples, 'discv5_messages_total', { direction: 'in', type: 'findnode' }) >= 1, "the peer's lookup");
    t.is(await stop(first.child, 'SIGTERM'), 0);
    t.is(statSync(join(dir, 'node.db')).mode & 0o777, 0o600, 'the store is readable by its owner only');

    // The restart brings its table back: the peer is there again, logged after the record.
    const second = await serveJson(
      t,
      ['--listen', '127.0.0.1:0', '--data-dir', dir],
      (e) => e.event === 'table-insert' && e.nodeId === peerId,
    );
    t.true(second.matched, 'the stored table is back');
    const [a, b] = [first.record, second.record].map((r) => Enr.decode(r, envCrypto));
    t.is(b?.nodeIdHex, a?.nodeIdHex, 'the same key');
    t.true((b?.seq as bigint) > (a?.seq as bigint), 'a higher seq');
    t.is(await stop(second.child, 'SIGTERM'), 0);
    t.is(await stop(peer.child, 'SIGTERM'), 0);
  },
);

test('testnet: N nodes bootstrapped; the bootnode answers FINDNODE with its neighbours; Ctrl-C stops it', async (t) => {
  const net = await start(t, 'testnet', '--nodes', '20', '--transport', 'udp');
  t.regex(net.first, /^enr:/);
  const deadline = Date.now() + 30_000;
  while (!/ready in/.test(net.stderr()) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
  t.regex(net.stderr(), /20 nodes on udp, ready in/);
  // Entries are served once live: ask until the liveness checks have made enough of them so.
  const served = () => {
    const found = run('findnode', net.first, '--distances', '256,255,254');
    return found.code === 0 ? found.out.split('\n').filter((l) => l.startsWith('enr:')).length : 0;
  };
  let count = served();
  for (let i = 0; i < 60 && count < 5; i++) {
    await new Promise((r) => setTimeout(r, 500));
    count = served();
  }
  t.true(count >= 5, `${count} records served`);
  t.is(await stop(net.child, 'SIGINT'), 0);
});

test('testnet --crawl finds every node and writes valid NDJSON and nodes.json', (t) => {
  const ndjson = join(work, 'crawl.ndjson');
  const nodesJson = join(work, 'nodes.json');
  const r = spawnSync(
    process.execPath,
    [cli, 'testnet', '--nodes', '60', '--transport', 'memory', '--crawl', '--out', ndjson, '--nodes-json', nodesJson],
    {
      encoding: 'utf8',
      timeout: 120_000,
    },
  );
  t.is(r.status, 0, r.stderr);
  t.regex(r.stdout, /crawl done: 60 nodes found, 60 answered/);
  const lines = readFileSync(ndjson, 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l));
  t.is(lines.length, 60);
  for (const n of lines) {
    t.regex(n.nodeId, /^[0-9a-f]{64}$/);
    t.regex(n.enr, /^enr:/);
    t.is(n.answered, true);
    t.is(typeof n.rttMs, 'number');
    t.true(Array.isArray(n.neighbors));
    t.true(BigInt(n.seq) > 1_600_000_000_000n, n.seq);
  }
  const geth = JSON.parse(readFileSync(nodesJson, 'utf8'));
  t.is(Object.keys(geth).length, 60);
  for (const [id, n] of Object.entries(geth) as [
    string,
    { record: string; seq: number; score: number; lastCheck: string },
  ][]) {
    t.regex(id, /^[0-9a-f]{64}$/);
    t.regex(n.record, /^enr:/);
    t.true(n.seq > 1_600_000_000_000, String(n.seq));
    t.is(n.score, 1);
    t.false(Number.isNaN(Date.parse(n.lastCheck)));
  }
});

test('crawl: seeded from a running testnet, it finds the whole network', async (t) => {
  const net = await start(t, 'testnet', '--nodes', '40', '--transport', 'udp');
  const deadline = Date.now() + 60_000;
  while (!/ready in/.test(net.stderr()) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
  const r = run('crawl', '--bootnodes', net.first, '--timeout', '30');
  t.is(r.code, 0, r.err);
  t.regex(r.out, /crawl done: 40 nodes found, 40 answered/);
  t.is(run('crawl').code, 2, 'no seeds is a usage error');
  t.is(run('crawl', '--network', 'nowhere').code, 2);
  t.is(await stop(net.child, 'SIGINT'), 0);
});
