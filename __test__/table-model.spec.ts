/**
 * The routing table against a simple model, with random sequences of inserts, record updates
 * (same endpoint, moved, moved into a full subnet), stale records, answered and missed checks,
 * removals and inbound contact. After every step, what the table says is compared with what is
 * recomputed from scratch over its entries: subnet counts (H3), limits, the index, liveness only
 * at a verified endpoint (H3), the liveness credit (M2), the inbound cap (M7) and hasIp.
 */
import test from 'ava';
import fc from 'fast-check';
import { Enr } from '../ts/index.js';
import { logDistance } from '../ts/kademlia/distance.js';
import { RoutingTable } from '../ts/kademlia/table.js';
import type { InsertResult, TableEntry } from '../ts/kademlia/types.js';
import { ipScope, subnetOf } from '../ts/policy/ip-class.js';
import { envCrypto as c } from './helpers/nodes.js';

const K = 4;
const MAX_REPLACEMENTS = 3;
const CAP = 2;
const LIMITS = { perBucket: 2, perTable: 3 };

/** Where records can be: three public /24s (one crowded), the LAN, a public IPv6 prefix. */
const ADDRS: { ip?: string; udp?: number; ip6?: string; udp6?: number }[] = [
  { ip: '203.0.1.1', udp: 9000 },
  { ip: '203.0.1.1', udp: 9001 }, // same IP, another port: still a move
  { ip: '203.0.1.2', udp: 9000 },
  { ip: '203.0.1.3', udp: 9000 },
  { ip: '203.0.1.4', udp: 9000 },
  { ip: '203.0.2.1', udp: 9000 },
  { ip: '203.0.2.2', udp: 9000 },
  { ip: '203.0.3.1', udp: 9000 },
  { ip: '10.0.0.1', udp: 9000 },
  { ip: '10.0.0.2', udp: 9000 },
  { ip6: '2001:db8:1::1', udp6: 9000 },
  { ip6: '2001:db8:1::2', udp6: 9000 },
];
const IPS = [...new Set(ADDRS.map((a) => (a.ip ?? a.ip6) as string))];
const endpointOf = (ai: number) => {
  const a = ADDRS[ai] as (typeof ADDRS)[number];
  return { ip: (a.ip ?? a.ip6) as string, port: (a.udp ?? a.udp6) as number };
};

// Keys found once: 8 in the farthest bucket (more than k, so it fills and queues), 4 in the next.
const local = c.generatePrivateKey(); // 32 random bytes: our node id
const KEYS: Uint8Array[] = [];
for (const [d, n] of [
  [256, 8],
  [255, 4],
] as const) {
  let found = 0;
  while (found < n) {
    const key = c.generatePrivateKey();
    if (logDistance(local, Enr.create(key, {}, c).nodeId) === d) {
      KEYS.push(key);
      found++;
    }
  }
}
const IDS_BYTES = KEYS.map((k) => Enr.create(k, {}, c).nodeId);
const IDS = IDS_BYTES.map((id) => Buffer.from(id).toString('hex'));

/** Records are signed once and reused across runs: (key, seq, address) → record. */
const records = new Map<string, Enr>();
const addressOf = new WeakMap<Enr, number>();
function rec(ki: number, seq: number, ai: number): Enr {
  const name = `${ki}/${seq}/${ai}`;
  let r = records.get(name);
  if (r === undefined) {
    r = Enr.create(KEYS[ki] as Uint8Array, ADDRS[ai] as Record<string, string | number>, c, BigInt(seq));
    records.set(name, r);
    addressOf.set(r, ai);
  }
  return r;
}

const scratchSubnet = (enr: Enr): string | undefined => {
  const ip = enr.ip ?? enr.ip6;
  return ip !== undefined && ipScope(ip) === 'public' ? subnetOf(ip) : undefined;
};

type Op =
  | { t: 'insert'; k: number; ai: number; seen: boolean; inbound: boolean }
  | { t: 'move'; k: number; ai: number; inbound: boolean }
  | { t: 'stale'; k: number }
  | { t: 'live'; k: number; where: 'current' | 'other' | 'none'; ai: number; times: number }
  | { t: 'fail'; k: number }
  | { t: 'remove'; k: number };

