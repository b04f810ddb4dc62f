/**
 * The metrics layer (ts/metrics): the built-in registry renders valid Prometheus text, the node's
 * internal counters map onto discv5_ metrics (deltas at scrape time, idempotent), prom-client through
 * the adapter shows the same values, and the /metrics HTTP endpoint behaves.
 */
import { createServer, isIP } from 'node:net';
import test from 'ava';
import client from 'prom-client';
import { PROMETHEUS_CONTENT_TYPE, serveMetrics } from '../ts/metrics/http.js';
import { LOOKUP_DURATION_BUCKETS, type NodeMetricsSource, registerNodeMetrics } from '../ts/metrics/node-metrics.js';
import { fromPromClient } from '../ts/metrics/prom-client.js';
import { PrometheusRegistry } from '../ts/metrics/registry.js';
import { type Exposition, parsePrometheus } from './helpers/prometheus.js';

/** The value of one series (labels compared exactly); undefined if absent. */
function value(e: Exposition, name: string, labels: Record<string, string> = {}): number | undefined {
  const want = JSON.stringify(Object.entries(labels).sort());
  return e.samples.find((s) => s.name === name && JSON.stringify(Object.entries(s.labels).sort()) === want)?.value;
}

/** Every series as `name{sorted labels}` → value, to compare two expositions. */
function table(e: Exposition): Record<string, number> {
  const out: Record<string, number> = {};
  for (const s of e.samples) {
    const labels = Object.entries(s.labels)
      .sort(([a], [b]) => (a < b ? -1 : 1))
      .map(([k, v]) => `${k}=${JSON.stringify(v)}`);
    out[`${s.name}{${labels.join(',')}}`] = s.value;
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// The test parser

const VALID = `# HELP a_total A "counter" with \\\\ and \\n.
# TYPE a_total counter
a_total{x="q\\"uo\\\\te\\nd",y="2"} 3
a_total{x="other"} 0
# a comment
# TYPE g gauge
g -1.5e3
g{k="v",} NaN
# TYPE h histogram
h_bucket{le="0.5"} 1
h_bucket{le="1"} 2
h_bucket{le="+Inf"} 3
h_sum 4.5
h_count 3
`;

test('the test parser reads a valid exposition, escapes included', (t) => {
  const e = parsePrometheus(VALID);
  t.is(e.families.get('a_total')?.help, 'A "counter" with \\ and \n.');
  t.is(value(e, 'a_total', { x: 'q"uo\\te\nd', y: '2' }), 3);
  t.is(value(e, 'g'), -1500);
  t.true(Number.isNaN(value(e, 'g', { k: 'v' })));
  t.is(value(e, 'h_count'), 3);
  t.is(e.families.get('h')?.samples.length, 5);
});

test('the test parser rejects broken expositions', (t) => {
  const broken: [string, string][] = [
    ['no final line feed', '# TYPE a gauge\na 1'],
    ['sample without TYPE', 'a 1\n'],
    ['TYPE after its samples', '# TYPE b gauge\nb 1\n# TYPE a gauge\na 1\n# TYPE b gauge\n'],
    ['invalid metric name', '# TYPE 1a gauge\n1a 1\n'],
    ['invalid label name', '# TYPE a gauge\na{1x="v"} 1\n'],
    ['unquoted label value', '# TYPE a gauge\na{x=v} 1\n'],
    ['bad escape', '# TYPE a gauge\na{x="\\t"} 1\n'],
    ['unterminated label value', '# TYPE a gauge\na{x="v} 1\n'],
    ['no value', '# TYPE a gauge\na{x="v"}\n'],
    ['bad value', '# TYPE a gauge\na 1x\n'],
    ['garbage line', '# TYPE a gauge\nhello world again\n'],
    ['unknown type', '# TYPE a thing\n'],
    ['duplicate series', '# TYPE a gauge\na{x="1"} 1\na{x="1"} 2\n'],
    ['family split in two', '# TYPE a gauge\n# TYPE b gauge\na 1\nb 1\na{x="2"} 1\n'],
    ['negative counter', '# TYPE a_total counter\na_total -1\n'],
    ['counter sample of another name', '# TYPE a counter\na_count 1\n'],
    ['buckets not cumulative', '# TYPE h histogram\nh_bucket{le="1"} 2\nh_bucket{le="+Inf"} 1\nh_sum 1\nh_count 1\n'],
    ['no +Inf bucket', '# TYPE h histogram\nh_bucket{le="1"} 1\nh_sum 1\nh_count 1\n'],
    ['count is not +Inf', '# TYPE h histogram\nh_bucket{le="+Inf"} 2\nh_sum 1\nh_count 3\n'],
    ['no _sum', '# TYPE h histogram\nh_bucket{le="+Inf"} 1\nh_count 1\n'],
    ['bucket without le', '# TYPE h histogram\nh_bucket 1\nh_sum 1\nh_count 1\n'],
  ];
  for (const [why, text] of broken) t.throws(() => parsePrometheus(text), undefined, why);
});

// ---------------------------------------------------------------------------------------------
// The built-in registry

test('the built-in registry renders what was recorded, running collect hooks before each render', (t) => {
  const r = new PrometheusRegistry();
  const c = r.counter({ name: 'x_events_total', help: 'Events.', labelNames: ['kind'] });
  let reads = 0;
  const g = r.gauge({ name: 'x_level', help: 'Level.', collect: () => g.set({}, ++reads) });
  const h = r.histogram({ name: 'x_duration_seconds', help: 'Durations.', labelNames: ['op'], buckets: [0.1, 1] });
  const plain = r.counter({ name: 'x_plain_total', help: 'Without labels: present at 0.' });
  c.inc({ kind: 'a' });
  c.inc({ kind: 'a' }, 2.5);
  c.inc({ kind: 7 });
  for (const v of [0.05, 0.1, 0.5, 3]) h.observe({ op: 'get' }, v);
  let e = parsePrometheus(r.text());
  t.is(value(e, 'x_events_total', { kind: 'a' }), 3.5);
  t.is(value(e, 'x_events_total', { kind: '7' }), 1);
  t.is(value(e, 'x_level'), 1);
  t.is(value(e, 'x_plain_total'), 0);
  t.is(value(e, 'x_duration_seconds_bucket', { op: 'get', le: '0.1' }), 2);
  t.is(value(e, 'x_duration_seconds_bucket', { op: 'get', le: '1' }), 3);
  t.is(value(e, 'x_duration_seconds_bucket', { op: 'get', le: '+Inf' }), 4);
  t.is(value(e, 'x_duration_seconds_sum', { op: 'get' }), 3.65);
  t.is(value(e, 'x_duration_seconds_count', { op: 'get' }), 4);
  t.is(e.families.get('x_duration_seconds')?.type, 'histogram');
  plain.inc({});
  e = parsePrometheus(r.text());
  t.is(value(e, 'x_level'), 2, 'the hook ran again');
  t.is(value(e, 'x_plain_total'), 1);
  t.is(new PrometheusRegistry().text(), '', 'nothing registered, nothing written');
});

test('the built-in registry escapes label values and help text', (t) => {
  const r = new PrometheusRegistry();
  const g = r.gauge({ name: 'x_g', help: 'back\\slash and\nnew line "quoted"', labelNames: ['v'] });
  const nasty = 'a"b\\c\nd}e,f=g';
  g.set({ v: nasty }, 1);
  const text = r.text();
  t.true(text.includes('# HELP x_g back\\\\slash and\\nnew line "quoted"\n'));
  const e = parsePrometheus(text);
  t.is(e.families.get('x_g')?.help, 'back\\slash and\nnew line "quoted"');
  t.is(value(e, 'x_g', { v: nasty }), 1);
});

test('the built-in registry refuses duplicate and invalid names and undeclared or missing labels', (t) => {
  const r = new PrometheusRegistry();
  const c = r.counter({ name: 'x_total', help: 'h', labelNames: ['a'] });
  r.histogram({ name: 'x_seconds', help: 'h', buckets: [1] });
  t.throws(() => r.gauge({ name: 'x_total', help: 'h' }), { message: /already registered/ });
  t.throws(() => r.gauge({ name: 'x_seconds_count', help: 'h' }), { message: /already registered/ });
  t.throws(() => r.gauge({ name: 'x-bad', help: 'h' }), { message: /invalid metric name/ });
  t.throws(() => r.gauge({ name: 'x_g1', help: 'h', labelNames: ['bad-label'] }), { message: /invalid label/ });
  t.throws(() => r.gauge({ name: 'x_g2', help: 'h', labelNames: ['__reserved'] }), { message: /invalid label/ });
  t.throws(() => r.gauge({ name: 'x_g3', help: 'h', labelNames: ['a', 'a'] }), { message: /twice/ });
  t.throws(() => r.histogram({ name: 'x_h1', help: 'h', labelNames: ['le'], buckets: [1] }), { message: /reserved/ });
  t.throws(() => r.histogram({ name: 'x_h2', help: 'h', buckets: [1, 1] }), { message: /increasing/ });
  t.throws(() => c.inc({ a: 'x', b: 'y' }), { message: /unknown label b/ });
  t.throws(() => c.inc({}), { message: /label a missing/ });
  t.throws(() => c.inc({ a: 'x' }, -1), { message: /counter goes up/ });
  const e = parsePrometheus(r.text());
  t.deepEqual([...e.families.keys()], ['x_total', 'x_seconds'], 'a refused declaration leaves nothing behind');
});

test('the built-in registry keeps at most maxSeriesPerMetric label sets per metric', (t) => {
  const r = new PrometheusRegistry({ maxSeriesPerMetric: 3 });
  const c = r.counter({ name: 'x_total', help: 'h', labelNames: ['k'] });
  for (let i = 0; i < 10; i++) c.inc({ k: i });
  c.inc({ k: 0 }, 4);
  const e = parsePrometheus(r.text());
  t.is(e.families.get('x_total')?.samples.length, 3);
  t.is(value(e, 'x_total', { k: '0' }), 5, 'kept label sets still count');
  t.is(r.dropped, 7);
  t.is(value(parsePrometheus(new PrometheusRegistry().text()), 'x_total'), undefined);
});

// ---------------------------------------------------------------------------------------------
// The node's metrics

/** Every internal counter name the node uses, plus a few that no code writes but that must stay bounded. */
function initialCounters(): Record<string, number> {
  return {
    'in.datagrams': 100,
    'in.bytes': 12_000,
    'out.bytes': 9_000,
    'in.packet.message': 60,
    'in.packet.whoareyou': 5,
    'in.packet.handshake': 4,
    'out.packet.message': 70,
    'out.packet.whoareyou-repeat': 1,
    'out.packet.handshake': 5,
    'drop.rate-ip': 3,
    'drop.handshake-budget-total': 2,
    'drop.record-bad-signature': 1,
    'drop.malformed-header': 6,
    'in.message.1': 20,
    'in.message.3': 10,
    'in.message.9': 1,
    'out.request.1': 15,
    'out.response.2': 20,
    'handshake.outbound': 5,
    'handshake.proven': 4,
    'handshake.failed': 1,
    'handshake.inbound': 4,
    'handshake.inbound-failed': 2,
    'request.answered': 30,
    'request.timeout': 3,
    'request.refused': 1,
    'request.retry': 2,
    'lookup.started': 2,
    'lookup.queries': 9,
    'ban.auto': 1,
    'table.evicted': 2,
    'table.ping-answered': 8,
    'callback.error': 3,
    'callback.error.talkHandler': 2,
    'callback.error.onNode': 1,
    'detached.bootstrap': 1,
    'detached.maintenance.refresh': 1,
    'maintenance.refresh-error': 2,
    'session.expired': 4,
    'transport.error': 1,
    'vote.invalid': 2,
    'vote.unusable': 1,
    'enr.address-updated': 1,
    'talk.response-too-large': 1,
    // Hostile: were a name ever built from an id or an address, the label must not show it.
    [`drop.peer-${'ab'.repeat(32)}`]: 1,
    'table.10.0.0.1': 1,
    'events.2001:db8::1': 1,
  };
}

function fakeSource() {
  const state = {
    counters: initialCounters(),
    buckets: [
      { distance: 256, entries: 3, live: 2 },
      { distance: 255, entries: 1, live: 0 },
      { distance: 254, entries: 0, live: 0 },
    ],
  };
  const source: NodeMetricsSource = {
    counters: () => ({ ...state.counters }),
    sessions: () => 7,
    activeRequests: () => 2,
    knownRecords: () => 40,
    tableEntries: () => 4,
    liveEntries: () => 2,
    buckets: () => state.buckets.map((b) => ({ ...b })),
    localSeq: () => 5n,
    bans: () => ({ ips: 1, nodeIds: 2 }),
    voters: (family) => (family === 4 ? 3 : 0),
  };
  const bump = (name: string, by = 1) => {
    state.counters[name] = (state.counters[name] ?? 0) + by;
  };
  return { state, source, bump };
}

function builtIn() {
  const fake = fakeSource();
  const registry = new PrometheusRegistry();
  const metrics = registerNodeMetrics(registry, fake.source);
  return { ...fake, metrics, scrape: async () => parsePrometheus(registry.text()) };
}

function withPromClient() {
  const fake = fakeSource();
  const register = new client.Registry();
  const metrics = registerNodeMetrics(fromPromClient(client, register), fake.source);
  return { ...fake, metrics, scrape: async () => parsePrometheus(await register.metrics()) };
}

for (const [backend, make] of [
  ['the built-in registry', builtIn],
  ['prom-client', withPromClient],
] as const) {
  test(`node metrics through ${backend}: the internal counters, mapped`, async (t) => {
    const { metrics, scrape } = make();
    metrics.lookupFinished(0.3);
    metrics.lookupFinished(Number.NaN);
    metrics.lookupFinished(-1);
    const e = await scrape();
    const expect: [string, Record<string, string>, number][] = [
      ['discv5_datagrams_received_total', {}, 100],
      ['discv5_bytes_total', { direction: 'in' }, 12_000],
      ['discv5_bytes_total', { direction: 'out' }, 9_000],
      ['discv5_packets_total', { direction: 'in', kind: 'whoareyou' }, 5],
      ['discv5_packets_total', { direction: 'out', kind: 'whoareyou-repeat' }, 1],
      ['discv5_dropped_total', { reason: 'rate-ip' }, 3],
      ['discv5_dropped_total', { reason: 'record-bad-signature' }, 1],
      ['discv5_dropped_total', { reason: 'malformed-header' }, 6],
      ['discv5_dropped_total', { reason: 'other' }, 1],
      ['discv5_rate_limited_total', { scope: 'ip' }, 3],
      ['discv5_rate_limited_total', { scope: 'handshake-total' }, 2],
      ['discv5_rate_limited_total', { scope: 'node' }, 0],
      ['discv5_messages_total', { direction: 'in', type: 'ping' }, 20],
      ['discv5_messages_total', { direction: 'in', type: 'findnode' }, 10],
      ['discv5_messages_total', { direction: 'in', type: 'unknown' }, 1],
      ['discv5_messages_total', { direction: 'out', type: 'ping' }, 15],
      ['discv5_messages_total', { direction: 'out', type: 'pong' }, 20],
      ['discv5_handshakes_total', { direction: 'outbound', outcome: 'sent' }, 5],
      ['discv5_handshakes_total', { direction: 'outbound', outcome: 'established' }, 4],
      ['discv5_handshakes_total', { direction: 'outbound', outcome: 'failed' }, 1],
      ['discv5_handshakes_total', { direction: 'inbound', outcome: 'established' }, 4],
      ['discv5_handshakes_total', { direction: 'inbound', outcome: 'failed' }, 2],
      ['discv5_requests_total', { outcome: 'answered' }, 30],
      ['discv5_requests_total', { outcome: 'timeout' }, 3],
      ['discv5_requests_total', { outcome: 'refused' }, 1],
      ['discv5_request_retries_total', {}, 2],
      ['discv5_lookups_total', {}, 2],
      ['discv5_lookup_queries_total', {}, 9],
      ['discv5_bans_total', { kind: 'auto' }, 1],
      ['discv5_bans_total', { kind: 'manual' }, 0],
      ['discv5_table_events_total', { event: 'evicted' }, 2],
      ['discv5_table_events_total', { event: 'other' }, 1],
      ['discv5_callback_errors_total', { event: 'talkHandler' }, 2],
      ['discv5_callback_errors_total', { event: 'onNode' }, 1],
      ['discv5_internal_errors_total', { what: 'detached.bootstrap' }, 1],
      ['discv5_internal_errors_total', { what: 'detached.maintenance.refresh' }, 1],
      ['discv5_internal_errors_total', { what: 'maintenance.refresh-error' }, 2],
      ['discv5_sessions_expired_total', {}, 4],
      ['discv5_transport_errors_total', {}, 1],
      ['discv5_address_votes_total', { outcome: 'invalid' }, 2],
      ['discv5_address_votes_total', { outcome: 'unusable' }, 1],
      ['discv5_local_enr_updates_total', { cause: 'address' }, 1],
      ['discv5_local_enr_updates_total', { cause: 'app' }, 0],
      ['discv5_events_total', { event: 'talk.response-too-large' }, 1],
      ['discv5_events_total', { event: 'other' }, 1],
      ['discv5_active_sessions', {}, 7],
      ['discv5_active_requests', {}, 2],
      ['discv5_known_records', {}, 40],
      ['discv5_table_entries', { state: 'all' }, 4],
      ['discv5_table_entries', { state: 'live' }, 2],
      ['discv5_table_bucket_entries', { distance: '256', state: 'all' }, 3],
      ['discv5_table_bucket_entries', { distance: '256', state: 'live' }, 2],
      ['discv5_table_bucket_entries', { distance: '255', state: 'live' }, 0],
      ['discv5_local_enr_seq', {}, 5],
      ['discv5_bans_active', { kind: 'ip' }, 1],
      ['discv5_bans_active', { kind: 'node' }, 2],
      ['discv5_address_voters', { family: '4' }, 3],
      ['discv5_address_voters', { family: '6' }, 0],
      ['discv5_lookup_duration_seconds_bucket', { le: '0.25' }, 0],
      ['discv5_lookup_duration_seconds_bucket', { le: '0.5' }, 1],
      ['discv5_lookup_duration_seconds_bucket', { le: '+Inf' }, 1],
      ['discv5_lookup_duration_seconds_sum', {}, 0.3],
      ['discv5_lookup_duration_seconds_count', {}, 1],
    ];
    for (const [name, labels, v] of expect) t.is(value(e, name, labels), v, `${name} ${JSON.stringify(labels)}`);
    t.is(value(e, 'discv5_table_bucket_entries', { distance: '254', state: 'all' }), undefined, 'never filled');
    t.false(
      e.samples.some((s) => s.labels.event === 'callback.error'),
      'the sum of the callback errors is not reported',
    );
    const buckets = e.samples.filter((s) => s.name === 'discv5_lookup_duration_seconds_bucket').map((s) => s.labels.le);
    t.deepEqual(buckets, [...LOOKUP_DURATION_BUCKETS.map(String), '+Inf']);
  });

  test(`node metrics through ${backend}: counters move by the delta, a second scrape changes nothing`, async (t) => {
    const { scrape, bump, state } = make();
    const first = table(await scrape());
    t.deepEqual(table(await scrape()), first, 'scraping again without change leaves every value equal');
    bump('in.bytes', 1_234);
    bump('drop.rate-total', 3);
    bump('callback.error.talkHandler');
    bump('callback.error');
    bump('table.seeded', 4);
    bump('ban.manual');
    state.buckets = [{ distance: 200, entries: 1, live: 1 }];
    const second = await scrape();
    const after = table(second);
    const moved = Object.fromEntries(Object.entries(after).filter(([k, v]) => first[k] !== v));
    t.deepEqual(moved, {
      'discv5_bytes_total{direction="in"}': 13_234,
      'discv5_dropped_total{reason="rate-total"}': 3,
      'discv5_rate_limited_total{scope="total"}': 3,
      'discv5_callback_errors_total{event="talkHandler"}': 3,
      'discv5_table_events_total{event="seeded"}': 4,
      'discv5_bans_total{kind="manual"}': 1,
      'discv5_table_bucket_entries{distance="200",state="all"}': 1,
      'discv5_table_bucket_entries{distance="200",state="live"}': 1,
      'discv5_table_bucket_entries{distance="256",state="all"}': 0,
      'discv5_table_bucket_entries{distance="256",state="live"}': 0,
      'discv5_table_bucket_entries{distance="255",state="all"}': 0,
    });
    t.deepEqual(table(await scrape()), after, 'idempotent');
  });

  test(`node metrics through ${backend}: names and labels follow the rules`, async (t) => {
    const { scrape } = make();
    const e = await scrape();
    t.true(e.families.size >= 29);
    for (const f of e.families.values()) {
      t.true(f.name.startsWith('discv5_'), f.name);
      t.truthy(f.help, f.name);
      if (f.type === 'counter') t.regex(f.name, /_total$/);
      else t.notRegex(f.name, /_total$/);
    }
    for (const s of e.samples) {
      for (const [k, v] of Object.entries(s.labels)) {
        t.false(/[0-9a-f]{16}/i.test(v), `${s.name} ${k}=${v} looks like an id`);
        t.is(isIP(v), 0, `${s.name} ${k}=${v} is an address`);
      }
    }
  });
}

test('prom-client through the adapter shows the same values as the built-in registry', async (t) => {
  const a = builtIn();
  const b = withPromClient();
  for (const m of [a, b]) {
    m.metrics.lookupFinished(0.07);
    m.metrics.lookupFinished(12);
  }
  t.deepEqual(table(await b.scrape()), table(await a.scrape()));
  for (const m of [a, b]) {
    m.bump('out.packet.handshake-repeat', 2);
    m.bump('drop.banned', 5);
    m.bump('in.message.4', 3);
    m.state.buckets = [];
  }
  t.deepEqual(table(await b.scrape()), table(await a.scrape()));
  t.is(client.register.getSingleMetric('discv5_bytes_total'), undefined, "prom-client's global registry untouched");
});

test('a node that serves discv4: its discv4.* counters and sizes as discv4_* series, through both registries', async (t) => {
  const withV4 = () => {
    const fake = fakeSource();
    Object.assign(fake.state.counters, {
      'discv4.in.ping': 4,
      'discv4.in.enrrequest': 1,
      'discv4.out.pong': 4,
      'discv4.out.neighbors': 2,
      'discv4.out.bytes': 700,
      'discv4.drop.bad-signature': 3,
      'discv4.drop.record-bad-ip': 1,
      [`discv4.drop.peer-${'cd'.repeat(32)}`]: 1,
      'discv4.lookup': 2,
      'discv4.table.added': 5,
      'detached.discv4.reseed': 1,
    });
    const source: NodeMetricsSource = {
      ...fake.source,
      discv4: () => ({ tableEntries: 6, liveEntries: 4, bonds: 3, pendingReplies: 1 }),
    };
    return { fake, source };
  };
  const a = withV4();
  const registry = new PrometheusRegistry();
  registerNodeMetrics(registry, a.source);
  const e = parsePrometheus(registry.text());
  const expect: [string, Record<string, string>, number][] = [
    ['discv4_packets_received_total', { type: 'ping' }, 4],
    ['discv4_packets_received_total', { type: 'enrrequest' }, 1],
    ['discv4_packets_received_total', { type: 'neighbors' }, 0],
    ['discv4_packets_sent_total', { type: 'pong' }, 4],
    ['discv4_packets_sent_total', { type: 'neighbors' }, 2],
    ['discv4_packets_sent_total', { type: 'findnode' }, 0],
    ['discv4_sent_bytes_total', {}, 700],
    ['discv4_dropped_total', { reason: 'bad-signature' }, 3],
    ['discv4_dropped_total', { reason: 'record-bad-ip' }, 1],
    ['discv4_dropped_total', { reason: 'other' }, 1],
    ['discv4_dropped_total', { reason: 'unbonded' }, 0],
    ['discv4_lookups_total', {}, 2],
    ['discv4_table_events_total', { event: 'added' }, 5],
    ['discv5_internal_errors_total', { what: 'detached.discv4.reseed' }, 1],
    ['discv4_table_entries', { state: 'all' }, 6],
    ['discv4_table_entries', { state: 'live' }, 4],
    ['discv4_bonds', {}, 3],
    ['discv4_pending_replies', {}, 1],
  ];
  for (const [name, labels, v] of expect) t.is(value(e, name, labels), v, `${name} ${JSON.stringify(labels)}`);
  t.false(
    e.samples.some((s) => s.name === 'discv5_events_total' && s.labels.event?.startsWith('discv4')),
    'none in the catch-all',
  );
  for (const f of e.families.values()) t.regex(f.name, /^discv[45]_/);
  for (const s of e.samples) for (const v of Object.values(s.labels)) t.false(/[0-9a-f]{16}/i.test(v), v);

  // prom-client shows the same; a node without discv4 has no discv4_ series at all.
  const b = withV4();
  const register = new client.Registry();
  registerNodeMetrics(fromPromClient(client, register), b.source);
  t.deepEqual(table(parsePrometheus(await register.metrics())), table(e));
  const plain = new PrometheusRegistry();
  const c = fakeSource();
  c.bump('discv4.in.ping'); // were a discv5-only node ever to count one, it is a plain event
  registerNodeMetrics(plain, c.source);
  const p = parsePrometheus(plain.text());
  t.false([...p.families.keys()].some((n) => n.startsWith('discv4_')));
  t.is(value(p, 'discv5_events_total', { event: 'discv4.in.ping' }), 1);
});

test('registering the node twice in one registry throws (one registry per node)', (t) => {
  const registry = new PrometheusRegistry();
  registerNodeMetrics(registry, fakeSource().source);
  t.throws(() => registerNodeMetrics(registry, fakeSource().source), { message: /already registered/ });
});

// ---------------------------------------------------------------------------------------------
// HTTP

async function portIsFree(port: number): Promise<boolean> {
  const probe = createServer();
  return new Promise((resolve) => {
    probe.once('error', () => resolve(false));
    probe.listen(port, '127.0.0.1', () => probe.close(() => resolve(true)));
  });
}

test('serveMetrics answers /metrics in the text format, 404 and 405 elsewhere, and releases its port', async (t) => {
  const registry = new PrometheusRegistry();
  registerNodeMetrics(registry, fakeSource().source);
  const server = await serveMetrics(registry, { ip: '127.0.0.1', port: 0 });
  t.teardown(() => server.close());
  t.true(server.port > 0);
  t.is(server.url, `http://127.0.0.1:${server.port}/metrics`);

  const ok = await fetch(server.url);
  t.is(ok.status, 200);
  t.is(ok.headers.get('content-type'), PROMETHEUS_CONTENT_TYPE);
  const e = parsePrometheus(await ok.text());
  t.is(value(e, 'discv5_datagrams_received_total'), 100);

  const query = await fetch(`${server.url}?x=1`);
  t.is(query.status, 200);
  await query.arrayBuffer();
  const head = await fetch(server.url, { method: 'HEAD' });
  t.is(head.status, 200);
  const other = await fetch(`http://127.0.0.1:${server.port}/other`);
  t.is(other.status, 404);
  await other.arrayBuffer();
  const post = await fetch(server.url, { method: 'POST', body: 'x' });
  t.is(post.status, 405);
  t.is(post.headers.get('allow'), 'GET, HEAD');
  await post.arrayBuffer();

  // fetch keeps its connection alive; close() must not wait for it.
  await server.close();
  await server.close();
  t.true(await portIsFree(server.port), 'the port is free again');
});

test('serveMetrics answers 500 when rendering fails, and keeps serving', async (t) => {
  let mode: 'throw' | 'reject' | 'ok' = 'throw';
  const registry = {
    text: (): string | Promise<string> => {
      if (mode === 'throw') throw new Error('render failed');
      if (mode === 'reject') return Promise.reject(new Error('render failed later'));
      return '# TYPE discv5_up gauge\ndiscv5_up 1\n';
    },
  };
  const server = await serveMetrics(registry, { ip: '127.0.0.1', port: 0 });
  t.teardown(() => server.close());
  for (const m of ['throw', 'reject'] as const) {
    mode = m;
    const r = await fetch(server.url);
    t.is(r.status, 500, m);
    await r.arrayBuffer();
  }
  mode = 'ok';
  const r = await fetch(server.url);
  t.is(r.status, 200);
  t.is(value(parsePrometheus(await r.text()), 'discv5_up'), 1);
  await server.close();
});

test('serveMetrics rejects an address it cannot bind and a bad port', async (t) => {
  const first = await serveMetrics({ text: () => '' }, { ip: '127.0.0.1', port: 0 });
  t.teardown(() => first.close());
  await t.throwsAsync(serveMetrics({ text: () => '' }, { ip: '127.0.0.1', port: first.port }), { code: 'EADDRINUSE' });
  await t.throwsAsync(serveMetrics({ text: () => '' }, { ip: '127.0.0.1', port: 70_000 }), { instanceOf: RangeError });
  await first.close();
});
