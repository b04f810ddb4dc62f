/**
 * `Discv5`: a discovery node. A facade that wires the parts together and offers the public API:
 * the transport, the session layer, the request manager, the peers (record intake and the routing
 * table), its maintenance, lookups, the request server and the local record. Policy lives in
 * those modules; this class connects them. User code (listeners, filters, predicates, handlers)
 * runs behind one safe boundary (util/safe.ts): nothing it throws reaches the protocol.
 */
import { randomFillSync } from 'node:crypto';
import type { Crypto } from '../crypto/crypto.js';
import type { BackendChoice } from '../crypto/types.js';
import { Discv4 } from '../discv4/discv4.js';
import { EnrDecoder } from '../enr/batch.js';
import type { EnrEntries } from '../enr/create.js';
import type { Enr } from '../enr/enr.js';
import type { LookupResult } from '../query/lookup.js';
import type { RequestOptions } from '../rpc/requests.js';
import type { NodeAddress, NodeContact } from '../session/types.js';
import type { IpFamily, SocketAddress, Transport } from '../transport/types.js';
import { UdpTransport } from '../transport/udp.js';
import { bytesKey } from '../util/bytes.js';
import { TypedEmitter } from '../util/emitter.js';
import { Discv5Error, ErrorCode } from '../util/errors.js';
import { Counters } from '../util/metrics.js';
import { safePredicate } from '../util/safe.js';
import { type Discv5Config, resolveConfig } from './config.js';
import { LocalNode } from './local-node.js';
import type { LookupCallOptions } from './lookups.js';
import { Membership } from './membership.js';
import { observe } from './observed.js';
import { NodePersistence, type Opened, openNodeStore } from './persistence.js';
import { talkProtocolBytes } from './serve.js';
import type { Discv5Events, Discv5Options, PongResult, TableEntryInfo, TalkHandler } from './types.js';
import { bindOf, nodeIdOf, type Wiring, wire } from './wiring.js';

export type { LookupCallOptions } from './lookups.js';

export class Discv5 extends TypedEmitter<Discv5Events> {
  readonly crypto: Crypto;
  readonly config: Readonly<Discv5Config>;
  readonly nodeId: Uint8Array;
  readonly #transport: Transport;
  readonly #counters = new Counters();
  readonly #decoder: EnrDecoder;
  readonly #local: LocalNode;
  readonly #w: Wiring;
  readonly #m: Membership;
  readonly #persistence: NodePersistence | undefined;
  readonly #v4: Discv4 | undefined;
  #lookupFinished: ((seconds: number) => void) | undefined;
  #families: ReadonlySet<IpFamily> | undefined;
  #state: 'new' | 'starting' | 'running' | 'stopped' = 'new';

  /** Builds a node (not yet started). Subclasses in each entry point supply the default crypto. */
  static async create<T extends Discv5>(this: { prototype: T }, options: Discv5Options): Promise<T> {
    // `this` is the class create() was called on, so that subclasses build instances of themselves.
    // biome-ignore lint/complexity/noThisInStatic: polymorphic construction is the point here
    const cls = this as unknown as typeof Discv5;
    const crypto = options.crypto ?? cls.defaultCrypto(options.backend);
    const opened = openNodeStore(options, crypto);
    // biome-ignore lint/complexity/noThisInStatic: as above
    const Ctor = this as unknown as new (o: Discv5Options, c: Crypto, s?: Opened) => T;
    try {
      return new Ctor(options, crypto, opened);
    } catch (err) {
      opened?.store.close();
      throw err;
    }
  }

  /** The crypto of an entry point: `discv5-native` may load the addon, `discv5-native/js` never does. */
  protected static defaultCrypto(_backend: BackendChoice | undefined): Crypto {
    throw new Discv5Error(
      ErrorCode.INVALID_ARGUMENT,
      'no crypto given: import Discv5 from discv5-native or discv5-native/js',
    );
  }

