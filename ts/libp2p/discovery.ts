/**
 * `Discv5PeerDiscovery`: js-libp2p's peer discovery over discv5. A libp2p service that runs a
 * discv5 node with libp2p's own secp256k1 key (one identity: the record's node id and the peer id
 * name the same key), publishes libp2p's listen addresses in the node's record, and reports the
 * records it learns as libp2p peers. App listeners of its events run behind the library's safe
 * boundary (util/safe.ts): one that throws is counted, and discovery goes on.
 */
import { publicKeyFromRaw } from '@libp2p/crypto/keys';
import {
  type ComponentLogger,
  type Libp2pEvents,
  type Logger,
  type Metrics,
  type PeerDiscovery,
  type PeerDiscoveryEvents,
  type PeerId,
  type PrivateKey,
  peerDiscoverySymbol,
  type Startable,
  serviceCapabilities,
  type TypedEventTarget,
} from '@libp2p/interface';
import { peerIdFromPublicKey } from '@libp2p/peer-id';
import type { Multiaddr } from '@multiformats/multiaddr';
import type { EnrEntries } from '../enr/create.js';
import type { Enr } from '../enr/enr.js';
import { Discv5 as DefaultDiscv5 } from '../index.js';
import type { Discv5Config } from '../service/config.js';
import type { Discv5 } from '../service/discv5.js';
import { bytesEqual } from '../util/bytes.js';
import { Discv5Error, ErrorCode } from '../util/errors.js';
import { LruMap } from '../util/lru.js';
import { Counters } from '../util/metrics.js';
import { safePredicate } from '../util/safe.js';
import { type Announce, listenEntries, recordChanges, recordMultiaddrs } from './addresses.js';
import { SafeEventEmitter } from './safe-events.js';
import { searchLoop } from './search.js';

export interface Discv5PeerDiscoveryInit {
  /** Records (or `enr:` text) to join the network through. */
  bootnodes?: readonly (Enr | string)[];
  /** discv5's UDP sockets; default { ip4: { ip: '0.0.0.0', port: 0 } }. */
  bind?: { ip4?: { ip: string; port: number }; ip6?: { ip: string; port: number } };
  /**
   * Use this running or not-yet-started node instead of making one (its key must be libp2p's).
   * `bind` and `config` are then ignored; it is started if it is not running, and never stopped here.
   */
  discv5?: Discv5;
  /**
   * Which records to report as peers (fork digest, subnets, tcp present, anything on the record).
   * Runs behind the safe boundary: a throw counts as false.
   */
  filter?: (enr: Enr) => boolean;
  /** Pause between lookups (default 10_000 ms; the first lookup starts at once). */
  searchIntervalMs?: number;
  /**
   * 'random' lookups, or lookups for records passing `filter` (findNodesMatching: a round ends
   * when 16 are found, or when its lookups only return records it has already seen).
   * Default: 'filter' when a filter is given, else 'random'.
   */
  search?: 'random' | 'filter';
  /** Transports to report peers on and to publish in the local record: default { tcp: true, quic: true }. */
  announce?: { tcp?: boolean; quic?: boolean };
  /** Extra entries of the local record (eth2, attnets, ...); a port or IP given here is never overwritten. */
  enr?: EnrEntries;
  config?: Partial<Discv5Config>;
}

/** What the service takes from libp2p's components. */
export interface Discv5DiscoveryComponents {
  peerId: PeerId;
  privateKey: PrivateKey;
  logger: ComponentLogger;
  events: TypedEventTarget<Libp2pEvents>;
  addressManager: { getAddresses(): Multiaddr[] };
  metrics?: Metrics;
}

const DEFAULT_SEARCH_INTERVAL_MS = 10_000;
/** Node ids whose last reported seq (and peer id) are remembered. */
const SEEN_CAPACITY = 10_000;
const PEER_ID_CAPACITY = 10_000;

export class Discv5PeerDiscovery extends SafeEventEmitter<PeerDiscoveryEvents> implements PeerDiscovery, Startable {
  readonly [Symbol.toStringTag] = 'discv5-native/libp2p';
  readonly [serviceCapabilities]: string[] = ['@libp2p/peer-discovery'];