const key = fc.integer({ min: 0, max: KEYS.length - 1 });
const addr = fc.integer({ min: 0, max: ADDRS.length - 1 });
const op: fc.Arbitrary<Op> = fc.oneof(
  {
    weight: 4,
    arbitrary: fc.record({
      t: fc.constant('insert' as const),
      k: key,
      ai: addr,
      seen: fc.boolean(),
      inbound: fc.boolean(),
    }),
  },
  { weight: 3, arbitrary: fc.record({ t: fc.constant('move' as const), k: key, ai: addr, inbound: fc.boolean() }) },
  { weight: 1, arbitrary: fc.record({ t: fc.constant('stale' as const), k: key }) },
  {
    weight: 8,
    arbitrary: fc.record({
      t: fc.constant('live' as const),
      k: key,
      where: fc.constantFrom<('current' | 'other' | 'none')[]>('current', 'current', 'current', 'other', 'none'),
      ai: addr,
      times: fc.integer({ min: 1, max: 3 }),
    }),
  },
  { weight: 3, arbitrary: fc.record({ t: fc.constant('fail' as const), k: key }) },
  { weight: 1, arbitrary: fc.record({ t: fc.constant('remove' as const), k: key }) },
);

/** What the model keeps per bucket entry: its credit, and the address it last answered at. */
interface Model {
  published: Map<number, { seq: number; ai: number }>;
  live: Map<number, boolean>;
  checks: Map<number, number>;
  verified: Map<number, number>;
}

/** How often the interesting cases came up, so that a weaker generator cannot pass unnoticed. */
const STATS = new Map<string, number>();
const stat = (k: string) => STATS.set(k, (STATS.get(k) ?? 0) + 1);

