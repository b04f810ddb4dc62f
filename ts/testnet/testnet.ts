/**
 * A local network of real nodes (handshakes, sessions, serving, maintenance) in one process, on UDP
 * loopback or an in-memory network. Prefilled, every node's table starts as a converged network's
 * would (prefill.ts), so the network is ready at once; otherwise the nodes join through the
 * bootnode as real nodes do (bootstrap.ts). A fault profile (plan.ts, faults.ts) makes it look
 * like the internet: dead records, round trips, loss, NAT, per-requester rate limits and records of
 * other networks. The ground truth (truth.ts) says what a crawl should find. With `discv4`, every
 * node serves Discovery v4 too, on the same socket (so behind the same faults), its v4 table
 * prefilled or bootstrapped as its v5 one (discv4.ts).
 */
import type { Crypto } from '../crypto/crypto.js';
import type { V4Node } from '../discv4/node.js';
import { Enr } from '../enr/enr.js';
import { createCrypto, Discv5, type Discv5Config } from '../index.js';
import { MemoryNetwork } from '../transport/memory.js';
import type { Transport } from '../transport/types.js';
import { UdpTransport } from '../transport/udp.js';
import { bootstrapMembers } from './bootstrap.js';
import { prefillV4, TESTNET_DISCV4, v4NodeOf } from './discv4.js';
import { type FaultyTransport, faultyLink } from './faults.js';
import {
  CLEAN_PROFILE,
  type FaultProfile,
  type MemberPlan,
  networkEntries,
  planMembers,
  seededRandom,
} from './plan.js';
import { prefillBuckets } from './prefill.js';

export interface TestnetOptions {
  /** Members, the bootnode included (dead ones too). */
  nodes: number;
  transport?: 'udp' | 'memory';
  /** UDP: member i binds 127.0.0.1:basePort+i (default: ephemeral ports). */
  basePort?: number;
  /** Fill every table from the global view instead of bootstrapping. */
  prefill?: boolean;
  /** Every node serves Discovery v4 too (same socket and key), its v4 table filled as its v5 one. */
  discv4?: boolean;
  profile?: FaultProfile;
  /** Keys, fault assignment, loss and jitter draws all follow from it (default 1). */
  seed?: number;
  /** Adds to (or overrides) the nodes' settings. */
  config?: Partial<Discv5Config>;
  crypto?: Crypto;
  /** Progress lines. */
  log?: (text: string) => void;
}

export interface TestnetMember {
  plan: MemberPlan;
  /** Its record (a dead member's names an address where nothing listens). */
  enr: Enr;
  /** The running node; undefined for a dead member. */
  node: Discv5 | undefined;
  link: FaultyTransport | undefined;
  /** Its `enode://` URL, in a testnet that serves discv4 (a dead member's names its dead address). */
  enode?: string;
}

/**
 * Where dead members' records point: a loopback address no testnet node binds (a sharded testnet
 * binds 127.0.0.1 up to 127.0.0.201; at 127.0.0.2 its members from 20,000 on listened on the very
 * ports dead records named).
 */
export const DEAD_IP = '127.0.255.254';

/** A dead member's address: DEAD_IP, a port of its own. */
export function deadAddress(index: number): { ip: string; port: number } {
  return { ip: DEAD_IP, port: 1025 + (index % 64_000) };
}

/** A member's UDP socket (buffers of 1 MiB: a testnet's nodes burst together). */
export function memberSocket(ip: string, port: number): Transport {
  return new UdpTransport({ ip4: { ip, port }, receiveBufferSize: 1 << 20, sendBufferSize: 1 << 20 });
}

/** A member's settings: the testnet's (prefilled or not), the profile's rate limit, then the caller's. */
export function memberConfig(
  prefill: boolean,
  nodes: number,
  profile: FaultProfile,
  override: Partial<Discv5Config> = {},
): Partial<Discv5Config> {
  return {
    ...(prefill ? prefilledConfig(nodes) : TESTNET_CONFIG),
    ...(profile.rateLimit > 0 ? { requestsPerNodePerSecond: profile.rateLimit } : {}),
    ...override,
  };
}

