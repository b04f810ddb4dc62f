/**
 * `Discv4`: Discovery v4 beside a node's discv5, on the same socket and key
 * (`Discv5.create({ discv4: true })`, then `node.discv4`). Its own routing table of `V4Node`s on
 * the shared kademlia/ code (the same subnet limits and upkeep: new entries pinged, live ones
 * re-checked, a refresh lookup now and then, re-seeding from the bootnodes while the table is
 * nearly empty), lookups on the shared query/ code, and the request methods an app or a crawler
 * needs. The node's record serves both protocols: its seq goes in every PING and PONG, and
 * ENRREQUEST returns it. Counters are the node's own, named `discv4.*`.
 */
import { randomFillSync } from 'node:crypto';
import type { Crypto } from '../crypto/crypto.js';
import { Enr } from '../enr/enr.js';
import { TableMaintenance } from '../kademlia/maintenance.js';
import { RoutingTable } from '../kademlia/table.js';
import type { TableEntry } from '../kademlia/types.js';
import type { PacketGate } from '../policy/gate.js';
import { admitRecord } from '../policy/intake.js';
import { lookup } from '../query/lookup.js';
import type { Discv5Config } from '../service/config.js';
import type { IpFamily, SocketAddress, Transport } from '../transport/types.js';
import { TypedEmitter } from '../util/emitter.js';
import { Discv5Error, ErrorCode } from '../util/errors.js';
import type { Counters } from '../util/metrics.js';
import { detach } from '../util/safe.js';
import { type Discv4Options, resolveDiscv4Config } from './config.js';
import { NODE_KEY_SIZE } from './constants.js';
import { V4Node } from './node.js';
import { ANSWER_SIZE, Discv4Protocol, type PongResult } from './protocol.js';

export type { PongResult } from './protocol.js';

export interface Discv4Events {
  /** A node entered the v4 table (a bucket place, not a replacement). */
  nodeAdded: (node: V4Node) => void;
}

export interface Discv4Deps {
  crypto: Crypto;
  privateKey: Uint8Array;
  nodeId: Uint8Array;
  transport: Transport;
  counters: Counters;
  gate: PacketGate | undefined;
  config: Readonly<Discv5Config>;
  options: Discv4Options;
  localEnr: () => Enr;
  families: () => ReadonlySet<IpFamily>;
  isRunning: () => boolean;
}

/** A node to contact: a `V4Node`, or an `enode://` URL. */
export type V4Target = V4Node | string;

export class Discv4 extends TypedEmitter<Discv4Events> {
  readonly table: RoutingTable<V4Node>;
  readonly #d: Discv4Deps;
  readonly #p: Discv4Protocol;
  readonly #maintenance: TableMaintenance<V4Node>;
  readonly #bootnodes: V4Node[];
  #bootstrapping = false;