  protected constructor(options: Discv5Options, crypto: Crypto, opened?: Opened) {
    super();
    this.countListenerFailuresIn(this.#counters);
    this.crypto = crypto;
    this.config = Object.freeze(resolveConfig(options.config));
    const privateKey = Uint8Array.from((opened?.privateKey ?? options.privateKey) as Uint8Array);
    this.nodeId = crypto.nodeIdFromPublicKey(crypto.publicKeyFromPrivate(privateKey)) as Uint8Array;
    this.#decoder = new EnrDecoder(crypto, { cacheSize: Math.max(1, this.config.verifiedEnrCacheSize) });
    this.#local = new LocalNode({
      privateKey,
      crypto,
      counters: this.#counters,
      enr: options.enr,
      votes: { windowMs: this.config.voteWindowMs, minVotes: this.config.minVotes },
      seqFloor: opened?.seqFloor,
      onChanged: (record, address) => {
        this.#persistence?.saveSeq(record.seq);
        if (address !== undefined) this.emit('socketUpdated', address, record);
        this.emit('localEnrUpdated', record);
      },
    });
    this.#transport = options.transport ?? new UdpTransport(bindOf(options));
    this.#transport.onError(() => this.#counters.inc('transport.error'));
    this.#w = wire({
      crypto,
      config: this.config,
      privateKey,
      nodeId: this.nodeId,
      transport: this.#transport,
      counters: this.#counters,
      decoder: this.#decoder,
      knownIp: (ip) =>
        this.#m.table.hasIp(ip) || this.#v4?.table.hasIp(ip) === true || this.#v4?.expecting(ip) === true,
      localEnr: () => this.localEnr,
      findEnr: (id) => this.#m.peers.find(id),
      admit: (r, sender) => this.#m.peers.admit(r, sender),
      isRunning: () => this.isRunning,
      nodesAt: (d, requester) => this.nodesAtDistance(d, requester),
      onTalkRequest: (protocol, request, from) => this.emit('talkRequest', protocol, request, from),
      onPing: (from, seq) => this.#m.announced(from.nodeId, seq),
    });
    this.#m = new Membership({
      nodeId: this.nodeId,
      crypto,
      config: this.config,
      counters: this.#counters,
      decoder: this.#decoder,
      session: this.#w.session,
      requests: this.#w.requests,
      tableFilter: safePredicate(this.#counters, 'tableFilter', options.tableFilter ?? (() => true)),
      families: () => this.#bound(),
      isRunning: () => this.isRunning,
      contact: (r) => this.#contact(r),
      ping: (contact) => this.#ping(contact),
      emit: (event, ...args) => this.emit(event, ...args),
      lookupFinished: (seconds) => this.#lookupFinished?.(seconds),
    });
    for (const b of options.bootnodes ?? []) this.#m.peers.addSeed(typeof b === 'string' ? this.#decoder.decode(b) : b);
    if (options.discv4 !== undefined && options.discv4 !== false) {
      this.#v4 = new Discv4({
        crypto,
        privateKey,
        nodeId: this.nodeId,
        transport: this.#transport,
        counters: this.#counters,
        gate: this.#w.gate,
        config: this.config,
        options: options.discv4 === true ? {} : options.discv4,
        localEnr: () => this.localEnr,
        families: () => this.#bound(),
        isRunning: () => this.isRunning,
      });
      const v4 = this.#v4;
      this.#w.session.shareSocket((data, from) => v4.handle(data, from));
    }
    this.#w.session.on('message', (m) => this.#w.dispatch(m));
    this.#w.session.on('expired', (peer) => this.emit('sessionExpired', peer));
    const { table, peers } = this.#m;
    const counters = this.#counters;
    if (options.metrics !== undefined) {
      const { session, requests, gate } = this.#w;
      const parts = {
        counters,
        session,
        requests,
        peers,
        table,
        bans: gate.bans,
        local: this.#local,
        discv4: this.#v4,
      };
      this.#lookupFinished = observe(options.metrics, parts);
    }
    const { config } = this;
    this.#persistence =
      opened && new NodePersistence({ opened, table, peers, decoder: this.#decoder, counters, config });
  }

  /** The node's own record. */
  get localEnr(): Enr {
    return this.#local.record;
  }

  /** Discovery v4 on the same socket, when the node was created with `discv4`. */
  get discv4(): Discv4 | undefined {
    return this.#v4;
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
      'state.sessions': this.#w.session.sessionCount,
      'state.activeRequests': this.#w.requests.activeCount,
      'state.knownEnrs': this.#m.peers.knownCount,
      'state.tableSize': this.#m.table.size,
      'state.voters4': this.#local.voters(4),
      'state.voters6': this.#local.voters(6),
      ...this.#v4?.state(),
    };
  }

  /**
   * Binds, makes the local record (seq: the time in ms, or one above the stored seq, unless a record
   * was given), brings a data dir's table back, and contacts the bootnodes and remembered peers.
   */
  async start(): Promise<void> {
    if (this.#state === 'stopped') throw new Discv5Error(ErrorCode.STOPPED, 'a stopped node cannot start again');
    if (this.#state !== 'new') throw new Discv5Error(ErrorCode.INVALID_ARGUMENT, `the node is already ${this.#state}`);
    this.#state = 'starting';
    try {
      await this.#transport.start();
      if (this.#state !== 'starting') throw new Discv5Error(ErrorCode.STOPPED, 'stopped while starting');
      this.#local.init(this.#transport.addresses);
    } catch (err) {
      if (this.#state === 'starting') this.#state = 'stopped';
      this.#persistence?.close();
      await this.#transport.stop().catch(() => {});
      throw err;
    }
    this.#state = 'running';
    this.#persistence?.begin(this.localEnr.seq, (report) => this.emit('storeReport', report));
    this.#m.maintenance.start();
    // Bootnodes and remembered peers enter the table and are pinged now rather than at the first
    // check, so that a restarted node serves (and counts as live) the peers it had within a round trip.
    this.#m.reseed();
    if (this.#m.table.size > 0) this.#m.bootstrap();
    this.#v4?.start();
  }

  /** Stops: every request under way rejects with ERR_STOPPED; every socket and timer is released. */
  async stop(): Promise<void> {
    if (this.#state === 'stopped') return;
    this.#state = 'stopped';
    this.#m.maintenance.stop();
    this.#v4?.stop();
    this.#w.requests.stop();
    this.#persistence?.close();
    await this.#transport.stop();
  }

  /**
   * Adds a record (for example a bootnode's) to the routing table; it becomes live once it answers a
   * PING. A record this node cannot reach (no endpoint in a family it binds) is counted and dropped.
   */
  addEnr(enr: Enr | string): Enr {
    const record = typeof enr === 'string' ? this.#decoder.decode(enr) : enr;
    const wasEmpty = this.#m.table.size === 0;
    this.#m.peers.addSeed(record);
    this.#m.peers.learn(record);
    if (wasEmpty && this.#m.table.size > 0 && this.isRunning) this.#m.bootstrap();
    return record;
  }

  /**
   * Puts records straight into the routing table as live, without pinging them: for testnets and
   * simulations built from a known global view (`discv5 testnet --prefill`). Each still passes the
   * reachability check and the table's limits, and is checked later like any entry. Returns how
   * many took a bucket place.
   */
  prefillTable(records: Iterable<Enr>): number {
    let placed = 0;
    for (const r of records) if (this.#m.peers.prefill(r)) placed++;
    return placed;
  }

  /**
   * Sets (or with `null` removes) entries of the local record while running: validated as at
   * creation, signed once with seq + 1; peers learn of it through the enr-seq of our next PING/PONG.
   */
  updateLocalEnr(entries: EnrEntries): Enr {
    return this.#local.update(entries);
  }

  /** Takes a node out of the routing table. */
  removeNode(nodeId: Uint8Array | string): boolean {
    return this.#m.table.remove(nodeIdOf(nodeId)) !== undefined;
  }

  /** The routing table's entries, with liveness and last-seen, nearest buckets first. */
  table(): TableEntryInfo[] {
    return this.#m.table.entries().map((e) => this.#m.info(e));
  }

  /** A record this node holds for a node id (table first, then other records seen), if any. */
  findEnr(nodeId: Uint8Array | string): Enr | undefined {
    return this.#m.peers.find(nodeIdOf(nodeId));
  }

  /**
   * PING: the peer's record seq and how it sees us. A table entry that answers at the endpoint its
   * record names becomes live; the answer is a vote on our external address; a newer record
   * announced is fetched.
   */
  async ping(enr: Enr | string, options?: RequestOptions): Promise<PongResult> {
    const contact = this.#contact(enr);
    const pong = await this.#ping(contact, options);
    this.#m.table.markLive(contact.nodeId, contact.socket);
    return pong;
  }

  /** A PING whose answer votes on our address and may announce a newer record; the table is the caller's. */
  async #ping(contact: NodeContact, options?: RequestOptions): Promise<PongResult> {
    const pong = await this.#w.requests.ping(contact, this.localEnr.seq, options);
    if (this.config.addressVoting) {
      this.#local.vote({ nodeId: contact.nodeId, ip: contact.socket.ip }, contact.socket.family, pong.ip, pong.port);
    }
    this.#m.announced(contact.nodeId, pong.enrSeq);
    return { enrSeq: pong.enrSeq, ip: pong.ip, port: pong.port };
  }

  /** Sets our record's address for one family (seq + 1, signed again), as an app that knows it would. */
  setLocalAddress(ip: string, port: number): void {
    this.#local.setAddress(ip, port, ip.includes(':') ? 6 : 4);
  }

  /** Bans a node id (durationMs: until lifted); it leaves the table. */
  banNode(nodeId: Uint8Array | string, durationMs?: number): void {
    const id = nodeIdOf(nodeId);
    this.#counters.inc('ban.manual');
    this.#w.gate.bans.banNodeId(bytesKey(id), durationMs);
    this.#m.table.remove(id);
    this.#v4?.table.remove(id); // the same key in both protocols: the ban holds for both
  }

  unbanNode(nodeId: Uint8Array | string): void {
    this.#w.gate.bans.unbanNodeId(bytesKey(nodeIdOf(nodeId)));
  }

  /** Bans an IP address, IPv6 by its /64 (durationMs: until lifted). */
  banIp(ip: string, durationMs?: number): void {
    this.#counters.inc('ban.manual');
    this.#w.gate.bans.banIp(ip, durationMs);
  }

  unbanIp(ip: string): void {
    this.#w.gate.bans.unbanIp(ip);
  }

  /** Permits a node id: never banned, exempt from rate limits. */
  permitNode(nodeId: Uint8Array | string, durationMs?: number): void {
    this.#w.gate.bans.permitNodeId(bytesKey(nodeIdOf(nodeId)), durationMs);
  }

  /** Permits an IP: never banned, exempt from rate limits. */
  permitIp(ip: string, durationMs?: number): void {
    this.#w.gate.bans.permitIp(ip, durationMs);
  }

  /** FINDNODE: the records a node holds at these log-distances from itself (checked by the intake rules). */
  async findNodes(enr: Enr | string, distances: number[], options?: RequestOptions): Promise<Enr[]> {
    if (
      !Array.isArray(distances) ||
      distances.length === 0 ||
      distances.some((d) => !Number.isInteger(d) || d < 0 || d > 256)
    ) {
      throw new Discv5Error(ErrorCode.INVALID_ARGUMENT, 'distances must be integers in 0..256');
    }
    return this.#w.requests.findNode(this.#contact(enr), distances, options);
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
    const proto = talkProtocolBytes(protocol, payload);
    return (await this.#w.requests.talkReq(this.#contact(enr), proto, payload, options)).response;
  }

  /** Answers TALKREQ for `protocol`; unknown protocols get an empty TALKRESP. */
  registerTalkHandler(protocol: Uint8Array | string, handler: TalkHandler): void {
    this.#w.server.register(protocol, handler);
  }

  unregisterTalkHandler(protocol: Uint8Array | string): void {
    this.#w.server.unregister(protocol);
  }

  /** An iterative lookup for `target`: the k closest nodes that answered, and how it went. */
  async lookup(target: Uint8Array | string, options: LookupCallOptions = {}): Promise<LookupResult> {
    return this.#m.lookups.lookup(nodeIdOf(target), options);
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
   * TCP port), running random lookups until enough are found or the time is up. A predicate that
   * throws reads as "no match" (counted as `callback.error.predicate`).
   */
  async findNodesMatching(
    predicate: (enr: Enr) => boolean,
    options: LookupCallOptions & { count: number },
  ): Promise<Enr[]> {
    return this.#m.lookups.findMatching(predicate, options);
  }

  /** Records served for FINDNODE at log-distance `distance` (live entries the requester may be given). */
  protected nodesAtDistance(distance: number, requester?: NodeAddress): Enr[] {
    return this.#m.peers.servedAt(distance, requester);
  }

  /** The families we bind: from the transport once it has addresses, else from the bind options. */
  #bound(): ReadonlySet<IpFamily> {
    if (this.#families !== undefined) return this.#families;
    const families = new Set(this.#transport.addresses.map((a) => a.family));
    if (this.isRunning) this.#families = families;
    return families.size > 0 ? families : new Set<IpFamily>([4, 6]);
  }

  #contact(input: Enr | string): NodeContact {
    if (this.#state !== 'running') {
      const code = this.#state === 'stopped' ? ErrorCode.STOPPED : ErrorCode.NOT_STARTED;
      throw new Discv5Error(code, this.#state === 'stopped' ? 'the node is stopped' : 'start the node first');
    }
    return this.#m.peers.contact(input);
  }
}