  readonly #c: Discv5DiscoveryComponents;
  readonly #init: Discv5PeerDiscoveryInit;
  readonly #log: Logger;
  readonly #counters: Counters;
  readonly #privateKey: Uint8Array;
  readonly #announce: Announce;
  readonly #interval: number;
  readonly #mode: 'random' | 'filter';
  readonly #filter: (enr: Enr) => boolean;
  /** Keys of the record the app set through `init.enr`: never overwritten by listen addresses. */
  readonly #pinned: ReadonlySet<string>;
  /** Node id -> the seq of its record last looked at, and whether it was ever reported. */
  readonly #seen = new LruMap<string, { seq: bigint; reported: boolean }>(SEEN_CAPACITY);
  readonly #peerIds = new LruMap<string, PeerId>(PEER_ID_CAPACITY);
  /** Record keys we published, which we may remove again when libp2p stops listening there. */
  readonly #owned = new Set<string>();
  #node: Discv5 | undefined;
  #ownsNode = false;
  #running = false;
  #discovering = false;
  /** Records learned between start() and afterStart(), reported once libp2p has started. */
  readonly #pending = new Map<string, Enr>();
  #abort: AbortController | undefined;
  #searching: Promise<void> | undefined;

  constructor(components: Discv5DiscoveryComponents, init: Discv5PeerDiscoveryInit = {}) {
    const counters = new Counters();
    super(counters);
    this.#counters = counters;
    this.#c = components;
    this.#init = init;
    this.#log = components.logger.forComponent('libp2p:discv5');
    const key = components.privateKey;
    if (key.type !== 'secp256k1') {
      throw new Discv5Error(
        ErrorCode.INVALID_ARGUMENT,
        `discv5 needs libp2p's private key to be secp256k1, not ${key.type} (the record's node id and the ` +
          "peer id must be one key): create libp2p with { privateKey: await generateKeyPair('secp256k1') }",
      );
    }
    this.#privateKey = Uint8Array.from(key.raw);
    if (init.discv5 !== undefined) {
      const own = init.discv5.crypto.nodeIdFromPublicKey(key.publicKey.raw);
      if (own === null || !bytesEqual(own, init.discv5.nodeId)) {
        throw new Discv5Error(ErrorCode.INVALID_ARGUMENT, "the discv5 node given does not have libp2p's key");
      }
    }
    const interval = init.searchIntervalMs ?? DEFAULT_SEARCH_INTERVAL_MS;
    if (!Number.isFinite(interval) || interval < 0) {
      throw new Discv5Error(ErrorCode.INVALID_ARGUMENT, 'searchIntervalMs must be a number >= 0');
    }
    this.#interval = interval;
    this.#announce = { tcp: init.announce?.tcp ?? true, quic: init.announce?.quic ?? true };
    this.#mode = init.search ?? (init.filter === undefined ? 'random' : 'filter');
    this.#filter = safePredicate(this.#counters, 'filter', init.filter ?? (() => true));
    const set = Object.entries(init.enr ?? {}).filter(([, v]) => v !== undefined);
    this.#pinned = new Set(set.map(([k]) => k));
    components.metrics?.registerCounterGroup('libp2p_discv5_peer_discovery_total', {
      calculate: () => this.metrics(),
    });
  }

  get [peerDiscoverySymbol](): PeerDiscovery {
    return this;
  }

