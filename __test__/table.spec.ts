/** The routing table: buckets by log-distance, least recently seen first, replacements, liveness, ranking. */
import { randomFillSync } from 'node:crypto';
import test from 'ava';
import { Enr } from '../ts/index.js';
import { logDistance, randomIdAtDistance } from '../ts/kademlia/distance.js';
import { type MaintenanceConfig, type MaintenanceDeps, TableMaintenance } from '../ts/kademlia/maintenance.js';
import { RoutingTable } from '../ts/kademlia/table.js';
import type { TableEntry } from '../ts/kademlia/types.js';
import { Discv5Error, ErrorCode } from '../ts/util/errors.js';
import { Counters } from '../ts/util/metrics.js';
import { envCrypto as c, waitFor } from './helpers/nodes.js';

const rand = (n: number) => randomFillSync(new Uint8Array(n));

/** Records with ids at log-distance `d` from `id` (found by trying keys: d = 256 and 255 are quick). */
function recordsAt(id: Uint8Array, d: number, n: number): Enr[] {
  return keysAt(id, d, n).map((key, i) => Enr.create(key, { ip: '10.1.2.3', udp: 9000 + i }, c));
}

/** Private keys whose node ids are at log-distance `d` from `id`. */
function keysAt(id: Uint8Array, d: number, n: number): Uint8Array[] {
  const out: Uint8Array[] = [];
  while (out.length < n) {
    const key = c.generatePrivateKey();
    if (logDistance(id, Enr.create(key, {}, c).nodeId) === d) out.push(key);
  }
  return out;
}

const limits = { perBucket: 2, perTable: 10 };

test('randomIdAtDistance gives ids at exactly that distance', (t) => {
  const id = rand(32);
  for (const d of [1, 2, 7, 8, 9, 100, 255, 256]) {
    for (let i = 0; i < 20; i++) t.is(logDistance(id, randomIdAtDistance(id, d, rand)), d);
  }
});