/**
 * Testnet nodes share one event loop, which falls behind when thousands of them work at once, so
 * their time limits are 10 s (the protocol is unchanged: on the internet each node has its own
 * loop). Nearly every first contact in a fresh testnet is inbound, so the internet's cap on such
 * entries (8 of 16 per bucket) is lifted: it only slowed the join (500 nodes bootstrapping took
 * 25-45 s with it, 23-28 s without, measured here).
 */
export const TESTNET_CONFIG: Partial<Discv5Config> = {
  inboundPingDelayMs: 100,
  revalidateNewIntervalMs: 250,
  revalidateNewBatch: 8,
  requestTimeoutMs: 10_000,
  handshakeTimeoutMs: 10_000,
  challengeTtlMs: 10_000,
  nonceTtlMs: 10_000,
  incomingPerBucket: 16,
};

/**
 * A prefilled network is converged from the start: its nodes refresh buckets and re-check live
 * entries at a calm pace, so that the network idles cheaply. A node checks new entries every second
 * (the protocol's default), re-checks one live entry a minute and refreshes a bucket every 10
 * minutes; in networks of thousands, whose nodes all share one or a few processes, those intervals
 * grow with the size so that the whole network sends about 50 checks and 8 refresh lookups a second
 * (a check of a peer with no session yet is a handshake: at one a minute, 10,000 nodes kept 30% of a
 * core busy, and 50,000 in four processes saturated both cores, measured here).
 */
export function prefilledConfig(nodes: number): Partial<Discv5Config> {
  return {
    ...TESTNET_CONFIG,
    revalidateNewIntervalMs: 1_000,
    revalidateNewBatch: 4,
    revalidateLiveIntervalMs: Math.max(60_000, nodes * 20),
    refreshIntervalMs: Math.max(600_000, nodes * 120),
    // A node talks to its table (about 110 entries at 1,000 nodes, 165 at 10,000) and to crawlers:
    // 256 sessions hold that. Fewer do harm: with 16, once every node's cache was full, a lookup's
    // sessions pushed out ones still in use, each new handshake pushed out another, and a 1,000-node
    // network made 24,000 handshakes in two minutes. Each crawl leaves every node a session (and
    // the crawler's record, about 3.5 KB a node), so a 10,000-node network crawled many times in a
    // row grows until its caches are full.
    sessionCacheCapacity: 256,
  };
}

export class Testnet {
  readonly members: TestnetMember[];
  readonly network: MemoryNetwork | undefined;
  readonly profile: FaultProfile;
  readonly seed: number;
  /** How long it took from the first node made to ready, in ms. */
  readyMs = 0;

  constructor(members: TestnetMember[], network: MemoryNetwork | undefined, profile: FaultProfile, seed: number) {
    this.members = members;
    this.network = network;
    this.profile = profile;
    this.seed = seed;
  }

  /** The running nodes (dead members have none). */
  get nodes(): Discv5[] {
    return this.members.flatMap((m) => (m.node === undefined ? [] : [m.node]));
  }

  get boot(): Discv5 {
    return this.members[0]?.node as Discv5;
  }

  get bootEnr(): Enr {
    return this.boot.localEnr;
  }

  /** The bootnode's `enode://` URL, when the testnet serves discv4. */
  get bootEnode(): string | undefined {
    return this.members[0]?.enode;
  }

  /**
   * Ids (hex) of the records that members answering anyone serve right now (their live entries),
   * without `exclude` (the crawlers, which enter the tables they visit): what a crawl must find.
   * `discv4`: what their v4 tables serve.
   */
  served(exclude: Iterable<string> = [], protocol: 'discv5' | 'discv4' = 'discv5'): Set<string> {
    const out = new Set<string>([this.boot.localEnr.nodeIdHex]);
    for (const m of this.members) {
      if (m.node === undefined || m.plan.nat) continue;
      if (protocol === 'discv4') {
        for (const e of m.node.discv4?.entries() ?? []) if (e.live) out.add(e.enr.nodeIdHex);
      } else for (const e of m.node.table()) if (e.live) out.add(e.nodeId);
    }
    for (const id of exclude) out.delete(id);
    return out;
  }

