/**
 * A node that lasts: restarts from its data dir (same key, higher seq, its table back, its old peers
 * reached without bootnodes), re-seeding from bootnodes after an outage, runtime record updates
 * reaching peers' tables, corrupt and newer stores moved aside, and metrics an operator can scrape.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import test, { type ExecutionContext } from 'ava';
import client from 'prom-client';
import {
  Bitvector,
  Discv5,
  type Discv5Config,
  Enr,
  fromPromClient,
  MemoryNetwork,
  PrometheusRegistry,
  type StoreReport,
  serveMetrics,
} from '../ts/index.js';
import { NodeStore } from '../ts/store/node-store.js';
import { selectDriver } from '../ts/store/sqlite.js';
import { toHex } from '../ts/util/bytes.js';
import { FAST_MAINTENANCE } from './helpers/network.js';
import { envCrypto, startNode, waitFor } from './helpers/nodes.js';
import { parsePrometheus, type Sample } from './helpers/prometheus.js';

function dataDir(t: ExecutionContext): string {
  const dir = mkdtempSync(join(tmpdir(), 'discv5-lasting-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

const live = (n: Discv5) => n.table().filter((e) => e.live).length;

/** A peer that answers, with a record the intake takes: loopback UDP with fast checks. */
const peerOn = (t: ExecutionContext) => startNode(t, 'udp', { config: FAST_MAINTENANCE });

test('restart with a data dir: same key, higher seq, the table back, and old peers reached without bootnodes (UDP)', async (t) => {
  const boot = await peerOn(t);
  const peers = [boot];
  for (let i = 0; i < 5; i++) {
    const p = await peerOn(t);
    await p.findNode(p.nodeId).catch(() => []);
    p.addEnr(boot.localEnr);
    await p.findNode(p.nodeId);
    peers.push(p);
  }
  const dir = dataDir(t);
  const config: Partial<Discv5Config> = { ...FAST_MAINTENANCE, storeFlushIntervalMs: 100 };
  const bind = { ip4: { ip: '127.0.0.1', port: 0 } };
  const first = await Discv5.create({ dataDir: dir, crypto: envCrypto, bind, bootnodes: [boot.localEnr], config });
  await first.start();
  t.teardown(() => first.stop());
  await waitFor(() => live(first) >= 4, 20_000, 'the first run to know four live peers');
  const before = { id: toHex(first.nodeId), seq: first.localEnr.seq, table: first.table().map((e) => e.nodeId) };
  await first.stop();

  // No key, no bootnodes: everything comes from the store.
  const second = await Discv5.create({ dataDir: dir, crypto: envCrypto, bind, config });
  t.is(toHex(second.nodeId), before.id, 'the key was kept');
  await second.start();
  t.teardown(() => second.stop());
  t.true(second.localEnr.seq > before.seq, 'a restart never reuses a seq');
  const restored = second.table();
  t.deepEqual(restored.map((e) => e.nodeId).sort(), [...before.table].sort(), 'the table came back');
  t.true(
    restored.every((e) => !e.live),
    'stored entries are re-checked before they are served',
  );
  await waitFor(() => live(second) >= 4, 20_000, 'the restarted node to reach its old peers');
  // Its old peers take its new record (new port, higher seq) from the handshake.
  await waitFor(
    () => peers.some((p) => p.findEnr(second.nodeId)?.seq === second.localEnr.seq),
    20_000,
    'a peer holding the new record',
  );
  t.pass();
});