test('k per bucket; a full bucket keeps newcomers as replacements', (t) => {
  const local = rand(32);
  const table = new RoutingTable(local, c);
  const records = recordsAt(local, 256, 16 + 12);
  for (const r of records.slice(0, 16)) t.is(table.insert(r).kind, 'added');
  t.is(table.size, 16);
  const result = table.insert(records[16] as Enr);
  t.is(result.kind, 'replacement');
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

test('a newer record at the same endpoint is adopted and keeps its liveness', (t) => {
  const key = c.generatePrivateKey();
  const table = new RoutingTable(rand(32), c);
  const v1 = Enr.create(key, { ip: '10.0.0.1', udp: 1 }, c);
  table.insert(v1, { live: true });
  const v2 = v1.update(key, { tcp: 30303 });
  const r = table.insert(v2);
  t.true(r.kind === 'updated' && !r.endpointChanged);
  t.is(table.get(v1.nodeId)?.enr, v2);
  t.true(table.get(v1.nodeId)?.live);
  t.is(table.insert(v1).kind, 'updated');
  t.is(table.get(v1.nodeId)?.enr.seq, 2n, 'an older record does not come back');
});

// H3 (1): the landed table kept `live` across an endpoint change, so a record moved to a victim's
// address was served at once.
test('a newer record with another endpoint is not served until it answers there', (t) => {
  const key = c.generatePrivateKey();
  const local = rand(32);
  const table = new RoutingTable(local, c);
  const v1 = Enr.create(key, { ip: '10.0.0.1', udp: 1 }, c);
  const d = logDistance(local, v1.nodeId);
  table.insert(v1, { live: true });
  table.markLive(v1.nodeId);
  t.deepEqual(table.liveAt(d), [v1]);
  const v2 = v1.update(key, { udp: 2 });
  const r = table.insert(v2);
  t.is(r.kind, 'updated');
  t.true(r.kind === 'updated' && r.endpointChanged);
  const entry = table.get(v1.nodeId);
  t.is(entry?.enr, v2);
  t.false(entry?.live);
  t.is(entry?.checks, 0, 'the credit earned at the old endpoint is gone');
  t.deepEqual(table.liveAt(d), []);
  // An answer at the old endpoint proves nothing; one at the new endpoint does.
  t.is(table.markLive(v1.nodeId, { ip: '10.0.0.1', port: 1 }), undefined);
  t.deepEqual(table.liveAt(d), []);
  t.is(table.markLive(v1.nodeId, { ip: '10.0.0.1', port: 2 }), entry);
  t.deepEqual(table.liveAt(d), [v2]);
  t.is(entry?.checks, 1);
});

// H3 (2, 3): the landed table neither re-checked the limits on an update nor moved the subnet count.
test('a moved record must fit the subnet limits, and the counts move with it exactly', (t) => {
  const local = rand(32);
  const table = new RoutingTable(local, c, { ipLimits: limits });
  const [ka, kb, kx] = keysAt(local, 256, 3) as [Uint8Array, Uint8Array, Uint8Array];
  const a = Enr.create(ka, { ip: '203.0.113.1', udp: 1 }, c);
  const b = Enr.create(kb, { ip: '203.0.113.2', udp: 1 }, c);
  const x1 = Enr.create(kx, { ip: '10.0.0.7', udp: 1 }, c); // LAN: exempt from the limits
  for (const r of [a, b, x1]) t.is(table.insert(r, { live: true }).kind, 'added');
  t.deepEqual(table.subnetCounts(), new Map([['203.0.113.0/24', 2]]));
  // Into the full /24: refused, the old record stays, live, counted as before.
  const x2 = x1.update(kx, { ip: '203.0.113.3' });
  t.is(table.insert(x2).kind, 'ignored');
  t.is(table.get(x1.nodeId)?.enr, x1);
  t.true(table.get(x1.nodeId)?.live);
  t.deepEqual(table.subnetCounts(), new Map([['203.0.113.0/24', 2]]));
  // Into a free /24: adopted, counted there, not live.
  const x3 = x2.update(kx, { ip: '198.51.100.3' });
  t.is(table.insert(x3).kind, 'updated');
  t.is(table.get(x1.nodeId)?.subnet, '198.51.100.0/24');
  t.deepEqual(
    table.subnetCounts(),
    new Map([
      ['203.0.113.0/24', 2],
      ['198.51.100.0/24', 1],
    ]),
  );
  // Moving away from the /24 frees its place: exactly one, and the count follows the entry.
  const a2 = a.update(ka, { ip: '198.51.100.1' });
  t.is(table.insert(a2).kind, 'updated');
  t.deepEqual(
    table.subnetCounts(),
    new Map([
      ['203.0.113.0/24', 1],
      ['198.51.100.0/24', 2],
    ]),
  );
  t.true(table.hasIp('198.51.100.1'));
  t.false(table.hasIp('203.0.113.1'));
  // Removal takes away what was counted, nothing else.
  table.remove(a.nodeId);
  table.remove(x1.nodeId);
  t.deepEqual(table.subnetCounts(), new Map([['203.0.113.0/24', 1]]));
  t.false(table.hasIp('198.51.100.1'));
  t.true(table.hasIp('203.0.113.2'));
});

// H3 (4): a replacement seen again that no longer fits stayed in the index.
test('a replacement seen again that does not fit the limits leaves the index too', (t) => {
  const local = rand(32);
  const keys = keysAt(local, 256, 3) as [Uint8Array, Uint8Array, Uint8Array];
  // k = 2 and one entry per /24 in the whole table: the /24 of the first entry is full.
  const full = new RoutingTable(local, c, { k: 2, ipLimits: { perBucket: 2, perTable: 1 } });
  const r1 = Enr.create(keys[2], { ip: '10.0.0.3', udp: 1 }, c);
  full.insert(Enr.create(keys[0], { ip: '203.0.113.1', udp: 1 }, c));
  full.insert(Enr.create(keys[1], { ip: '10.0.0.2', udp: 1 }, c));
  t.is(full.insert(r1).kind, 'replacement');
  t.is(full.indexed, 3);
  t.is(full.insert(r1.update(keys[2], { ip: '203.0.113.9' })).kind, 'ignored');
  t.is(full.indexed, full.size + full.replacements().length, 'index in step with the lists');
  t.is(full.indexed, 2);
});

// M2: one missed check evicted a node that had answered for days.
test('liveness credit: answered checks add, a miss divides by 3, the entry leaves only at 0', (t) => {
  const local = rand(32);
  const table = new RoutingTable(local, c, { k: 1 });
  const [a, r] = recordsAt(local, 256, 2) as [Enr, Enr];
  table.insert(a);
  table.insert(r);
  for (let i = 0; i < 9; i++) table.markLive(a.nodeId);
  t.is(table.get(a.nodeId)?.checks, 9);
  t.deepEqual(table.failed(a.nodeId), { removed: undefined, promoted: undefined });
  t.is(table.get(a.nodeId)?.checks, 3);
  t.true(table.get(a.nodeId)?.live, 'it stays live');
  t.deepEqual(table.liveAt(256), [a]);
  t.deepEqual(table.failed(a.nodeId), { removed: undefined, promoted: undefined });
  t.is(table.get(a.nodeId)?.checks, 1);
  const out = table.failed(a.nodeId);
  t.is(out.removed?.enr, a);
  t.is(out.promoted?.enr, r, 'only on removal is a replacement promoted');
  t.is(table.get(a.nodeId), undefined);
});

// M7: no cap on places taken by inbound contact.
test('inbound entries take at most incomingPerBucket places of a bucket', (t) => {
  const local = rand(32);
  const table = new RoutingTable(local, c, { incomingPerBucket: 2 });
  const [i1, i2, i3, o1] = recordsAt(local, 256, 4) as [Enr, Enr, Enr, Enr];
  t.is(table.insert(i1, { inbound: true, seen: true }).kind, 'added');
  t.is(table.insert(i2, { inbound: true, seen: true }).kind, 'added');
  t.is(table.insert(i3, { inbound: true, seen: true }).kind, 'ignored', 'over the cap: refused, not queued');
  t.is(table.get(i3.nodeId), undefined);
  t.is(table.insert(i3).kind, 'added', 'the same node learned from others takes a place');
  t.is(table.insert(o1).kind, 'added');
  t.true(table.get(i1.nodeId)?.inbound);
  t.false(table.get(i3.nodeId)?.inbound);
  table.markLive(i1.nodeId);
  t.true(table.get(i1.nodeId)?.inbound, 'answering our PING does not change how it entered');
  t.is(table.indexed, 4);
});

test('hasIp: bucket entries by ip and ip6, not replacements', (t) => {
  const local = rand(32);
  const table = new RoutingTable(local, c, { k: 1 });
  const [ka, kb] = keysAt(local, 256, 2) as [Uint8Array, Uint8Array];
  const a = Enr.create(ka, { ip: '203.0.113.5', udp: 1, ip6: '2001:db8::5', udp6: 1 }, c);
  table.insert(a);
  table.insert(Enr.create(kb, { ip: '198.51.100.5', udp: 1 }, c));
  t.true(table.hasIp('203.0.113.5'));
  t.true(table.hasIp('2001:db8::5'));
  t.false(table.hasIp('198.51.100.5'), 'a replacement is not a table peer yet');
  table.remove(a.nodeId);
  t.false(table.hasIp('203.0.113.5'));
  t.false(table.hasIp('2001:db8::5'));
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

// ---- maintenance: checks on timers, the liveness credit, our own errors, re-seeding ----

const maintenanceConfig: MaintenanceConfig = {
  revalidateNewIntervalMs: 0,
  revalidateNewBatch: 4,
  revalidateLiveIntervalMs: 0,
  inboundPingDelayMs: 1,
  refreshIntervalMs: 0,
  reseedIntervalMs: 0,
  reseedMaxIntervalMs: 0,
  reseedBelowLive: 1,
};

type Answer = { enrSeq: bigint; endpoint: { ip: string; port: number } };

/** A maintenance over a fresh table with fake deps; `ping` and friends are swapped per test. */
function maintained(overrides: Partial<MaintenanceDeps> = {}, config: Partial<MaintenanceConfig> = {}) {
  const local = rand(32);
  const table = new RoutingTable(local, c);
  const counters = new Counters();
  const evicted: TableEntry[] = [];
  const updated: Enr[] = [];
  const m = new TableMaintenance({
    table,
    counters,
    config: { ...maintenanceConfig, ...config },
    ping: () => Promise.reject(new Discv5Error(ErrorCode.REQUEST_TIMEOUT, 'no answer')),
    requestEnr: () => Promise.reject(new Discv5Error(ErrorCode.REQUEST_TIMEOUT, 'no answer')),
    refresh: async () => {},
    reseed: () => {},
    onEvicted: (removed) => evicted.push(removed),
    onUpdated: (enr) => updated.push(enr),
    random: Math.random,
    ...overrides,
  });
  return { local, table, counters, evicted, updated, m };
}

/** Where a record is pinged (its IPv4 UDP endpoint). */
const at = (enr: Enr): Answer['endpoint'] => enr.endpoint4() as Answer['endpoint'];

// M2: the landed maintenance evicted on the first rejected PING, whatever the reason.
test('maintenance: a live entry with answered checks survives one missed check', async (t) => {
  let answer = true;
  const s = maintained({
    ping: async (enr) => {
      if (answer) return { enrSeq: enr.seq, endpoint: at(enr) };
      throw new Discv5Error(ErrorCode.REQUEST_TIMEOUT, 'no answer');
    },
  });
  const [a] = recordsAt(s.local, 256, 1) as [Enr];
  s.table.insert(a);
  for (let i = 0; i < 4; i++) await s.m.check(a);
  t.is(s.table.get(a.nodeId)?.checks, 4);
  t.true(s.table.get(a.nodeId)?.live);
  answer = false;
  await s.m.check(a);
  t.is(s.table.get(a.nodeId)?.checks, 1);
  t.true(s.table.get(a.nodeId)?.live, 'still live and still served');
  t.deepEqual(s.evicted, []);
  await s.m.check(a);
  t.is(s.table.get(a.nodeId), undefined, 'out of credit: evicted');
  t.deepEqual(
    s.evicted.map((e) => e.enr),
    [a],
  );
});

test('maintenance: our own errors never count against the peer', async (t) => {
  const codes = [ErrorCode.TOO_MANY_REQUESTS, ErrorCode.NOT_STARTED, ErrorCode.STOPPED, ErrorCode.NO_ENDPOINT];
  let next = 0;
  const s = maintained({
    ping: async () => {
      const code = codes[next++];
      if (code === undefined) throw new TypeError('a bug of ours, not the peer');
      throw new Discv5Error(code, 'local');
    },
  });
  const [a] = recordsAt(s.local, 256, 1) as [Enr];
  s.table.insert(a); // never answered: no credit, so one counted failure would evict it
  for (let i = 0; i <= codes.length; i++) await s.m.check(a);
  t.not(s.table.get(a.nodeId), undefined);
  t.deepEqual(s.evicted, []);
  t.is(s.counters.get('table.check-skipped'), codes.length + 1);
  t.is(s.counters.get('table.ping-failed'), 0);
});

test('maintenance: an answer at an endpoint the node has left does not make it live', async (t) => {
  const key = c.generatePrivateKey();
  const v1 = Enr.create(key, { ip: '10.0.0.1', udp: 1 }, c);
  const v2 = v1.update(key, { udp: 2 });
  const s = maintained({
    ping: async () => {
      s.table.insert(v2); // the node moves while our PING to the old endpoint is out
      return { enrSeq: 2n, endpoint: at(v1) };
    },
  });
  s.table.insert(v1);
  await s.m.check(v1);
  t.is(s.table.get(v1.nodeId)?.enr, v2);
  t.false(s.table.get(v1.nodeId)?.live);
  t.deepEqual(s.updated, [], 'the announced seq is the one we hold: nothing to fetch');
});

// M5 (the maintenance side): an announced newer record is fetched once, and handed on.
test('maintenance: an announced record is fetched once per node at a time', async (t) => {
  const key = c.generatePrivateKey();
  const v1 = Enr.create(key, { ip: '10.0.0.1', udp: 1 }, c);
  const v2 = v1.update(key, { udp: 2 });
  let fetches = 0;
  let release: (e: Enr) => void = () => {};
  const s = maintained({
    requestEnr: () => {
      fetches++;
      return new Promise<Enr>((resolve) => {
        release = resolve;
      });
    },
  });
  s.m.recordAnnounced(v1, 1n); // not newer: nothing
  t.is(fetches, 0);
  s.m.recordAnnounced(v1, 2n);
  s.m.recordAnnounced(v1, 2n);
  t.is(fetches, 1);
  release(v2);
  await waitFor(() => s.updated.length > 0, 2_000, 'the fetched record');
  t.deepEqual(s.updated, [v2]);
  // A PONG announcing a newer seq fetches it too (through the same path).
  const fetched = maintained({
    ping: async (enr) => ({ enrSeq: 2n, endpoint: at(enr) }),
    requestEnr: async () => v2,
  });
  fetched.table.insert(v1);
  await fetched.m.check(v1);
  await waitFor(() => fetched.updated.length > 0, 2_000, 'the fetched record');
  t.deepEqual(fetched.updated, [v2]);
  // A failed fetch is handled (counted), never an unhandled rejection.
  const failing = maintained();
  failing.m.recordAnnounced(v1, 2n);
  await waitFor(() => failing.counters.get('detached.maintenance.fetch-record') === 1, 2_000, 'the failed fetch');
  t.pass();
});

// M8: nothing re-seeded an empty table.
test('maintenance: an empty table is re-seeded on the timer; a throwing dep does not escape', async (t) => {
  let reseeds = 0;
  const s = maintained(
    {
      reseed: () => {
        reseeds++;
        throw new Error('reseed failed');
      },
    },
    { reseedIntervalMs: 2 },
  );
  s.m.start();
  t.teardown(() => s.m.stop());
  await waitFor(() => reseeds >= 2, 2_000, 'reseed');
  t.true(s.counters.get('table.reseed') >= 2);
  t.true(s.counters.get('maintenance.reseed-error') >= 2, 'counted, the timer goes on');
});

test('maintenance: re-seeding backs off, doubling its delay up to the cap, while too few entries are live', async (t) => {
  const at: number[] = [];
  const s = maintained(
    { reseed: () => void at.push(performance.now()), random: () => 0.5 }, // jitter factor 1
    { reseedIntervalMs: 5, reseedMaxIntervalMs: 40, reseedBelowLive: 1 },
  );
  s.m.start();
  t.teardown(() => s.m.stop());
  await waitFor(() => at.length >= 6, 5_000, 'six attempts');
  s.m.stop();
  // Timers never fire early (allow 1 ms of rounding), so each gap is at least its delay: 10, 20, 40, 40, 40.
  const gaps = at.slice(1).map((x, i) => x - (at[i] as number));
  [10, 20, 40, 40, 40].forEach((delay, i) => {
    t.true((gaps[i] as number) >= delay - 1, `gap ${i}: ${gaps[i]} ms, at least ${delay}`);
  });
});

test('maintenance: checkSoon pings a node whose endpoint changed, and its answer there makes it live', async (t) => {
  const key = c.generatePrivateKey();
  const v1 = Enr.create(key, { ip: '10.0.0.1', udp: 1 }, c);
  const v2 = v1.update(key, { udp: 2 });
  const pinged: Enr[] = [];
  const s = maintained({
    ping: async (enr) => {
      pinged.push(enr);
      return { enrSeq: enr.seq, endpoint: at(enr) };
    },
  });
  s.table.insert(v1, { live: true });
  const r = s.table.insert(v2);
  t.true(r.kind === 'updated' && r.endpointChanged);
  if (r.kind === 'updated' && r.endpointChanged) s.m.checkSoon(r.entry.enr);
  t.teardown(() => s.m.stop());
  await waitFor(() => s.table.get(v1.nodeId)?.live === true, 2_000, 'the check at the new endpoint');
  t.deepEqual(pinged, [v2]);
});
