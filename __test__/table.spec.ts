/** The routing table: buckets by log-distance, least recently seen first, replacements, liveness, ranking. */
import { randomFillSync } from 'node:crypto';
import test from 'ava';
import { Enr } from '../ts/index.js';
import { logDistance, randomIdAtDistance } from '../ts/kademlia/distance.js';
import { RoutingTable } from '../ts/kademlia/table.js';
import { envCrypto as c } from './helpers/nodes.js';

const rand = (n: number) => randomFillSync(new Uint8Array(n));

/** Records with ids at log-distance `d` from `id` (found by trying keys: d = 256 and 255 are quick). */
function recordsAt(id: Uint8Array, d: number, n: number): Enr[] {
  const out: Enr[] = [];
  while (out.length < n) {
    const e = Enr.create(c.generatePrivateKey(), { ip: '10.1.2.3', udp: 9000 + out.length }, c);
    if (logDistance(id, e.nodeId) === d) out.push(e);
  }
  return out;
}

test('randomIdAtDistance gives ids at exactly that distance', (t) => {
  const id = rand(32);
  for (const d of [1, 2, 7, 8, 9, 100, 255, 256]) {
    for (let i = 0; i < 20; i++) t.is(logDistance(id, randomIdAtDistance(id, d, rand)), d);
  }
});

test('k per bucket; a full bucket keeps newcomers as replacements and names its oldest entry', (t) => {
  const local = rand(32);
  const table = new RoutingTable(local, c);
  const records = recordsAt(local, 256, 16 + 12);
  for (const r of records.slice(0, 16)) t.is(table.insert(r).kind, 'added');
  t.is(table.size, 16);
  const result = table.insert(records[16] as Enr);
  t.is(result.kind, 'pending');
  t.is(result.kind === 'pending' ? result.oldest.enr : undefined, records[0]);
  for (const r of records.slice(17)) table.insert(r);
  t.is(table.size, 16, 'replacements do not count');
  // The oldest fails: it leaves, the newest replacement (11 were offered, 10 kept) takes its place.
  const { removed, promoted } = table.failed((records[0] as Enr).nodeId);
  t.is(removed?.enr, records[0]);
  t.is(promoted?.enr, records[27]);
  t.is(table.size, 16);
  t.is(table.get((records[0] as Enr).nodeId), undefined);
});

test('seen and live move an entry to the back; only live entries are served', (t) => {
  const local = rand(32);
  const table = new RoutingTable(local, c);
  const [a, b, d] = recordsAt(local, 256, 3) as [Enr, Enr, Enr];
  for (const r of [a, b, d]) table.insert(r);
  t.deepEqual(table.liveAt(256), []);
  table.markLive(a.nodeId);
  table.insert(d, { live: true });
  // Most recently seen first among live ones: d, then a.
  t.deepEqual(table.liveAt(256), [d, a]);
  t.is(table.insert(b, { seen: true }).kind, 'updated');
  const order = table.entries().map((e) => e.enr);
  t.deepEqual(order, [a, d, b]);
});

test('a newer record replaces the stored one and keeps its liveness', (t) => {
  const key = c.generatePrivateKey();
  const local = rand(32);
  const table = new RoutingTable(local, c);
  const v1 = Enr.create(key, { ip: '10.0.0.1', udp: 1 }, c);
  table.insert(v1, { live: true });
  const v2 = v1.update(key, { udp: 2 });
  table.insert(v2);
  t.is(table.get(v1.nodeId)?.enr.udp, 2);
  t.true(table.get(v1.nodeId)?.live);
  t.is(table.insert(v1).kind, 'updated');
  t.is(table.get(v1.nodeId)?.enr.seq, 2n, 'an older record does not come back');
});

test('closest ranks the whole table by XOR distance, as brute force does', (t) => {
  const local = rand(32);
  const table = new RoutingTable(local, c);
  const records = Array.from({ length: 60 }, (_, i) =>
    Enr.create(c.generatePrivateKey(), { ip: '10.0.0.9', udp: i + 1 }, c),
  );
  for (const r of records) table.insert(r);
  const entries = table.entries().map((e) => e.enr);
  const target = rand(32);
  const brute = [...entries].sort((x, y) => Buffer.compare(xor(x.nodeId, target), xor(y.nodeId, target))).slice(0, 16);
  t.deepEqual(
    table.closest(target, 16).map((e) => e.enr.nodeIdHex),
    brute.map((e) => e.nodeIdHex),
  );
});

test('our own id and records refused by the filter stay out', (t) => {
  const key = c.generatePrivateKey();
  const self = Enr.create(key, { ip: '10.0.0.1', udp: 1 }, c);
  const table = new RoutingTable(self.nodeId, c, { accept: (e) => e.udp !== 666 });
  t.is(table.insert(self).kind, 'ignored');
  t.is(table.insert(Enr.create(c.generatePrivateKey(), { ip: '10.0.0.2', udp: 666 }, c)).kind, 'ignored');
  t.is(table.size, 0);
});

function xor(a: Uint8Array, b: Uint8Array): Buffer {
  return Buffer.from(a.map((x, i) => x ^ (b[i] as number)));
}