function run(ops: Op[]): void {
  const table = new RoutingTable(local, c, {
    k: K,
    maxReplacements: MAX_REPLACEMENTS,
    incomingPerBucket: CAP,
    ipLimits: LIMITS,
  });
  const m: Model = { published: new Map(), live: new Map(), checks: new Map(), verified: new Map() };
  const kiOf = (e: TableEntry) => IDS.indexOf(e.enr.nodeIdHex);
  const entryOf = (ki: number) => table.entries().find((e) => kiOf(e) === ki);
  let before = new Set<number>();

  /** Inserts a record of node `ki` and checks what it did to the node's entry, if it had one. */
  const insertChecked = (ki: number, next: Enr, options: { seen?: boolean; inbound?: boolean }) => {
    const entry = entryOf(ki);
    const held = entry?.enr;
    const fits = entry !== undefined && fitsInstead(table, entry, next);
    const r = table.insert(next, options);
    if (entry === undefined || held === undefined) return;
    if (next.seq <= held.seq) {
      expectUpdated(r, false);
      assert(entry.enr === held, 'an older record does not come back');
    } else if (addressOf.get(next) === addressOf.get(held)) {
      expectUpdated(r, false);
      assert(entry.enr === next, 'a newer record at the same endpoint is adopted');
    } else if (fits) {
      expectUpdated(r, true);
      stat('moved');
      assert(entry.enr === next && !entry.live && entry.checks === 0, 'a moved entry is not live');
      m.live.set(ki, false);
      m.checks.set(ki, 0);
      m.verified.delete(ki);
    } else {
      stat('move-refused');
      assert(r.kind === 'ignored', `a move that does not fit is ignored, got ${r.kind}`);
      assert(entry.enr === held, 'the old record stays');
    }
  };

  for (const o of ops) {
    const entry = entryOf(o.k);
    const pub = m.published.get(o.k);
    switch (o.t) {
      case 'insert': {
        const p = pub ?? { seq: 1, ai: o.ai };
        m.published.set(o.k, p);
        insertChecked(o.k, rec(o.k, p.seq, p.ai), { seen: o.seen, inbound: o.inbound });
        break;
      }
      case 'move': {
        const p = { seq: (pub?.seq ?? 0) + 1, ai: o.ai };
        m.published.set(o.k, p);
        insertChecked(o.k, rec(o.k, p.seq, p.ai), { inbound: o.inbound });
        break;
      }
      case 'stale': {
        if (pub === undefined || pub.seq < 2) break;
        insertChecked(o.k, rec(o.k, pub.seq - 1, pub.ai), {});
        break;
      }
      case 'live': {
        const current = entry === undefined ? undefined : (addressOf.get(entry.enr) as number);
        const other = current === undefined || o.ai !== current ? o.ai : (o.ai + 1) % ADDRS.length;
        const endpoint = o.where === 'none' ? undefined : endpointOf(o.where === 'current' ? (current ?? o.ai) : other);
        const expectCredit = entry !== undefined && o.where !== 'other';
        for (let i = 0; i < o.times; i++) {
          const r = table.markLive(IDS_BYTES[o.k] as Uint8Array, endpoint);
          assert((r !== undefined) === expectCredit, `markLive ${o.where}: credited ${r !== undefined}`);
          if (expectCredit && current !== undefined) {
            m.live.set(o.k, true);
            m.checks.set(o.k, (m.checks.get(o.k) ?? 0) + 1);
            m.verified.set(o.k, current);
          }
        }
        break;
      }
      case 'fail': {
        const credit = entry?.checks ?? 0;
        const wasLive = entry?.live;
        const r = table.failed(IDS_BYTES[o.k] as Uint8Array);
        if (entry === undefined) {
          assert(r.removed === undefined && r.promoted === undefined, 'nothing to fail');
          break;
        }
        const left = Math.floor(credit / 3);
        if (left > 0) {
          assert(r.removed === undefined && r.promoted === undefined, 'credit left: it stays');
          assert(entryOf(o.k) === entry && entry.live === wasLive, 'it stays in place, as live as it was');
          m.checks.set(o.k, left);
        } else {
          assert(r.removed === entry && entryOf(o.k) === undefined, 'out of credit: it leaves');
          if (r.promoted !== undefined) assert(table.get(r.promoted.enr.nodeId) === r.promoted, 'promoted');
        }
        if (credit >= 3 && wasLive) stat('survivor');
        if (credit >= 3 && wasLive) assert(r.removed === undefined, 'a live entry with 3+ checks survives a miss');
        break;
      }
      case 'remove':
        table.remove(IDS_BYTES[o.k] as Uint8Array);
        assert(entryOf(o.k) === undefined, 'removed');
        break;
    }
    before = checkInvariants(table, m, before, kiOf);
  }
}

function expectUpdated(r: InsertResult, endpointChanged: boolean): void {
  assert(
    r.kind === 'updated' && r.endpointChanged === endpointChanged,
    `expected updated/${endpointChanged}, got ${JSON.stringify(r.kind)}`,
  );
}

/** Whether `next` fits the limits in place of `entry`'s record, recomputed from scratch. */
function fitsInstead(table: RoutingTable, entry: TableEntry, next: Enr): boolean {
  const subnet = scratchSubnet(next);
  if (subnet === undefined) return true;
  const b = table.bucketOf(next.nodeId);
  const others = table.entries().filter((e) => e !== entry && scratchSubnet(e.enr) === subnet);
  return (
    others.length < LIMITS.perTable &&
    others.filter((e) => table.bucketOf(e.enr.nodeId) === b).length < LIMITS.perBucket
  );
}

