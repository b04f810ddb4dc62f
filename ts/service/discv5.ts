/**
 * `Discv5`: a discovery node. A facade that wires the parts together: a transport, the session
 * layer, the request manager, the routing table, its maintenance, lookups and the request server.
 * Policy lives in those modules; this class connects them and offers the public API.
 */
import { randomFillSync } from 'node:crypto';
import type { Crypto } from '../crypto/crypto.js';
import type { BackendChoice } from '../crypto/types.js';
import { EnrDecoder } from '../enr/batch.js';
import { Enr } from '../enr/enr.js';
import { randomIdAtDistance } from '../kademlia/distance.js';
import { RoutingTable } from '../kademlia/table.js';
import type { TableEntry } from '../kademlia/types.js';
import { isRequest, MessageType } from '../message/types.js';
import { PacketGate } from '../policy/gate.js';
import { relayable } from '../policy/ip-class.js';
import { AddressVotes } from '../policy/votes.js';
import { type LookupOptions, type LookupResult, lookup } from '../query/lookup.js';
import { RequestManager, type RequestOptions } from '../rpc/requests.js';
import { idKey } from '../session/keys.js';
import { SessionLayer } from '../session/layer.js';
import type { InboundMessage, NodeAddress, NodeContact } from '../session/types.js';
import { socketAddress } from '../transport/address.js';
import type { SocketAddress, Transport } from '../transport/types.js';
import { UdpTransport } from '../transport/udp.js';
import { bytesEqual } from '../util/bytes.js';
import { TypedEmitter } from '../util/emitter.js';
import { Discv5Error, ErrorCode } from '../util/errors.js';
import { LruMap } from '../util/lru.js';
import { Counters } from '../util/metrics.js';
import { type Discv5Config, resolveConfig } from './config.js';
import { TableMaintenance } from './maintenance.js';
import { MAX_TALK_PAYLOAD, RequestServer } from './serve.js';
import type { Discv5Events, Discv5Options, PongResult, TableEntryInfo, TalkHandler } from './types.js';

export interface LookupCallOptions {
  signal?: AbortSignal;
  /** Overrides config.lookupTimeoutMs. */
  timeoutMs?: number;
}

function info(e: TableEntry, table: RoutingTable): TableEntryInfo {
  return {
    nodeId: e.enr.nodeIdHex,
    enr: e.enr,
    live: e.live,
    lastSeen: e.lastSeen,
    distance: table.bucketOf(e.enr.nodeId) + 1 || 0,
  };
}

export class Discv5 extends TypedEmitter<Discv5Events> {
  readonly crypto: Crypto;
  readonly config: Readonly<Discv5Config>;
  readonly nodeId: Uint8Array;
  readonly #privateKey: Uint8Array;
  readonly #transport: Transport;
  readonly #counters = new Counters();
  readonly #decoder: EnrDecoder;
  readonly #known: LruMap<string, Enr>;
  readonly #table: RoutingTable;
  readonly #session: SessionLayer;
  readonly #requests: RequestManager;
  readonly #server: RequestServer;
  readonly #maintenance: TableMaintenance;
  readonly #gate: PacketGate;
  readonly #votes: AddressVotes;
  #localEnr: Enr | undefined;
  #state: 'new' | 'running' | 'stopped' = 'new';

  /** Builds a node (not yet started). Subclasses in each entry point supply the default crypto. */
  static async create<T extends Discv5>(this: { prototype: T }, options: Discv5Options): Promise<T> {
    // `this` is the class create() was called on, so that subclasses build instances of themselves.
    // biome-ignore lint/complexity/noThisInStatic: polymorphic construction is the point here
    const cls = this as unknown as typeof Discv5;
    const crypto = options.crypto ?? cls.defaultCrypto(options.backend);
    // biome-ignore lint/complexity/noThisInStatic: as above
    const Ctor = this as unknown as new (o: Discv5Options, c: Crypto) => T;
    return new Ctor(options, crypto);
  }

