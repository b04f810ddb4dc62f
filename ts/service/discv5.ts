/**
 * `Discv5`: a discovery node. It wires a transport, the session layer and the request manager
 * together, serves PING, FINDNODE and TALKREQ, and offers requests to other nodes. Policy lives in
 * the layers it wires; this class only connects them.
 */
import type { Crypto } from '../crypto/crypto.js';
import type { BackendChoice } from '../crypto/types.js';
import { EnrDecoder } from '../enr/batch.js';
import { Enr } from '../enr/enr.js';
import { encodeMessage } from '../message/codec.js';
import {
  type FindNodeMessage,
  isRequest,
  MessageType,
  type PingMessage,
  type TalkReqMessage,
} from '../message/types.js';
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
import { packNodes } from './nodes.js';
import type { Discv5Events, Discv5Options, PongResult, TalkHandler } from './types.js';

const latin1 = new TextDecoder('latin1');
/** Plaintext room in one ordinary packet (1280 − 87), less TALKRESP's own framing. */
const MAX_TALK_PAYLOAD = 1_150;

export class Discv5 extends TypedEmitter<Discv5Events> {
  readonly crypto: Crypto;
  readonly config: Readonly<Discv5Config>;
  readonly nodeId: Uint8Array;
  readonly #privateKey: Uint8Array;
  readonly #transport: Transport;
  readonly #counters = new Counters();
  readonly #decoder: EnrDecoder;
  readonly #known: LruMap<string, Enr>;
  readonly #talkHandlers = new Map<string, TalkHandler>();
  readonly #session: SessionLayer;
  readonly #requests: RequestManager;
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
    this.#decoder = new EnrDecoder(crypto, { cacheSize: this.config.verifiedEnrCacheSize });
    this.#known = new LruMap(Math.max(1, this.config.enrCacheSize));
    if (options.enr !== undefined) {
      const enr = typeof options.enr === 'string' ? Enr.decode(options.enr, crypto) : options.enr;
      if (!bytesEqual(enr.nodeId, this.nodeId)) {
        throw new Discv5Error(ErrorCode.INVALID_ARGUMENT, 'the record given is not signed by privateKey');
      }
      this.#localEnr = enr;
    }
    this.#transport =
      options.transport ??
      new UdpTransport({
        ...(options.bind?.ip4 ? { ip4: options.bind.ip4 } : {}),
        ...(options.bind?.ip6 ? { ip6: options.bind.ip6 } : {}),
        ...(options.bind?.ip4 || options.bind?.ip6 ? {} : { ip4: { ip: '0.0.0.0', port: 0 } }),
      });
    this.#transport.onError((err) => {
      this.#counters.inc('transport.error');
      void err;
    });
    this.#session = new SessionLayer({
      crypto,
      transport: this.#transport,
      privateKey: this.#privateKey,
      nodeId: this.nodeId,
      localEnr: () => this.localEnr,
      findEnr: (id) => this.#known.get(idKey(id)),
      decoder: this.#decoder,
      counters: this.#counters,
      config: this.config,
    });
    this.#requests = new RequestManager({
      session: this.#session,
      crypto,
      decoder: this.#decoder,
      counters: this.#counters,
      config: this.config,
    });
    this.#session.on('message', (m) => this.#onMessage(m));
    this.#session.on('established', (peer, enr, inbound) => {
      if (enr !== undefined) this.#learn(enr);
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
  }

  /** Stops: every request under way rejects with ERR_STOPPED, every socket and timer is released. */
  async stop(): Promise<void> {
    if (this.#state === 'stopped') return;
    this.#state = 'stopped';
    this.#requests.stop();
    await this.#transport.stop();
  }

  /** Remembers a record (for example a bootnode's) so sessions with it can be made. */
  addEnr(enr: Enr | string): Enr {
    const record = typeof enr === 'string' ? this.#decoder.decode(enr) : enr;
    this.#learn(record);
    return record;
  }

  /** A record this node holds for a node id, if any. */
  findEnr(nodeId: Uint8Array): Enr | undefined {
    return this.#known.get(idKey(nodeId));
  }

  async ping(enr: Enr | string, options?: RequestOptions): Promise<PongResult> {
    const pong = await this.#requests.ping(this.#contact(enr), this.localEnr.seq, options);
    return { enrSeq: pong.enrSeq, ip: pong.ip, port: pong.port };
  }

  /** FINDNODE: the records a node holds at these log-distances from itself. No table side effects. */
  async findNodes(enr: Enr | string, distances: number[], options?: RequestOptions): Promise<Enr[]> {
    if (
      !Array.isArray(distances) ||
      distances.length === 0 ||
      distances.some((d) => !Number.isInteger(d) || d < 0 || d > 256)
    ) {
      throw new Discv5Error(ErrorCode.INVALID_ARGUMENT, 'distances must be integers in 0..256');
    }
    const records = await this.#requests.findNode(this.#contact(enr), distances, options);
    for (const r of records) this.#learn(r);
    return records;
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
    const resp = await this.#requests.talkReq(this.#contact(enr), proto, payload, options);
    return resp.response;
  }

  /** Answers TALKREQ for `protocol`; unknown protocols get an empty TALKRESP. */
  registerTalkHandler(protocol: Uint8Array | string, handler: TalkHandler): void {
    const key = typeof protocol === 'string' ? protocol : latin1.decode(protocol);
    this.#talkHandlers.set(key, handler);
  }

  unregisterTalkHandler(protocol: Uint8Array | string): void {
    this.#talkHandlers.delete(typeof protocol === 'string' ? protocol : latin1.decode(protocol));
  }

  /** Records at `distance` for FINDNODE answers; the routing table provides them. */
  protected nodesAtDistance(_distance: number): Enr[] {
    return [];
  }

  #learn(enr: Enr): void {
    const key = idKey(enr.nodeId);
    const known = this.#known.peek(key);
    if (known !== undefined && known.seq >= enr.seq) return;
    this.#known.set(key, enr);
    this.emit('discovered', enr);
  }

  #contact(input: Enr | string): NodeContact {
    if (this.#state !== 'running') throw new Discv5Error(ErrorCode.NOT_STARTED, 'start the node first');
    const enr = typeof input === 'string' ? this.#decoder.decode(input) : input;
    const families = new Set(this.#transport.addresses.map((a) => a.family));
    const ep = (families.has(4) ? enr.endpoint4() : undefined) ?? (families.has(6) ? enr.endpoint6() : undefined);
    if (ep === undefined)
      throw new Discv5Error(ErrorCode.NO_ENDPOINT, 'the record has no UDP endpoint this node can reach');
    this.#learn(enr);
    return { nodeId: enr.nodeId, publicKey: enr.publicKey, socket: socketAddress(ep.ip, ep.port), enr };
  }

  #onMessage(m: InboundMessage): void {
    if (!isRequest(m.message)) {
      this.#requests.handleResponse(m);
      return;
    }
    switch (m.message.type) {
      case MessageType.PING:
        this.#onPing(m.from, m.message);
        break;
      case MessageType.FINDNODE:
        this.#onFindNode(m.from, m.message);
        break;
      case MessageType.TALKREQ:
        void this.#onTalkReq(m.from, m.message, m.enr);
        break;
    }
  }

  #respond(to: NodeAddress, message: Parameters<typeof encodeMessage>[0]): void {
    this.#counters.inc(`out.response.${message.type}`);
    this.#session.sendResponse(to, encodeMessage(message));
  }

  #onPing(from: NodeAddress, ping: PingMessage): void {
    this.#respond(from, {
      type: MessageType.PONG,
      requestId: ping.requestId,
      enrSeq: this.localEnr.seq,
      ip: from.socket.ip,
      port: from.socket.port,
    });
  }

  #onFindNode(from: NodeAddress, req: FindNodeMessage): void {
    const records: Uint8Array[] = [];
    const seen = new Set<number>();
    for (const d of req.distances) {
      if (seen.has(d) || records.length >= this.config.maxNodesPerFindNode) continue;
      seen.add(d);
      const found = d === 0 ? [this.localEnr] : this.nodesAtDistance(d);
      for (const r of found) {
        if (records.length >= this.config.maxNodesPerFindNode) break;
        records.push(r.encoded);
      }
    }
    for (const message of packNodes(req.requestId, records, this.config.nodesMessageRecordBytes))
      this.#respond(from, message);
  }

  async #onTalkReq(from: NodeAddress, req: TalkReqMessage, enr: Enr | undefined): Promise<void> {
    this.emit('talkRequest', req.protocol, req.request, from);
    const handler = this.#talkHandlers.get(latin1.decode(req.protocol));
    let response: Uint8Array = new Uint8Array(0);
    if (handler !== undefined) {
      try {
        response = await handler(req.request, from, enr);
      } catch {
        this.#counters.inc('talk.handler-error');
      }
      if (!(response instanceof Uint8Array) || response.length > MAX_TALK_PAYLOAD) {
        this.#counters.inc('talk.response-too-large');
        response = new Uint8Array(0);
      }
    }
    if (this.#state === 'running')
      this.#respond(from, { type: MessageType.TALKRESP, requestId: req.requestId, response });
  }
}