function checkInvariants(
  table: RoutingTable,
  m: Model,
  before: Set<number>,
  kiOf: (e: TableEntry) => number,
): Set<number> {
  const entries = table.entries();
  const replacements = table.replacements();
  const now = new Set(entries.map(kiOf));
  // Entries that entered since the last step come in unproven (nothing here inserts with `live`).
  for (const e of entries) {
    const ki = kiOf(e);
    if (!before.has(ki)) {
      assert(!e.live && e.checks === 0, 'a new entry is not live and has no credit');
      m.live.set(ki, false);
      m.checks.set(ki, 0);
      m.verified.delete(ki);
    }
  }
  for (const ki of before) {
    if (!now.has(ki)) {
      m.live.delete(ki);
      m.checks.delete(ki);
      m.verified.delete(ki);
    }
  }
  // Subnet counts recomputed from scratch equal the table's, and respect the limits.
  const counts = new Map<string, number>();
  const perBucket = new Map<string, number>();
  const inbound = new Map<number, number>();
  const perBucketSize = new Map<number, number>();
  for (const e of entries) {
    const b = table.bucketOf(e.enr.nodeId);
    perBucketSize.set(b, (perBucketSize.get(b) ?? 0) + 1);
    if (e.inbound) inbound.set(b, (inbound.get(b) ?? 0) + 1);
    const s = scratchSubnet(e.enr);
    assert(e.subnet === s, `entry counted under ${e.subnet}, its record is in ${s}`);
    if (s === undefined) continue;
    counts.set(s, (counts.get(s) ?? 0) + 1);
    perBucket.set(`${b}/${s}`, (perBucket.get(`${b}/${s}`) ?? 0) + 1);
  }
  assert(sameMap(counts, table.subnetCounts()), 'subnet counts exact');
  for (const n of counts.values()) assert(n <= LIMITS.perTable, 'per-table limit');
  for (const n of perBucket.values()) assert(n <= LIMITS.perBucket, 'per-bucket limit');
  for (const n of inbound.values()) assert(n <= CAP, 'inbound cap');
  for (const n of perBucketSize.values()) assert(n <= K, 'k per bucket');
  // The index holds exactly the entries and the replacements.
  const ids = new Set([...entries, ...replacements].map((e) => e.enr.nodeIdHex));
  assert(ids.size === entries.length + replacements.length, 'no node both entry and replacement');
  assert(table.indexed === ids.size, `index ${table.indexed} vs ${ids.size} listed`);
  // The counts kept for O(1) reads match the lists.
  assert(table.size === entries.length, `size ${table.size} vs ${entries.length} listed`);
  const liveListed = entries.filter((e) => e.live).length;
  assert(table.liveSize === liveListed, `liveSize ${table.liveSize} vs ${liveListed} live listed`);
  // Liveness and credit as the model says; served only at the endpoint that answered.
  for (const e of entries) {
    const ki = kiOf(e);
    assert(e.live === m.live.get(ki), `live ${e.live}, model ${m.live.get(ki)}`);
    assert(e.checks === m.checks.get(ki), `checks ${e.checks}, model ${m.checks.get(ki)}`);
  }
  for (const d of [255, 256]) {
    const served = table.liveAt(d);
    const live = entries.filter((e) => e.live && table.bucketOf(e.enr.nodeId) === d - 1);
    assert(served.length === live.length, 'liveAt serves the live entries');
    for (const r of served) {
      const ki = IDS.indexOf(r.nodeIdHex);
      assert(m.verified.get(ki) === addressOf.get(r), 'served only at the endpoint that answered');
    }
  }
  for (const ip of IPS) {
    const scan = entries.some((e) => e.enr.ip === ip || e.enr.ip6 === ip);
    assert(table.hasIp(ip) === scan, `hasIp(${ip})`);
  }
  return now;
}

function sameMap(a: Map<string, number>, b: Map<string, number>): boolean {
  return a.size === b.size && [...a].every(([k, v]) => b.get(k) === v);
}

function assert(ok: boolean, what: string): asserts ok {
  if (!ok) throw new Error(what);
}

test('the table agrees with a model over random sequences of inserts, moves, checks and removals', (t) => {
  const out = fc.check(
    fc.property(fc.array(op, { minLength: 1, maxLength: 80, size: 'max' }), (ops) => run(ops)),
    { numRuns: 150 },
  );
  if (out.failed) t.fail(`${String(out.errorInstance)}\nafter ${JSON.stringify(out.counterexample)}\nseed ${out.seed}`);
  for (const what of ['moved', 'move-refused', 'survivor'])
    t.true((STATS.get(what) ?? 0) > 0, `no '${what}' case was generated`);
});