test('a kill -9 mid-run loses at most the last flush: key, seq and the stored table survive, the file is sound', async (t) => {
  const boot = await peerOn(t);
  for (let i = 0; i < 4; i++) {
    const p = await peerOn(t);
    p.addEnr(boot.localEnr);
    await p.findNode(p.nodeId);
  }
  const dir = dataDir(t);
  const script = join(dirname(fileURLToPath(import.meta.url)), 'helpers/lasting-node.ts');
  const child = spawn(process.execPath, ['--import', 'tsx', script, dir, boot.localEnr.text], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.once('error', () => {}); // a failed spawn shows as no lines, and fails the checks below
  t.teardown(() => child.kill('SIGKILL'));
  // Bounded: a child that never gets there is killed, which ends the lines and fails the checks.
  const deadline = setTimeout(() => child.kill('SIGKILL'), 30_000);
  t.teardown(() => clearTimeout(deadline));
  const lines = createInterface({ input: child.stdout });
  let record: Enr | undefined;
  let stored: string[] = [];
  for await (const line of lines) {
    if (record === undefined) record = Enr.decode(line, envCrypto);
    else stored = (JSON.parse(line) as { stored: string[] }).stored;
    if (stored.length >= 3) break;
  }
  child.kill('SIGKILL');
  await exited;
  const reports: StoreReport[] = [];
  const store = NodeStore.open(dir, { onReport: (r) => reports.push(r) });
  t.teardown(() => store.close());
  t.deepEqual(reports, [], 'not corrupt: nothing moved aside');
  const key = store.privateKey() as Uint8Array;
  t.is(
    toHex(envCrypto.nodeIdFromPublicKey(envCrypto.publicKeyFromPrivate(key)) as Uint8Array),
    record?.nodeIdHex as string,
  );
  t.is(store.seq(), record?.seq);
  const rows = new Set(store.nodes().map((n) => toHex(n.nodeId)));
  t.true(
    stored.every((id) => rows.has(id)),
    'every entry held before the last write it saw',
  );
});

test('a node whose whole network went away rejoins through its bootnode when the network returns', async (t) => {
  const network = new MemoryNetwork();
  t.teardown(() => network.close());
  const fast: Partial<Discv5Config> = {
    ...FAST_MAINTENANCE,
    requestTimeoutMs: 200,
    requestRetries: 0,
    revalidateLiveIntervalMs: 20,
    revalidateNewIntervalMs: 20,
    reseedIntervalMs: 50,
    reseedMaxIntervalMs: 400,
  };
  // Public addresses: the limits of the internet apply, as they would to this node.
  const keys = Array.from({ length: 5 }, () => envCrypto.generatePrivateKey());
  // One /24 each: the subnet limits (2 per bucket) would otherwise refuse some of them.
  const ipOf = (i: number) => `44.${10 + i}.0.1`;
  const bootRecord = Enr.create(keys[0] as Uint8Array, { ip: ipOf(0), udp: 9000 }, envCrypto);
  const startNetwork = async () => {
    const nodes: Discv5[] = [];
    for (const [i, key] of keys.entries()) {
      const n = await Discv5.create({
        privateKey: key,
        crypto: envCrypto,
        transport: network.transport(ipOf(i), 9000),
        ...(i === 0 ? { enr: bootRecord } : { bootnodes: [bootRecord] }),
        config: fast,
      });
      await n.start();
      t.teardown(() => n.stop());
      nodes.push(n);
    }
    return nodes;
  };
  let others = await startNetwork();
  const node = await Discv5.create({
    privateKey: envCrypto.generatePrivateKey(),
    crypto: envCrypto,
    transport: network.transport('45.0.0.7', 9000),
    bootnodes: [bootRecord.text],
    config: fast,
  });
  await node.start();
  t.teardown(() => node.stop());
  await waitFor(() => live(node) >= 3, 20_000, 'the node to join');

  // The whole network goes away: checks fail, entries leave, and the node keeps trying its bootnode.
  for (const n of others) await n.stop();
  await waitFor(() => live(node) === 0, 20_000, 'every entry to fail its checks');
  const reseeds = node.metrics()['table.reseed'] ?? 0;
  await waitFor(() => (node.metrics()['table.reseed'] ?? 0) >= reseeds + 2, 20_000, 're-seeding to go on');

  others = await startNetwork();
  await waitFor(() => live(node) >= 3, 20_000, 'the node to rejoin');
  const boot = others[0] as Discv5;
  await waitFor(() => boot.findEnr(node.nodeId) !== undefined, 20_000, 'the returned bootnode to know the node');
  t.pass();
});

test("updateLocalEnr changes reach a peer's table: the peer fetches the record after our next PING", async (t) => {
  const network = new MemoryNetwork();
  t.teardown(() => network.close());
  const a = await startNode(t, { network });
  const b = await startNode(t, { network });
  await a.ping(b.localEnr);
  b.addEnr(a.localEnr);
  await b.ping(a.localEnr);
  await waitFor(() => a.table().some((e) => e.nodeId === b.localEnr.nodeIdHex), 5_000, 'b in a table');
  const attnets = Bitvector.fromIndices([1, 7, 42], 64);
  const eth2 = { forkDigest: Uint8Array.of(1, 2, 3, 4), nextForkVersion: Uint8Array.of(5, 0, 0, 0), nextForkEpoch: 9n };
  const old = b.localEnr.seq;
  const updated = b.updateLocalEnr({ attnets, eth2, cgc: 8 });
  t.is(updated.seq, old + 1n, 'signed once, seq + 1');
  const removed = b.updateLocalEnr({ cgc: null });
  t.is(removed.seq, old + 2n);
  t.is(removed.cgc, undefined, 'null removes an entry');
  await b.ping(a.localEnr);
  const inTable = () => a.table().find((e) => e.nodeId === b.localEnr.nodeIdHex)?.enr;
  await waitFor(() => inTable()?.seq === old + 2n, 10_000, "a's table to hold the new record");
  t.deepEqual(inTable()?.attnets?.indices(), [1, 7, 42]);
  t.deepEqual(inTable()?.eth2?.forkDigest, eth2.forkDigest);
});

test('a corrupt store and a store from a newer schema are moved aside and reported; the node starts fresh', async (t) => {
  for (const kind of ['corrupt', 'newer-schema'] as const) {
    const dir = dataDir(t);
    const file = join(dir, 'node.db');
    if (kind === 'corrupt') writeFileSync(file, Buffer.alloc(8192, 0x5a), { mode: 0o600 });
    else {
      const db = selectDriver().open(file);
      db.exec('CREATE TABLE future (x); PRAGMA user_version = 99;');
      db.close();
    }
    const node = await Discv5.create({ dataDir: dir, crypto: envCrypto, transport: new MemoryNetwork().transport() });
    const reports: StoreReport[] = [];
    node.on('storeReport', (r) => reports.push(r));
    await node.start();
    await node.stop();
    t.is(reports.length, 1, kind);
    const report = reports[0] as StoreReport;
    t.is(report.kind, kind);
    t.true(
      'movedTo' in report && readdirSync(dir).some((f) => join(dir, f) === report.movedTo),
      'the old file kept aside',
    );
    const store = NodeStore.open(dir);
    const key = store.privateKey();
    t.truthy(key, 'a fresh key was made and kept');
    const id = envCrypto.nodeIdFromPublicKey(envCrypto.publicKeyFromPrivate(key as Uint8Array));
    t.is(toHex(id as Uint8Array), toHex(node.nodeId));
    store.close();
  }
});

test('stored rows that do not verify, or name another node, are skipped and counted; the node starts', async (t) => {
  const dir = dataDir(t);
  const store = NodeStore.open(dir);
  const good = Enr.create(envCrypto.generatePrivateKey(), { ip: '127.0.0.1', udp: 30303 }, envCrypto);
  const other = Enr.create(envCrypto.generatePrivateKey(), { ip: '127.0.0.1', udp: 30304 }, envCrypto);
  const tampered = Uint8Array.from(good.encoded);
  tampered[10] = (tampered[10] as number) ^ 0xff; // inside the signature
  const row = { live: true, lastSeen: 1, inTable: true };
  store.writeNodes([
    { ...row, nodeId: good.nodeId, enr: tampered },
    { ...row, nodeId: good.nodeId.map((b) => b ^ 1), enr: other.encoded },
    { ...row, nodeId: other.nodeId, enr: other.encoded },
  ]);
  store.close();
  const node = await Discv5.create({ dataDir: dir, crypto: envCrypto, transport: new MemoryNetwork().transport() });
  await node.start();
  t.teardown(() => node.stop());
  t.is(node.metrics()['store.bad-row'], 2);
  t.deepEqual(
    node.table().map((e) => e.nodeId),
    [other.nodeIdHex],
    'only the sound row came back',
  );
});

function sample(samples: Sample[], name: string, labels: Record<string, string> = {}): number {
  const hit = samples.find((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v));
  return hit?.value ?? 0;
}

/** No timers of their own and no request sent twice: the only traffic is the test's, so counts are exact. */
const QUIET: Partial<Discv5Config> = {
  requestTimeoutMs: 10_000,
  revalidateNewIntervalMs: 0,
  revalidateLiveIntervalMs: 0,
  inboundPingDelayMs: 600_000,
  refreshIntervalMs: 0,
  reseedIntervalMs: 0,
};

test('/metrics parses as Prometheus text and its counters move when traffic flows', async (t) => {
  const network = new MemoryNetwork();
  t.teardown(() => network.close());
  const registry = new PrometheusRegistry();
  const a = await Discv5.create({
    privateKey: envCrypto.generatePrivateKey(),
    crypto: envCrypto,
    transport: network.transport(),
    metrics: registry,
    config: QUIET,
  });
  await a.start();
  t.teardown(() => a.stop());
  const b = await startNode(t, { network }, { config: QUIET });
  const server = await serveMetrics(registry, { ip: '127.0.0.1', port: 0 });
  t.teardown(() => server.close());
  const scrape = async () => {
    const res = await fetch(server.url);
    t.is(res.status, 200);
    return parsePrometheus(await res.text()).samples;
  };
  const before = await scrape();
  for (let i = 0; i < 3; i++) await b.ping(a.localEnr);
  await a.ping(b.localEnr);
  const after = await scrape();
  const moved = (name: string, labels: Record<string, string> = {}) =>
    sample(after, name, labels) - sample(before, name, labels);
  t.is(moved('discv5_messages_total', { direction: 'in', type: 'ping' }), 3);
  t.is(moved('discv5_messages_total', { direction: 'out', type: 'pong' }), 3);
  t.true(moved('discv5_packets_total', { direction: 'in', kind: 'message' }) >= 3);
  t.true(moved('discv5_bytes_total', { direction: 'in' }) > 0);
  t.true(moved('discv5_bytes_total', { direction: 'out' }) > 0);
  t.is(moved('discv5_requests_total', { outcome: 'answered' }), 1);
  t.is(sample(after, 'discv5_handshakes_total', { direction: 'inbound', outcome: 'established' }), 1);
  t.is(sample(after, 'discv5_active_sessions'), 1);
  t.is(sample(after, 'discv5_local_enr_seq'), Number(a.localEnr.seq));
  t.true(sample(after, 'discv5_table_entries', { state: 'all' }) >= 1);
  for (const s of after) {
    t.true(s.name.startsWith('discv5_'), s.name);
    for (const v of Object.values(s.labels)) t.false(/[0-9a-f]{16}|\d+\.\d+\.\d+\.\d+|:.*:/.test(v), `${s.name} ${v}`);
  }
});

test("an app's prom-client registry takes the node's metrics; a second node on it is refused", async (t) => {
  const reg = new client.Registry();
  const network = new MemoryNetwork();
  t.teardown(() => network.close());
  const metrics = fromPromClient(client, reg);
  const a = await Discv5.create({
    privateKey: envCrypto.generatePrivateKey(),
    crypto: envCrypto,
    transport: network.transport(),
    metrics,
    config: QUIET,
  });
  await a.start();
  t.teardown(() => a.stop());
  const b = await startNode(t, { network }, { config: QUIET });
  await b.ping(a.localEnr);
  await a.lookup(a.nodeId);
  const samples = parsePrometheus(await reg.metrics()).samples;
  t.is(sample(samples, 'discv5_messages_total', { direction: 'in', type: 'ping' }), 1);
  t.is(sample(samples, 'discv5_lookup_duration_seconds_count'), 1);
  await t.throwsAsync(
    Discv5.create({
      privateKey: envCrypto.generatePrivateKey(),
      crypto: envCrypto,
      transport: network.transport(),
      metrics,
    }),
    { code: 'ERR_INVALID_ARGUMENT' },
  );
});
