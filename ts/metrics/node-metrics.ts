/**
 * One node's metrics, read at scrape time: the node keeps cheap internal counters (a map of dotted
 * names, `Counters.snapshot()`) and state, and nothing here runs per packet. Each scrape, the collect
 * hooks push every internal counter's growth since the last collect into its `discv5_` counter
 * (idempotent: collecting twice in one scrape pushes nothing the second time) and set the gauges.
 *
 * Label values come only from code literals (the internal counter names), never from a node id or an
 * address; as a second guard a value that is not a short lowercase word, or that holds a long hex run,
 * is reported as "other", and past `MAX_ROUTED_NAMES` distinct names new ones go to
 * `discv5_events_total{event="other"}`.
 *
 * A node that also serves Discovery v4 (its source has `discv4`) gets `discv4_*` series besides:
 * its `discv4.in.<type>`, `discv4.out.<type>` and `discv4.drop.<reason>` counters as packets
 * received and sent by type and drops by reason, and its v4 table, bonds and awaited replies as gauges.
 */
import type { Counter, Gauge, Labels, MetricsRegistry } from './types.js';

/** What the metrics read from a node, each scrape. */
export interface NodeMetricsSource {
  /** The internal counters by dotted name (`Counters.snapshot()`); each only goes up. */
  counters(): Record<string, number>;
  sessions(): number;
  activeRequests(): number;
  knownRecords(): number;
  tableEntries(): number;
  liveEntries(): number;
  buckets(): { distance: number; entries: number; live: number }[];
  localSeq(): bigint;
  bans(): { ips: number; nodeIds: number };
  voters(family: 4 | 6): number;
  /** Present only on a node that serves Discovery v4: its current sizes. */
  discv4?: () => Discv4MetricsState;
}

/** A Discovery v4 node's current sizes, read at scrape time. */
export interface Discv4MetricsState {
  tableEntries: number;
  liveEntries: number;
  /** Endpoint proofs held (nodes that answered our PING recently). */
  bonds: number;
  /** Replies awaited (PONG, NEIGHBORS, ENRRESPONSE). */
  pendingReplies: number;
}

/** What the node calls as things happen (rarely: never per packet). */
export interface NodeMetrics {
  /** A lookup ended after `seconds` (ignored unless finite and >= 0). */
  lookupFinished(seconds: number): void;
}