  /** The discv5 node (made or taken at start). */
  get discv5(): Discv5 {
    if (this.#node === undefined) throw new Discv5Error(ErrorCode.NOT_STARTED, 'the discv5 node is made at start()');
    return this.#node;
  }

  get isStarted(): boolean {
    return this.#running;
  }

  /**
   * What the service did: peers reported, records filtered out or without a transport, lookup
   * rounds and failures, record updates, and app callbacks that threw (`callback.error.<event>`).
   */
  metrics(): Record<string, number> {
    return this.#counters.snapshot();
  }

  /** Makes (or takes) the discv5 node with libp2p's key, adds the bootnodes, starts it, publishes our addresses. */
  async start(): Promise<void> {
    if (this.#running) return;
    const init = this.#init;
    let node = init.discv5;
    if (node === undefined) {
      node = await DefaultDiscv5.create({
        privateKey: this.#privateKey,
        bind: init.bind ?? { ip4: { ip: '0.0.0.0', port: 0 } },
        ...(init.config === undefined ? {} : { config: init.config }),
        ...(init.bootnodes === undefined ? {} : { bootnodes: init.bootnodes }),
      });
      this.#ownsNode = true;
    } else {
      this.#ownsNode = false;
    }
    this.#node = node;
    this.#pending.clear();
    this.#owned.clear();
    this.#seen.clear();
    node.on('discovered', this.#onRecord);
    node.on('enrAdded', this.#onRecord);
    this.#running = true;
    try {
      if (!node.isRunning) await node.start();
      if (!this.#ownsNode) for (const b of init.bootnodes ?? []) node.addEnr(b);
      this.#publish(this.#c.addressManager.getAddresses(), init.enr);
    } catch (err) {
      await this.stop(); // a bad bootnode or entry: nothing of ours stays running or listening
      throw err;
    }
    this.#c.events.addEventListener('transport:listening', this.#onAddresses);
    this.#c.events.addEventListener('self:peer:update', this.#onAddresses);
    this.#log('started discv5 node %s, record %s', node.localEnr.nodeIdHex, node.localEnr.text);
  }

  /** Listens for the node's records, reports those it already holds, and starts the lookups. */
  afterStart(): void {
    const node = this.#node;
    if (!this.#running || this.#discovering || node === undefined) return;
    this.#discovering = true;
    this.#onAddresses();
    for (const entry of node.table()) this.#consider(entry.enr);
    for (const enr of this.#pending.values()) this.#consider(enr);
    this.#pending.clear();
    const abort = new AbortController();
    this.#abort = abort;
    this.#searching = searchLoop({
      node,
      mode: this.#mode,
      filter: this.#filter,
      intervalMs: this.#interval,
      signal: abort.signal,
      found: (records) => {
        this.#counters.inc('search.rounds');
        for (const enr of records) this.#consider(enr);
      },
      failed: (err) => {
        this.#counters.inc('search.error');
        this.#log.error('discv5 lookup failed - %e', err);
      },
    });
  }

  beforeStop(): void {
    this.#detach();
  }

  /** Ends the lookups (one under way is aborted), removes every listener, stops the node if we made it. */
  async stop(): Promise<void> {
    if (!this.#running) return;
    this.#running = false;
    this.#discovering = false;
    this.#detach();
    const node = this.#node;
    node?.off('discovered', this.#onRecord);
    node?.off('enrAdded', this.#onRecord);
    this.#abort?.abort();
    await this.#searching;
    this.#abort = undefined;
    this.#searching = undefined;
    if (this.#ownsNode) await node?.stop();
    this.#log('stopped');
  }

  #detach(): void {
    this.#c.events.removeEventListener('transport:listening', this.#onAddresses);
    this.#c.events.removeEventListener('self:peer:update', this.#onAddresses);
  }

  /** libp2p's addresses changed (a listener bound, or the address manager settled): publish them. */
  readonly #onAddresses = (): void => {
    if (!this.#running) return;
    const addrs = this.#c.addressManager.getAddresses();
    if (addrs.length === 0) return; // not listening yet, or stopping: nothing to say
    try {
      this.#publish(addrs);
    } catch (err) {
      this.#counters.inc('enr.publish-error');
      this.#log.error('could not publish the listen addresses in the record - %e', err);
    }
  };

  /** Brings the record's transport entries (and `extra`) in line with `addrs`: one update, seq + 1, if anything changed. */
  #publish(addrs: readonly Multiaddr[], extra?: EnrEntries): void {
    const node = this.#node;
    if (node === undefined) return;
    const wanted = listenEntries(addrs, this.#announce);
    const changes = recordChanges(node.localEnr, wanted, this.#owned, this.#pinned, node.addresses);
    if (changes === undefined && extra === undefined) return;
    const record = node.updateLocalEnr({ ...changes, ...extra });
    for (const [k, v] of Object.entries(changes ?? {})) {
      if (v === null) this.#owned.delete(k);
      else this.#owned.add(k);
    }
    this.#counters.inc('enr.published');
    this.#log('record seq %s: %s', record.seq, record.text);
  }

  readonly #onRecord = (enr: Enr): void => {
    if (this.#discovering) this.#consider(enr);
    else if (this.#pending.size < SEEN_CAPACITY) this.#pending.set(enr.nodeIdHex, enr);
  };

  /** Reports a record as a peer: once per seq, if it passes the filter and names an announced transport. */
  #consider(enr: Enr): void {
    const node = this.#node;
    if (!this.#discovering || node === undefined || bytesEqual(enr.nodeId, node.nodeId)) return;
    const key = enr.nodeIdHex;
    const last = this.#seen.get(key);
    if (last !== undefined && last.seq >= enr.seq) return;
    const reported = last?.reported === true;
    this.#seen.set(key, { seq: enr.seq, reported });
    if (!this.#filter(enr)) {
      this.#counters.inc('peer.filtered');
      return;
    }
    const id = this.#peerIdOf(key, enr);
    const multiaddrs = recordMultiaddrs(enr, id, this.#announce);
    if (multiaddrs.length === 0) {
      // libp2p would keep a peer without addresses and never announce it again: say nothing.
      this.#counters.inc('peer.no-transport');
      return;
    }
    this.#counters.inc(reported ? 'peer.updated' : 'peer.reported');
    this.#seen.set(key, { seq: enr.seq, reported: true });
    this.safeDispatchEvent('peer', { detail: { id, multiaddrs } });
  }

  #peerIdOf(key: string, enr: Enr): PeerId {
    let id = this.#peerIds.get(key);
    if (id === undefined) {
      id = peerIdFromPublicKey(publicKeyFromRaw(enr.publicKey));
      this.#peerIds.set(key, id);
    }
    return id;
  }
}