  constructor(d: Discv4Deps) {
    super();
    this.countListenerFailuresIn(d.counters);
    this.#d = d;
    const { config, counters, crypto } = d;
    this.#bootnodes = (d.options.bootnodes ?? []).map((b) => this.#node(b));
    this.table = new RoutingTable<V4Node>(d.nodeId, crypto, {
      accept: (n) => admitRecord(n, { families: d.families() }).ok,
      ipLimits: { perBucket: config.ipLimitPerBucket, perTable: config.ipLimitPerTable },
      incomingPerBucket: config.incomingPerBucket,
    });
    this.#p = new Discv4Protocol({
      crypto,
      privateKey: d.privateKey,
      transport: d.transport,
      counters,
      gate: d.gate,
      config: resolveDiscv4Config(d.options),
      requestTimeoutMs: config.requestTimeoutMs,
      requestsPerNodePerSecond: config.requestsPerNodePerSecond,
      requestsPerNodeBurst: config.requestsPerNodeBurst,
      rateLimitMaxKeys: config.rateLimitMaxKeys,
      localEnr: d.localEnr,
      closest: (target, n) => this.table.closest(target, n, (e) => e.live).map((e) => e.enr),
      admit: (node, sender) => {
        const r = admitRecord(node, { families: d.families(), sender });
        if (!r.ok) counters.inc(`discv4.drop.record-${r.reason}`);
        return r.ok;
      },
      // It answered our PING there (or pinged us while it holds a fresh proof): live at that endpoint.
      seen: (node, enrSeq) => {
        this.#learn(node, { live: true, seen: true });
        // EIP-868: a PING or PONG that names a newer record than ours of the node: fetch it.
        const held = this.table.get(node.nodeId)?.enr;
        if (held !== undefined && enrSeq !== undefined && enrSeq > held.seq && d.isRunning()) {
          this.#maintenance.recordAnnounced(held, enrSeq);
        }
      },
    });
    this.#maintenance = new TableMaintenance<V4Node>({
      table: this.table,
      // Its table's upkeep counts apart from discv5's (discv4.table.*, discv4.maintenance.*).
      counters: { inc: (name, by) => counters.inc(`discv4.${name}`, by) },
      config,
      ping: async (node) => {
        const pong = await this.#p.ping(node, undefined, false);
        return { enrSeq: pong.enrSeq ?? 0n, endpoint: { ip: node.address, port: node.udp } };
      },
      requestEnr: async (node) => node.withRecord(await this.#p.requestEnr(node)),
      refresh: () => this.#randomLookup(),
      reseed: () => this.#reseed(),
      onEvicted: (_removed, promoted) => {
        counters.inc('discv4.table.evicted');
        if (promoted !== undefined) this.emit('nodeAdded', promoted.enr);
      },
      onUpdated: (node) => this.#learn(node),
      random: Math.random,
    });
  }

  /** Our `enode://` URL: the record's IPv4 endpoint (else IPv6, else the bound address) and TCP port. */
  get enode(): string {
    const enr = this.#d.localEnr();
    const e = enr.endpoint4() ?? enr.endpoint6();
    const bound = this.#d.transport.addresses[0];
    const publicKey = this.#d.crypto.decompressPublicKey(enr.publicKey as Uint8Array)?.subarray(1) as Uint8Array;
    const ip = e?.ip ?? (bound?.ip === '0.0.0.0' || bound === undefined ? '127.0.0.1' : bound.ip);
    const udp = e?.port ?? bound?.port ?? 0;
    return V4Node.trusted(this.#d.nodeId, { publicKey, ip, udp, tcp: enr.tcp ?? enr.tcp6 ?? 0 }).enode;
  }

  /** A datagram discv5 could not read: true if it was discv4 (handled or dropped and counted). */
  handle(data: Uint8Array, from: SocketAddress): boolean {
    return this.#p.handle(data, from);
  }

  /** Whether a reply from this IP is awaited (the gate lets it through its per-IP limits). */
  expecting(ip: string): boolean {
    return this.#p.calls.expecting(ip);
  }

  /** Starts the table's upkeep and contacts the bootnodes (the node calls this once running). */
  start(): void {
    this.#maintenance.start();
    this.#reseed();
  }

  stop(): void {
    this.#maintenance.stop();
    this.#p.stop();
  }

  /** Pings a node; resolves with its PONG (seq, our endpoint as it saw it, round trip). */
  async ping(target: V4Target, timeoutMs?: number): Promise<PongResult> {
    this.#running();
    return this.#p.ping(this.#node(target), timeoutMs);
  }

  /**
   * FINDNODE at a node (bonding first): the nodes it knows closest to `target` (a 64-byte public
   * key; default: a random one), up to 16.
   */
  async findNode(target: V4Target, key?: Uint8Array, timeoutMs?: number): Promise<V4Node[]> {
    this.#running();
    return this.#p.findNode(this.#node(target), key === undefined ? randomKey() : checkKey(key), timeoutMs);
  }

  /** ENRREQUEST at a node (bonding first): its current record, checked to be signed by its key. */
  async requestEnr(target: V4Target, timeoutMs?: number): Promise<Enr> {
    this.#running();
    return this.#p.requestEnr(this.#node(target), timeoutMs);
  }

  /**
   * The endpoint proof both ways, unless the node pinged us recently: our PING answered, then a
   * moment for its PING (go-ethereum's ensureBond). Rejects with ERR_REQUEST_TIMEOUT when it is silent.
   */
  async bond(target: V4Target, timeoutMs?: number): Promise<void> {
    this.#running();
    await this.#p.ensureBond(this.#node(target), timeoutMs);
  }

  /**
   * An iterative lookup of `key` (a 64-byte public key; default: a random one): the 16 nodes
   * closest to keccak256(key) that answered, closest first. Nodes it meets may enter the table.
   */
  async lookup(key?: Uint8Array, options: { signal?: AbortSignal } = {}): Promise<V4Node[]> {
    this.#running();
    const targetKey = key === undefined ? randomKey() : checkKey(key);
    const { crypto, config, nodeId } = this.#d;
    const target = crypto.keccak256(targetKey);
    this.#d.counters.inc('discv4.lookup');
    const result = await lookup<V4Node>({
      target,
      localId: nodeId,
      seeds: this.table.closest(target, ANSWER_SIZE).map((e) => e.enr),
      query: (peer) => this.#p.findNode(peer, targetKey),
      crypto,
      alpha: config.lookupParallelism,
      k: ANSWER_SIZE,
      timeoutMs: config.lookupTimeoutMs,
      signal: options.signal,
      onRecord: (n) => this.#learn(n),
      counters: this.#d.counters,
    });
    return result.closest;
  }

  /** Adds a node to the table (a bootnode of the app's): it is pinged before it is served. */
  addNode(target: V4Target): V4Node {
    const node = this.#node(target);
    this.#learn(node);
    return node;
  }

  /**
   * Puts nodes straight into the table as live, without bonding: for testnets built from a known
   * global view (`discv5 testnet --discv4 --prefill`). Each passes the table's limits and is checked
   * later like any entry; the endpoint proof is still asked for before either side answers the
   * other. Returns how many took a bucket place.
   */
  prefillTable(nodes: Iterable<V4Node>): number {
    let placed = 0;
    for (const n of nodes) {
      if (!(n instanceof V4Node)) throw new Discv5Error(ErrorCode.INVALID_ARGUMENT, 'prefillTable takes V4Nodes');
      const r = this.table.insert(n, { live: true });
      if (r.kind === 'added') placed++;
    }
    return placed;
  }

  /** The table's entries, nearest buckets first. */
  entries(): TableEntry<V4Node>[] {
    return this.table.entries();
  }

  /** Current sizes, for `Discv5.metrics()`. */
  state(): Record<string, number> {
    return {
      'state.discv4.tableSize': this.table.size,
      'state.discv4.liveSize': this.table.liveSize,
      'state.discv4.bonds': this.#p.bonds.size,
      'state.discv4.pendingReplies': this.#p.calls.size,
    };
  }

  #learn(node: V4Node, options: { live?: boolean; seen?: boolean } = {}): void {
    const r = this.table.insert(node, options);
    if (r.kind === 'added') {
      this.#d.counters.inc('discv4.table.added');
      this.emit('nodeAdded', r.entry.enr);
    }
  }

  /** The bootnodes back into the table, pinged, and a lookup of our own id through those that answer. */
  #reseed(): void {
    if (!this.#d.isRunning()) return;
    const contact = async () => {
      for (const b of this.#bootnodes) this.#learn(b);
      await Promise.allSettled(this.#bootnodes.map((b) => this.#maintenance.check(b)));
      this.#bootstrap();
    };
    detach(contact(), this.#d.counters, 'discv4.reseed');
  }

  /** A self-lookup, then a random one (one bootstrap at a time). */
  #bootstrap(): void {
    if (this.#bootstrapping || this.table.liveSize === 0) return;
    this.#bootstrapping = true;
    const run = async () => {
      try {
        const pub = this.#d.crypto.decompressPublicKey(this.#d.localEnr().publicKey as Uint8Array);
        await this.lookup(pub?.subarray(1));
        await this.lookup();
      } finally {
        this.#bootstrapping = false;
      }
    };
    detach(run(), this.#d.counters, 'discv4.bootstrap');
  }

  async #randomLookup(): Promise<void> {
    if (this.#d.isRunning()) await this.lookup();
  }

  #running(): void {
    if (!this.#d.isRunning()) throw new Discv5Error(ErrorCode.NOT_STARTED, 'the node is not running');
  }

  #node(target: V4Target): V4Node {
    if (target instanceof V4Node) return target;
    if (typeof target !== 'string') {
      throw new Discv5Error(ErrorCode.INVALID_ARGUMENT, 'a discv4 node is a V4Node or an enode:// URL');
    }
    if (target.startsWith('enr:')) {
      const node = V4Node.fromEnr(this.#d.crypto, Enr.decode(target, this.#d.crypto));
      if (node === undefined) throw new Discv5Error(ErrorCode.NO_ENDPOINT, 'the record names no UDP endpoint');
      return node;
    }
    return V4Node.fromEnode(this.#d.crypto, target);
  }
}

function randomKey(): Uint8Array {
  return randomFillSync(new Uint8Array(NODE_KEY_SIZE));
}

function checkKey(key: Uint8Array): Uint8Array {
  if (!(key instanceof Uint8Array) || key.length !== NODE_KEY_SIZE) {
    throw new Discv5Error(ErrorCode.INVALID_LENGTH, `a discv4 target is a ${NODE_KEY_SIZE}-byte public key`);
  }
  return key;
}