export const LOOKUP_DURATION_BUCKETS: readonly number[] = [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

/** Distinct internal counter names routed before new ones all count as `discv5_events_total{event="other"}`. */
export const MAX_ROUTED_NAMES = 1_024;

/** The counters: name, help, label names. */
const COUNTERS = {
  datagrams: ['discv5_datagrams_received_total', 'UDP datagrams received, before any check.', []],
  packets: ['discv5_packets_total', 'Packets received and sent, by kind.', ['direction', 'kind']],
  bytes: ['discv5_bytes_total', 'UDP payload bytes received and sent.', ['direction']],
  dropped: ['discv5_dropped_total', 'Packets, messages and records dropped, by reason.', ['reason']],
  rateLimited: ['discv5_rate_limited_total', 'Packets refused by a rate limit, by scope.', ['scope']],
  messages: ['discv5_messages_total', 'Messages received and sent, by type.', ['direction', 'type']],
  handshakes: ['discv5_handshakes_total', 'Handshakes, by direction and outcome.', ['direction', 'outcome']],
  requests: ['discv5_requests_total', 'Requests sent, by outcome.', ['outcome']],
  retries: ['discv5_request_retries_total', 'Requests sent again after a timeout.', []],
  lookups: ['discv5_lookups_total', 'Lookups started.', []],
  lookupQueries: ['discv5_lookup_queries_total', 'FINDNODE queries made by lookups.', []],
  bans: ['discv5_bans_total', 'Bans imposed, automatic or asked for.', ['kind']],
  tableEvents: ['discv5_table_events_total', 'Routing table events.', ['event']],
  callbackErrors: ['discv5_callback_errors_total', 'Application callbacks that threw or rejected.', ['event']],
  internalErrors: ['discv5_internal_errors_total', 'Background tasks that failed, by internal name.', ['what']],
  sessionsExpired: ['discv5_sessions_expired_total', 'Sessions dropped because they expired.', []],
  transportErrors: ['discv5_transport_errors_total', 'Errors reported by the UDP transport.', []],
  addressVotes: ['discv5_address_votes_total', 'PONG address votes not counted, by outcome.', ['outcome']],
  enrUpdates: ['discv5_local_enr_updates_total', 'Updates of the local record, by cause.', ['cause']],
  store: ['discv5_store_events_total', 'Data-dir store events: flushes, rows loaded, failures, reports.', ['event']],
  events: ['discv5_events_total', 'Other internal events, by internal name.', ['event']],
} as const satisfies Record<string, readonly [string, string, readonly string[]]>;

/** The Discovery v4 counters, declared only for a node that serves it. */
const V4_COUNTERS = {
  v4Received: [
    'discv4_packets_received_total',
    'Discovery v4 packets received that verified and passed the rate limits, by type.',
    ['type'],
  ],
  v4Sent: ['discv4_packets_sent_total', 'Discovery v4 packets sent, by type.', ['type']],
  v4SentBytes: ['discv4_sent_bytes_total', 'Discovery v4 bytes sent (UDP payloads).', []],
  v4Dropped: [
    'discv4_dropped_total',
    'Discovery v4 packets, requests, replies and records dropped, by reason.',
    ['reason'],
  ],
  v4Lookups: ['discv4_lookups_total', 'Discovery v4 lookups started.', []],
  v4TableEvents: ['discv4_table_events_total', 'Discovery v4 routing table events.', ['event']],
} as const satisfies Record<string, readonly [string, string, readonly string[]]>;

type CounterKey = keyof typeof COUNTERS | keyof typeof V4_COUNTERS;
type Route = readonly [CounterKey, Labels];

/** Internal counters with a fixed destination; an empty list is not reported. */
const EXACT: Readonly<Record<string, readonly Route[]>> = {
  'in.datagrams': [['datagrams', {}]],
  'in.bytes': [['bytes', { direction: 'in' }]],
  'out.bytes': [['bytes', { direction: 'out' }]],
  'handshake.outbound': [['handshakes', { direction: 'outbound', outcome: 'sent' }]],
  'handshake.proven': [['handshakes', { direction: 'outbound', outcome: 'established' }]],
  'handshake.failed': [['handshakes', { direction: 'outbound', outcome: 'failed' }]],
  'handshake.inbound': [['handshakes', { direction: 'inbound', outcome: 'established' }]],
  'handshake.inbound-failed': [['handshakes', { direction: 'inbound', outcome: 'failed' }]],
  'request.answered': [['requests', { outcome: 'answered' }]],
  'request.timeout': [['requests', { outcome: 'timeout' }]],
  'request.refused': [['requests', { outcome: 'refused' }]],
  'request.retry': [['retries', {}]],
  'lookup.started': [['lookups', {}]],
  'lookup.queries': [['lookupQueries', {}]],
  'ban.auto': [['bans', { kind: 'auto' }]],
  'ban.manual': [['bans', { kind: 'manual' }]],
  'session.expired': [['sessionsExpired', {}]],
  'transport.error': [['transportErrors', {}]],
  'vote.invalid': [['addressVotes', { outcome: 'invalid' }]],
  'vote.unusable': [['addressVotes', { outcome: 'unusable' }]],
  'enr.address-updated': [['enrUpdates', { cause: 'address' }]],
  'enr.updated': [['enrUpdates', { cause: 'app' }]],
  // The sum of every callback.error.<event>, which are reported one by one.
  'callback.error': [],
};

/** Discovery v4 counters with a fixed destination (matched before the v4 prefixes). */
const V4_EXACT: Readonly<Record<string, readonly Route[]>> = {
  'discv4.out.bytes': [['v4SentBytes', {}]],
  'discv4.lookup': [['v4Lookups', {}]],
};

/** Discovery v4 packet types, reported from the start. */
const V4_TYPES = ['ping', 'pong', 'findnode', 'neighbors', 'enrrequest', 'enrresponse'] as const;

/** Discovery v4 drop reasons reported from the start (others appear when they first happen). */
const V4_INITIAL_DROPS = ['bad-signature', 'expired', 'unsolicited', 'unbonded'] as const;

/** Drop reasons that are rate limits, and their scope. */
const RATE_LIMIT_SCOPES: Readonly<Record<string, string>> = {
  'rate-total': 'total',
  'rate-ip': 'ip',
  'rate-node': 'node',
  'handshake-budget': 'handshake-ip',
  'handshake-budget-total': 'handshake-total',
};

const MESSAGE_TYPES: Readonly<Record<string, string>> = {
  '1': 'ping',
  '2': 'pong',
  '3': 'findnode',
  '4': 'nodes',
  '5': 'talkreq',
  '6': 'talkresp',
};

const messageType = (n: string): string => MESSAGE_TYPES[n] ?? 'unknown';

type Prefixes = readonly (readonly [string, (rest: string, name: string) => readonly Route[] | undefined])[];

/** Discovery v4 counters named `discv4.<what>.<rest>`, for a node that serves it. */
const V4_PREFIXES: Prefixes = [
  ['discv4.in.', (type) => [['v4Received', { type: safe(type) }]]],
  ['discv4.out.', (type) => [['v4Sent', { type: safe(type) }]]],
  ['discv4.drop.', (reason) => [['v4Dropped', { reason: safe(reason) }]]],
  ['discv4.table.', (event) => [['v4TableEvents', { event: safe(event) }]]],
  // Its table's upkeep failures, as discv5's.
  ['discv4.detached.', (_, name) => [['internalErrors', { what: safe(name) }]]],
  [
    'discv4.maintenance.',
    (rest, name) => (rest.endsWith('-error') ? [['internalErrors', { what: safe(name) }]] : undefined),
  ],
];

/** Internal counters named `<prefix><rest>`, routed by `rest`; undefined falls through to `events`. */
const PREFIXES: Prefixes = [
  ['in.packet.', (kind) => [['packets', { direction: 'in', kind: safe(kind) }]]],
  ['out.packet.', (kind) => [['packets', { direction: 'out', kind: safe(kind) }]]],
  ['in.message.', (n) => [['messages', { direction: 'in', type: messageType(n) }]]],
  ['out.request.', (n) => [['messages', { direction: 'out', type: messageType(n) }]]],
  ['out.response.', (n) => [['messages', { direction: 'out', type: messageType(n) }]]],
  [
    'drop.',
    (reason) => {
      const dropped: Route = ['dropped', { reason: safe(reason) }];
      const scope = RATE_LIMIT_SCOPES[reason];
      return scope === undefined ? [dropped] : [dropped, ['rateLimited', { scope }]];
    },
  ],
  ['table.', (event) => [['tableEvents', { event: safe(event) }]]],
  ['store.', (event) => [['store', { event: safe(event) }]]],
  ['callback.error.', (event) => [['callbackErrors', { event: safe(event) }]]],
  ['detached.', (_, name) => [['internalErrors', { what: safe(name) }]]],
  ['maintenance.', (rest, name) => (rest.endsWith('-error') ? [['internalErrors', { what: safe(name) }]] : undefined)],
];

/** Label sets reported from the start (at 0), so that their series exist before the first event. */
const INITIAL: readonly Route[] = [
  ...Object.values(EXACT).flat(),
  ...Object.values(RATE_LIMIT_SCOPES).map((scope): Route => ['rateLimited', { scope }]),
  ...['in', 'out'].flatMap((direction) =>
    Object.values(MESSAGE_TYPES).map((type): Route => ['messages', { direction, type }]),
  ),
  ...['message', 'whoareyou', 'handshake'].map((kind): Route => ['packets', { direction: 'in', kind }]),
];

/** The same for Discovery v4, on a node that serves it. */
const V4_INITIAL: readonly Route[] = [
  ...Object.values(V4_EXACT).flat(),
  ...V4_TYPES.map((type): Route => ['v4Received', { type }]),
  ...V4_TYPES.map((type): Route => ['v4Sent', { type }]),
  ...V4_INITIAL_DROPS.map((reason): Route => ['v4Dropped', { reason }]),
];

/** A label value as is if it is a short word of code (never an id or an address), else "other". */
function safe(value: string): string {
  return /^[a-z][a-z0-9._-]{0,63}$/i.test(value) && !/[0-9a-f]{16}/i.test(value) ? value : 'other';
}

function routeOf(name: string, discv4: boolean): readonly Route[] {
  const exact = EXACT[name] ?? (discv4 ? V4_EXACT[name] : undefined);
  if (exact !== undefined) return exact;
  for (const [prefix, route] of discv4 ? [...V4_PREFIXES, ...PREFIXES] : PREFIXES) {
    if (!name.startsWith(prefix)) continue;
    const r = route(name.slice(prefix.length), name);
    if (r !== undefined) return r;
    break;
  }
  return [['events', { event: safe(name) }]];
}

const OTHER: readonly Route[] = [['events', { event: 'other' }]];

/**
 * Declares the node's metrics in `registry` and reads `source` whenever the registry collects.
 * Declare once per registry: the names are fixed, so a second node needs a registry of its own.
 */
export function registerNodeMetrics(registry: MetricsRegistry, source: NodeMetricsSource): NodeMetrics {
  const v4State = source.discv4;
  const routes = new Map<string, readonly Route[]>();
  const last = new Map<string, number>();
  const route = (name: string): readonly Route[] => {
    let r = routes.get(name);
    if (r === undefined) {
      if (routes.size >= MAX_ROUTED_NAMES) return OTHER;
      r = routeOf(name, v4State !== undefined);
      routes.set(name, r);
    }
    return r;
  };

  let counters: Partial<Record<CounterKey, Counter>> | undefined;
  const pushCounters = (): void => {
    if (counters === undefined) return;
    const now = source.counters();
    for (const name of Object.keys(now)) {
      const v = now[name];
      if (typeof v !== 'number' || !Number.isFinite(v)) continue;
      const before = last.get(name) ?? 0;
      if (v === before) continue;
      last.set(name, v);
      // A count below the last one means a fresh source: what it counted since is new.
      const delta = v > before ? v - before : v;
      if (delta <= 0) continue;
      for (const [key, labels] of route(name)) counters[key]?.inc(labels, delta);
    }
  };
  const declared: Partial<Record<CounterKey, Counter>> = {};
  const declare = (specs: Readonly<Record<string, readonly [string, string, readonly string[]]>>): void => {
    for (const [key, [name, help, labelNames]] of Object.entries(specs))
      declared[key as CounterKey] = registry.counter({ name, help, labelNames, collect: pushCounters });
  };
  declare(COUNTERS);
  if (v4State !== undefined) declare(V4_COUNTERS);
  for (const [key, labels] of v4State === undefined ? INITIAL : [...INITIAL, ...V4_INITIAL])
    declared[key]?.inc(labels, 0);
  counters = declared;

  const gauge = (
    name: string,
    help: string,
    labelNames: readonly string[],
    read: (set: (labels: Labels, value: number) => void) => void,
  ): void => {
    let g: Gauge | undefined;
    const set = (labels: Labels, value: number) => g?.set(labels, value);
    g = registry.gauge({ name, help, labelNames, collect: () => read(set) });
  };
  gauge('discv5_active_sessions', 'Sessions established and not expired.', [], (set) => set({}, source.sessions()));
  gauge('discv5_active_requests', 'Requests sent and not yet answered.', [], (set) => set({}, source.activeRequests()));
  gauge('discv5_known_records', 'Node records kept (table and cache).', [], (set) => set({}, source.knownRecords()));
  gauge('discv5_table_entries', 'Routing table entries, all or live only.', ['state'], (set) => {
    set({ state: 'all' }, source.tableEntries());
    set({ state: 'live' }, source.liveEntries());
  });
  const seen = new Set<number>();
  gauge(
    'discv5_table_bucket_entries',
    'Routing table entries per bucket (log2 distance), all or live only; a bucket once filled stays reported.',
    ['distance', 'state'],
    (set) => {
      const now = new Map<number, { entries: number; live: number }>();
      for (const b of source.buckets()) {
        if (!Number.isInteger(b.distance) || b.distance < 1 || b.distance > 256) continue;
        now.set(b.distance, b);
        if (b.entries > 0 || b.live > 0) seen.add(b.distance);
      }
      for (const distance of seen) {
        const b = now.get(distance);
        set({ distance, state: 'all' }, b?.entries ?? 0);
        set({ distance, state: 'live' }, b?.live ?? 0);
      }
    },
  );
  gauge('discv5_local_enr_seq', 'Sequence number of the local record.', [], (set) =>
    set({}, Number(source.localSeq())),
  );
  gauge('discv5_bans_active', 'Bans in force, on addresses or node ids.', ['kind'], (set) => {
    const b = source.bans();
    set({ kind: 'ip' }, b.ips);
    set({ kind: 'node' }, b.nodeIds);
  });
  gauge(
    'discv5_address_voters',
    'Peers whose PONG vote for our address is counted, by IP family.',
    ['family'],
    (set) => {
      set({ family: 4 }, source.voters(4));
      set({ family: 6 }, source.voters(6));
    },
  );

  if (v4State !== undefined) {
    gauge('discv4_table_entries', 'Discovery v4 routing table entries, all or live only.', ['state'], (set) => {
      const v4 = v4State();
      set({ state: 'all' }, v4.tableEntries);
      set({ state: 'live' }, v4.liveEntries);
    });
    gauge('discv4_bonds', 'Discovery v4 endpoint proofs held (nodes that answered our PING).', [], (set) =>
      set({}, v4State().bonds),
    );
    gauge('discv4_pending_replies', 'Discovery v4 replies awaited.', [], (set) => set({}, v4State().pendingReplies));
  }

  const lookups = registry.histogram({
    name: 'discv5_lookup_duration_seconds',
    help: 'How long lookups took.',
    buckets: LOOKUP_DURATION_BUCKETS,
  });
  return {
    lookupFinished(seconds: number): void {
      if (typeof seconds === 'number' && Number.isFinite(seconds) && seconds >= 0) lookups.observe({}, seconds);
    },
  };
}