  /** The crypto of an entry point: `discv5-native` may load the addon, `discv5-native/js` never does. */
  protected static defaultCrypto(_backend: BackendChoice | undefined): Crypto {
    throw new Discv5Error(
      ErrorCode.INVALID_ARGUMENT,
      'no crypto given: import Discv5 from discv5-native or discv5-native/js',
    );
  }

  protected constructor(options: Discv5Options, crypto: Crypto) {
    super();
    this.crypto = crypto;
    this.config = Object.freeze(resolveConfig(options.config));
    this.#privateKey = Uint8Array.from(options.privateKey);
    this.nodeId = crypto.nodeIdFromPublicKey(crypto.publicKeyFromPrivate(this.#privateKey)) as Uint8Array;
    this.#decoder = new EnrDecoder(crypto, { cacheSize: Math.max(1, this.config.verifiedEnrCacheSize) });
    this.#known = new LruMap(Math.max(1, this.config.enrCacheSize));
    if (options.enr !== undefined) {
      const enr = typeof options.enr === 'string' ? Enr.decode(options.enr, crypto) : options.enr;
      if (!bytesEqual(enr.nodeId, this.nodeId)) {
        throw new Discv5Error(ErrorCode.INVALID_ARGUMENT, 'the record given is not signed by privateKey');
      }
      this.#localEnr = enr;
    }
    this.#transport = options.transport ?? new UdpTransport(bindOf(options));
    this.#transport.onError(() => this.#counters.inc('transport.error'));
    const tableFilter = options.tableFilter ?? (() => true);
    this.#table = new RoutingTable(this.nodeId, crypto, {
      // Only records with a usable endpoint are kept and relayed (spec §9), then the app's own rule.
      accept: (enr) => (enr.endpoint4() !== undefined || enr.endpoint6() !== undefined) && tableFilter(enr),
      ipLimits: { perBucket: this.config.ipLimitPerBucket, perTable: this.config.ipLimitPerTable },
    });
    this.#gate = new PacketGate(this.config, (ip) => this.#requests.expecting(ip));
    this.#votes = new AddressVotes({
      windowMs: this.config.voteWindowMs,
      minVotes: this.config.minVotes,
      maxVoters: 1_000,
    });
    this.#session = new SessionLayer({
      crypto,
      transport: this.#transport,
      privateKey: this.#privateKey,
      nodeId: this.nodeId,
      localEnr: () => this.localEnr,
      findEnr: (id) => this.findEnr(id),
      decoder: this.#decoder,
      counters: this.#counters,
      config: this.config,
      gate: this.#gate,
    });
    this.#requests = new RequestManager({
      session: this.#session,
      crypto,
      decoder: this.#decoder,
      counters: this.#counters,
      config: this.config,
    });
    this.#server = new RequestServer({
      session: this.#session,
      counters: this.#counters,
      localEnr: () => this.localEnr,
      nodesAt: (d, requester) => this.nodesAtDistance(d, requester),
      maxNodes: this.config.maxNodesPerFindNode,
      recordBytes: this.config.nodesMessageRecordBytes,
      isRunning: () => this.isRunning,
      onTalkRequest: (protocol, request, from) => this.emit('talkRequest', protocol, request, from),
    });
    this.#maintenance = new TableMaintenance({
      table: this.#table,
      counters: this.#counters,
      config: this.config,
      ping: async (enr) => (await this.ping(enr)).enrSeq,
      requestEnr: (enr) => this.requestEnr(enr),
      refresh: async (d) => {
        await this.lookup(randomIdAtDistance(this.nodeId, d, (n) => randomFillSync(new Uint8Array(n))));
      },
      onLive: () => {},
      onEvicted: (removed, promoted) => {
        this.#counters.inc('table.evicted');
        if (promoted !== undefined) this.#inserted(promoted, removed);
      },
      onUpdated: (enr) => this.#learn(enr, {}),
      random: Math.random,
    });
    this.#session.on('message', (m) => this.#onMessage(m));
    this.#session.on('expired', (peer) => this.emit('sessionExpired', peer));
    this.#session.on('established', (peer, enr, inbound) => {
      if (enr !== undefined) {
        if (inbound && !this.#matchesSource(enr, peer)) {
          // Answered, but not added: a record naming another address than its packets' source.
          this.#counters.inc('table.address-mismatch');
          this.emit('addressMismatch', enr, peer);
        } else {
          this.#learn(enr, { seen: true });
          // A node that reached us and took a place in a bucket is pinged soon, so that it can become
          // live and be served. Those waiting as replacements are not: a crowd of identities must not
          // make us work for each of them (spec §9: the table is not filled from inbound contact).
          if (inbound && this.#table.get(enr.nodeId) !== undefined) this.#maintenance.inbound(enr);
        }
      }
      this.emit('sessionEstablished', peer, enr, inbound);
    });
  }

  /** The node's own record. */
  get localEnr(): Enr {
    if (this.#localEnr === undefined)
      throw new Discv5Error(ErrorCode.NOT_STARTED, 'the local record is made at start()');
    return this.#localEnr;
  }

  /** The addresses the node listens on. */
  get addresses(): readonly SocketAddress[] {
    return this.#transport.addresses;
  }

  get isRunning(): boolean {
    return this.#state === 'running';
  }

  /** Counters of packets, messages, drops per reason, handshakes and requests, plus current sizes. */
  metrics(): Record<string, number> {
    return {
      ...this.#counters.snapshot(),
      'state.sessions': this.#session.sessionCount,
      'state.activeRequests': this.#requests.activeCount,
      'state.knownEnrs': this.#known.size,
      'state.tableSize': this.#table.size,
      'state.voters4': this.#votes.count(4),
      'state.voters6': this.#votes.count(6),
    };
  }

  async start(): Promise<void> {
    if (this.#state !== 'new')
      throw new Discv5Error(ErrorCode.NOT_STARTED, `cannot start a node that is ${this.#state}`);
    await this.#transport.start();
    this.#state = 'running';
    if (this.#localEnr === undefined) {
      const entries: { ip?: string; udp?: number; ip6?: string; udp6?: number } = {};
      for (const a of this.#transport.addresses) {
        if (a.ip === '0.0.0.0' || a.ip === '::') continue; // unspecified: the real address is learned later
        if (a.family === 4) Object.assign(entries, { ip: a.ip, udp: a.port });
        else Object.assign(entries, { ip6: a.ip, udp6: a.port });
      }
      this.#localEnr = Enr.create(this.#privateKey, entries, this.crypto);
    }
    this.#maintenance.start();
    if (this.#table.size > 0) this.#bootstrap();
  }

  /** Stops: every request under way rejects with ERR_STOPPED; every socket and timer is released. */
  async stop(): Promise<void> {
    if (this.#state === 'stopped') return;
    this.#state = 'stopped';
    this.#maintenance.stop();
    this.#requests.stop();
    await this.#transport.stop();
  }

  /** Adds a record (for example a bootnode's) to the routing table; it becomes live once it answers a PING. */
  addEnr(enr: Enr | string): Enr {
    const record = typeof enr === 'string' ? this.#decoder.decode(enr) : enr;
    const wasEmpty = this.#table.size === 0;
    this.#learn(record, {});
    if (wasEmpty && this.#table.size > 0 && this.isRunning) this.#bootstrap();
    return record;
  }

  /** Takes a node out of the routing table. */
  removeNode(nodeId: Uint8Array | string): boolean {
    const id = typeof nodeId === 'string' ? Uint8Array.from(Buffer.from(nodeId, 'hex')) : nodeId;
    return this.#table.remove(id) !== undefined;
  }

  /** The routing table's entries, with liveness and last-seen, nearest buckets first. */
  table(): TableEntryInfo[] {
    return this.#table.entries().map((e) => info(e, this.#table));
  }

  /** A record this node holds for a node id (table first, then other records seen), if any. */
  findEnr(nodeId: Uint8Array | string): Enr | undefined {
    const id = typeof nodeId === 'string' ? Uint8Array.from(Buffer.from(nodeId, 'hex')) : nodeId;
    return this.#table.get(id)?.enr ?? this.#known.get(idKey(id));
  }

  /**
   * PING: the peer's record seq and how it sees us. A table entry that answers becomes live, and
   * the answer is a vote on our external address.
   */
  async ping(enr: Enr | string, options?: RequestOptions): Promise<PongResult> {
    const contact = this.#contact(enr);
    const pong = await this.#requests.ping(contact, this.localEnr.seq, options);
    this.#table.markLive(contact.nodeId);
    if (this.config.addressVoting) {
      const winner = this.#votes.vote(idKey(contact.nodeId), contact.socket.family, pong.ip, pong.port);
      if (winner !== undefined) this.#setAddress(winner.ip, winner.port, contact.socket.family);
    }
    return { enrSeq: pong.enrSeq, ip: pong.ip, port: pong.port };
  }

  /** Sets our record's address for one family (seq + 1, signed again), as an app that knows it would. */
  setLocalAddress(ip: string, port: number): void {
    this.#setAddress(ip, port, ip.includes(':') ? 6 : 4);
  }

  #setAddress(ip: string, port: number, family: 4 | 6): void {
    const current = family === 4 ? this.localEnr.endpoint4() : this.localEnr.endpoint6();
    if (current?.ip === ip && current.port === port) return;
    this.#localEnr = this.localEnr.update(this.#privateKey, family === 4 ? { ip, udp: port } : { ip6: ip, udp6: port });
    this.#counters.inc('enr.address-updated');
    this.emit('socketUpdated', { ip, port, family }, this.#localEnr);
  }

  /** Bans a node id (durationMs: until lifted); it leaves the table. */
  banNode(nodeId: Uint8Array | string, durationMs?: number): void {
    const id = typeof nodeId === 'string' ? Uint8Array.from(Buffer.from(nodeId, 'hex')) : nodeId;
    this.#gate.bans.banNodeId(idKey(id), durationMs);
    this.#table.remove(id);
  }

  unbanNode(nodeId: Uint8Array | string): void {
    const id = typeof nodeId === 'string' ? Uint8Array.from(Buffer.from(nodeId, 'hex')) : nodeId;
    this.#gate.bans.unbanNodeId(idKey(id));
  }

  /** Bans an IP address (durationMs: until lifted). */
  banIp(ip: string, durationMs?: number): void {
    this.#gate.bans.banIp(ip, durationMs);
  }

  unbanIp(ip: string): void {
    this.#gate.bans.unbanIp(ip);
  }

  /** Permits a node id: never banned, exempt from rate limits. */
  permitNode(nodeId: Uint8Array | string, durationMs?: number): void {
    const id = typeof nodeId === 'string' ? Uint8Array.from(Buffer.from(nodeId, 'hex')) : nodeId;
    this.#gate.bans.permitNodeId(idKey(id), durationMs);
  }

  /** Permits an IP: never banned, exempt from rate limits. */
  permitIp(ip: string, durationMs?: number): void {
    this.#gate.bans.permitIp(ip, durationMs);
  }

  /** FINDNODE: the records a node holds at these log-distances from itself. A raw query: no table side effects. */
  async findNodes(enr: Enr | string, distances: number[], options?: RequestOptions): Promise<Enr[]> {
    if (
      !Array.isArray(distances) ||
      distances.length === 0 ||
      distances.some((d) => !Number.isInteger(d) || d < 0 || d > 256)
    ) {
      throw new Discv5Error(ErrorCode.INVALID_ARGUMENT, 'distances must be integers in 0..256');
    }
    return this.#requests.findNode(this.#contact(enr), distances, options);
  }

  /** The node's current record, asked of the node itself (FINDNODE [0]). */
  async requestEnr(enr: Enr | string, options?: RequestOptions): Promise<Enr> {
    const target = typeof enr === 'string' ? this.#decoder.decode(enr) : enr;
    const [record] = await this.findNodes(target, [0], options);
    if (record === undefined) throw new Discv5Error(ErrorCode.REQUEST_TIMEOUT, 'the node did not send its record');
    return record;
  }

  async talkReq(
    enr: Enr | string,
    protocol: Uint8Array | string,
    payload: Uint8Array,
    options?: RequestOptions,
  ): Promise<Uint8Array> {
    const proto = typeof protocol === 'string' ? new TextEncoder().encode(protocol) : protocol;
    if (proto.length + payload.length > MAX_TALK_PAYLOAD) {
      throw new Discv5Error(
        ErrorCode.INVALID_ARGUMENT,
        `protocol and payload must fit one packet (${MAX_TALK_PAYLOAD} bytes)`,
      );
    }
    return (await this.#requests.talkReq(this.#contact(enr), proto, payload, options)).response;
  }

  /** Answers TALKREQ for `protocol`; unknown protocols get an empty TALKRESP. */
  registerTalkHandler(protocol: Uint8Array | string, handler: TalkHandler): void {
    this.#server.register(protocol, handler);
  }

  unregisterTalkHandler(protocol: Uint8Array | string): void {
    this.#server.unregister(protocol);
  }

  /** An iterative lookup for `target`: the k closest nodes that answered, and how it went. */
  async lookup(target: Uint8Array | string, options: LookupCallOptions = {}): Promise<LookupResult> {
    const t = typeof target === 'string' ? Uint8Array.from(Buffer.from(target, 'hex')) : target;
    if (t.length !== 32) throw new Discv5Error(ErrorCode.INVALID_LENGTH, 'a lookup target is a 32-byte node id');
    if (!this.isRunning) throw new Discv5Error(ErrorCode.NOT_STARTED, 'start the node first');
    this.#table.touchBucket(t);
    this.#counters.inc('lookup.started');
    const result = await lookup(
      this.#lookupOptions(t, options.timeoutMs ?? this.config.lookupTimeoutMs, options.signal),
    );
    this.#counters.inc('lookup.queries', result.queries);
    return result;
  }

  /** The k nodes closest to `target` (a node id) that the network knows, closest first. */
  async findNode(target: Uint8Array | string, options?: LookupCallOptions): Promise<Enr[]> {
    return (await this.lookup(target, options)).closest;
  }

  /** A lookup for a random id: fills the table, and returns what it found closest. */
  async findRandomNode(options?: LookupCallOptions): Promise<Enr[]> {
    return this.findNode(randomFillSync(new Uint8Array(32)), options);
  }

  /**
   * Collects up to `count` records that satisfy `predicate` (for example a fork digest, or having a
   * TCP port), running random lookups until enough are found or the time is up.
   */
  async findNodesMatching(
    predicate: (enr: Enr) => boolean,
    options: LookupCallOptions & { count: number },
  ): Promise<Enr[]> {
    const found = new Map<string, Enr>();
    const consider = (e: Enr) => {
      if (found.size < options.count && predicate(e)) found.set(idKey(e.nodeId), e);
    };
    for (const e of this.#table.entries()) consider(e.enr);
    const deadline = Date.now() + (options.timeoutMs ?? this.config.lookupTimeoutMs);
    while (found.size < options.count && Date.now() < deadline && !options.signal?.aborted) {
      const target = randomFillSync(new Uint8Array(32));
      const result = await lookup({
        ...this.#lookupOptions(target, Math.max(1, deadline - Date.now()), options.signal),
        onRecord: (enr) => {
          this.#learn(enr, {});
          consider(enr);
        },
        done: () => found.size >= options.count,
      });
      if (result.queries === 0) break; // nobody to ask
    }
    return [...found.values()];
  }

  /**
   * Records served for FINDNODE at log-distance `distance`: live table entries whose address may be
   * given to the requester (no loopback or LAN addresses to hosts on the internet).
   */
  protected nodesAtDistance(distance: number, requester?: NodeAddress): Enr[] {
    const live = this.#table.liveAt(distance);
    if (requester === undefined) return live;
    return live.filter((e) => {
      const ip = e.ip ?? e.ip6;
      return ip !== undefined && relayable(ip, requester.socket.ip);
    });
  }

  /** Whether a record's endpoint for the packet's family is where the packet came from. */
  #matchesSource(enr: Enr, peer: NodeAddress): boolean {
    const ep = peer.socket.family === 4 ? enr.endpoint4() : enr.endpoint6();
    return ep === undefined || (ep.ip === peer.socket.ip && ep.port === peer.socket.port);
  }

  /** What every lookup of this node shares: seeds from the table, FINDNODE without retry, records learned. */
  #lookupOptions(target: Uint8Array, timeoutMs: number, signal: AbortSignal | undefined): LookupOptions {
    return {
      target,
      localId: this.nodeId,
      seeds: this.#table.closest(target, this.#table.k).map((e) => e.enr),
      query: (peer, distances, s) => this.#lookupQuery(peer, distances, s),
      crypto: this.crypto,
      alpha: this.config.lookupParallelism,
      k: this.#table.k,
      timeoutMs,
      ...(signal ? { signal } : {}),
      onRecord: (enr) => this.#learn(enr, {}),
    };
  }

  /** A lookup's FINDNODE: no retry (a node that does not answer once is not worth waiting on twice). */
  #lookupQuery(peer: Enr, distances: number[], signal: AbortSignal): Promise<Enr[]> {
    return this.#requests.findNode(this.#contact(peer), distances, { signal, retries: 0 });
  }

  #bootstrap(): void {
    // Find our own neighbourhood first: it fills the buckets others will ask us about.
    void this.lookup(this.nodeId).catch(() => {});
  }

  #learn(enr: Enr, options: { seen?: boolean; live?: boolean }): void {
    const key = idKey(enr.nodeId);
    const known = this.#known.peek(key);
    if (known === undefined || known.seq < enr.seq) {
      this.#known.set(key, enr);
      this.emit('discovered', enr);
    }
    const result = this.#table.insert(enr, options);
    if (result.kind === 'added') this.#inserted(result.entry, undefined);
    else if (result.kind === 'pending') this.#maintenance.bucketFull(result.oldest);
  }

  #inserted(entry: TableEntry, replaced: TableEntry | undefined): void {
    this.emit('enrAdded', entry.enr);
    this.emit(
      'nodeInserted',
      info(entry, this.#table),
      replaced === undefined ? undefined : info(replaced, this.#table),
    );
  }

  #contact(input: Enr | string): NodeContact {
    if (this.#state !== 'running') throw new Discv5Error(ErrorCode.NOT_STARTED, 'start the node first');
    const enr = typeof input === 'string' ? this.#decoder.decode(input) : input;
    const families = new Set(this.#transport.addresses.map((a) => a.family));
    const ep = (families.has(4) ? enr.endpoint4() : undefined) ?? (families.has(6) ? enr.endpoint6() : undefined);
    if (ep === undefined)
      throw new Discv5Error(ErrorCode.NO_ENDPOINT, 'the record has no UDP endpoint this node can reach');
    return { nodeId: enr.nodeId, publicKey: enr.publicKey, socket: socketAddress(ep.ip, ep.port), enr };
  }

  #onMessage(m: InboundMessage): void {
    if (!isRequest(m.message)) {
      this.#requests.handleResponse(m);
      return;
    }
    switch (m.message.type) {
      case MessageType.PING:
        this.#server.ping(m.from, m.message);
        break;
      case MessageType.FINDNODE:
        this.#server.findNode(m.from, m.message);
        break;
      case MessageType.TALKREQ:
        void this.#server.talk(m.from, m.message, m.enr);
        break;
    }
  }
}

function bindOf(options: Discv5Options) {
  const { ip4, ip6 } = options.bind ?? {};
  if (ip4 === undefined && ip6 === undefined) return { ip4: { ip: '0.0.0.0', port: 0 } };
  return { ...(ip4 ? { ip4 } : {}), ...(ip6 ? { ip6 } : {}) };
}