  async stop(): Promise<void> {
    await Promise.all(this.nodes.map((n) => n.stop()));
    this.network?.close();
  }
}

function checkOptions(o: TestnetOptions): void {
  if (!Number.isInteger(o.nodes) || o.nodes < 2) throw new RangeError('a testnet has at least 2 nodes');
  const base = o.basePort ?? 0;
  if (!Number.isInteger(base) || base < 0 || (base > 0 && base + o.nodes > 65535))
    throw new RangeError('basePort out of range');
}

/** Makes, fills (or bootstraps) and starts a testnet. */
export async function startTestnet(options: TestnetOptions): Promise<Testnet> {
  checkOptions(options);
  const started = performance.now();
  const crypto = options.crypto ?? createCrypto();
  const profile = options.profile ?? CLEAN_PROFILE;
  const seed = options.seed ?? 1;
  const log = options.log ?? (() => {});
  const prefill = options.prefill ?? false;
  const network = options.transport === 'memory' ? new MemoryNetwork({ seed }) : undefined;
  const plans = planMembers(crypto, options.nodes, profile, seed);
  const random = seededRandom(seed ^ 0x5eed);
  const config = memberConfig(prefill, options.nodes, profile, options.config);
  const discv4 = options.discv4 === true;
  const members: TestnetMember[] = [];
  for (const plan of plans) {
    const entries = networkEntries(plan.network, plan.index);
    if (plan.dead) {
      const at = deadAddress(plan.index);
      const tcp = discv4 ? { tcp: at.port } : {};
      const enr = Enr.create(plan.privateKey, { ip: at.ip, udp: at.port, ...tcp, ...entries }, crypto);
      members.push({ plan, enr, node: undefined, link: undefined });
      continue;
    }
    const port = options.basePort ? options.basePort + plan.index : 0;
    const socket: Transport = network ? network.transport('127.0.0.1') : memberSocket('127.0.0.1', port);
    // Both protocols go through the link: its faults act on discv4 as on discv5.
    const link = faultyLink(socket, plan, profile, random);
    const node = await Discv5.create({
      privateKey: plan.privateKey,
      crypto,
      transport: link ?? socket,
      config,
      ...(discv4 ? { discv4: { ...TESTNET_DISCV4 } } : {}),
    });
    await node.start();
    // The record gets its network's entries once the bound port is known: one more signature. With
    // discv4, a TCP port too (the UDP one, as execution clients' records have), so that the enode
    // URL the node gives of itself is the one its peers serve.
    const enr = node.updateLocalEnr(discv4 ? { ...entries, tcp: node.localEnr.udp ?? null } : entries);
    members.push({ plan, enr, node, link });
  }
  // One V4Node per member, shared by every v4 table that holds it.
  const v4 = discv4 ? members.map((m) => v4NodeOf(crypto, m.enr)) : [];
  v4.forEach((n, i) => {
    (members[i] as TestnetMember).enode = n.enode;
  });
  const testnet = new Testnet(members, network, profile, seed);
  if (prefill) {
    const buckets = prefillBuckets(members.map((m) => m.enr.nodeId));
    let entries = 0;
    let v4Entries = 0;
    members.forEach((m, i) => {
      if (m.node === undefined) return;
      const indices = buckets[i] as number[];
      entries += m.node.prefillTable(indices.map((j) => members[j]?.enr as Enr));
      if (discv4) v4Entries += prefillV4(m.node, indices, (j) => v4[j] as V4Node);
    });
    log(
      `${options.nodes} nodes prefilled (${entries} table entries${discv4 ? `, ${v4Entries} discv4 table entries` : ''})`,
    );
  } else {
    await bootstrapMembers(testnet.nodes, log, { discv4 });
  }
  testnet.readyMs = performance.now() - started;
  return testnet;
}
