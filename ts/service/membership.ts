/**
 * Who the node knows: the routing table, the records arriving into it (peers.ts), its upkeep
 * (maintenance.ts) and lookups, and what connects them: sessions that bring records, PINGs and
 * PONGs that announce newer ones, re-seeding an empty table, and the events an app sees.
 */
import { randomFillSync } from 'node:crypto';
import type { Crypto } from '../crypto/crypto.js';
import type { EnrDecoder } from '../enr/batch.js';
import type { Enr } from '../enr/enr.js';
import { randomIdAtDistance } from '../kademlia/distance.js';
import { TableMaintenance } from '../kademlia/maintenance.js';
import { RoutingTable } from '../kademlia/table.js';
import type { TableEntry } from '../kademlia/types.js';
import type { RequestManager } from '../rpc/requests.js';
import type { SessionLayer } from '../session/layer.js';
import type { NodeAddress, NodeContact } from '../session/types.js';
import type { IpFamily } from '../transport/types.js';
import { Discv5Error, ErrorCode } from '../util/errors.js';
import type { Counters } from '../util/metrics.js';
import { detach } from '../util/safe.js';
import type { Discv5Config } from './config.js';
import { Lookups } from './lookups.js';
import { Peers } from './peers.js';
import type { Discv5Events, TableEntryInfo } from './types.js';

export type Emit = <K extends keyof Discv5Events & string>(event: K, ...args: Parameters<Discv5Events[K]>) => void;

export interface MembershipDeps {
  nodeId: Uint8Array;
  crypto: Crypto;
  config: Readonly<Discv5Config>;
  counters: Counters;
  decoder: EnrDecoder;
  session: SessionLayer;
  requests: RequestManager;
  /** The app's table filter, already behind the safe boundary. */
  tableFilter: (enr: Enr) => boolean;
  families: () => ReadonlySet<IpFamily>;
  isRunning: () => boolean;
  /** Where to send to a record (throws when stopped or unreachable). */
  contact: (enr: Enr) => NodeContact;
  /** A PING that votes on our address and reports the peer's seq; leaves the table alone. */
  ping: (contact: NodeContact) => Promise<{ enrSeq: bigint }>;
  emit: Emit;
  /** A lookup ended, after this many seconds (metrics). */
  lookupFinished?: (seconds: number) => void;
}

export class Membership {
  readonly table: RoutingTable;
  readonly peers: Peers;
  readonly lookups: Lookups;
  readonly maintenance: TableMaintenance;
  readonly #d: MembershipDeps;
  #bootstrapping = false;

  constructor(d: MembershipDeps) {
    this.#d = d;
    const { config, counters } = d;
    this.table = new RoutingTable(d.nodeId, d.crypto, {
      // Only records we can reach (and so serve, spec §9), then the app's own rule.
      accept: (r) => this.peers.reachable(r) && d.tableFilter(r),
      ipLimits: { perBucket: config.ipLimitPerBucket, perTable: config.ipLimitPerTable },
      incomingPerBucket: config.incomingPerBucket,
    });
    this.peers = new Peers({
      table: this.table,
      decoder: d.decoder,
      counters,
      session: d.session,
      enrCacheSize: config.enrCacheSize,
      families: d.families,
      discovered: (r) => d.emit('discovered', r),
      inserted: (entry, replaced) => this.#inserted(entry, replaced),
      endpointChanged: (entry) => this.maintenance.checkSoon(entry.enr),
    });
    this.lookups = new Lookups({
      nodeId: d.nodeId,
      crypto: d.crypto,
      table: this.table,
      requests: d.requests,
      counters,
      config,
      isRunning: d.isRunning,
      contact: (r) => this.peers.contact(r),
      learn: (r) => this.peers.learn(r),
      finished: (seconds) => d.lookupFinished?.(seconds),
    });
    this.maintenance = new TableMaintenance({
      table: this.table,
      counters,
      config,
      ping: async (r) => {
        const contact = d.contact(r);
        return { enrSeq: (await d.ping(contact)).enrSeq, endpoint: contact.socket };
      },
      requestEnr: async (r) => {
        const [record] = await d.requests.findNode(d.contact(r), [0]);
        if (record === undefined) throw new Discv5Error(ErrorCode.REQUEST_TIMEOUT, 'the node did not send its record');
        return record;
      },
      refresh: async (distance) => {
        const target = randomIdAtDistance(d.nodeId, distance, (n) => randomFillSync(new Uint8Array(n)));
        await this.lookups.lookup(target);
      },
      onEvicted: (removed, promoted) => {
        counters.inc('table.evicted');
        if (promoted !== undefined) this.#inserted(promoted, removed);
      },
      onUpdated: (r) => this.peers.learn(r),
      reseed: () => this.reseed(),
      random: Math.random,
    });
    d.session.on('established', (peer, r, inbound) => this.#established(peer, r, inbound));
  }

  /**
   * Looks up our own id: it fills the buckets others will ask us about (one bootstrap at a time).
   * With `explore`, a lookup of a random id follows: a self-lookup asks peers only for nodes near
   * us, and a node re-seeding from one bootnode in a small network would find nobody else (as
   * go-ethereum's refresh, which adds random lookups to its self-lookup).
   */
  bootstrap(explore = false): void {
    if (this.#bootstrapping) return;
    this.#bootstrapping = true;
    const run = async () => {
      try {
        await this.lookups.lookup(this.#d.nodeId);
        if (explore) await this.lookups.lookup(randomFillSync(new Uint8Array(32)));
      } finally {
        this.#bootstrapping = false;
      }
    };
    detach(run(), this.#d.counters, 'bootstrap');
  }

  /**
   * Too few live entries (maintenance's back-off decides when): the bootnodes and remembered peers
   * go back into the table; those not live are pinged now, and a lookup of our own id runs through
   * them once one is live (at once, if one already is: it may know more nodes than it did).
   */
  reseed(): void {
    if (!this.#d.isRunning()) return;
    let reachable = false;
    for (const seed of this.peers.fallbacks()) {
      this.peers.learn(seed);
      const entry = this.table.get(seed.nodeId);
      if (entry === undefined) continue;
      if (entry.live) {
        reachable = true;
        continue;
      }
      const contact = async () => {
        await this.maintenance.check(entry.enr);
        if (this.table.get(seed.nodeId)?.live) this.bootstrap(true);
      };
      detach(contact(), this.#d.counters, 'reseed');
    }
    if (reachable) this.bootstrap(true);
  }

  /** A peer's PING or PONG named its record's seq: fetch the record if ours is older (spec §6.2). */
  announced(nodeId: Uint8Array, seq: bigint): void {
    const held = this.peers.find(nodeId);
    if (held !== undefined && seq > held.seq && this.#d.isRunning()) this.maintenance.recordAnnounced(held, seq);
  }

  info(e: TableEntry): TableEntryInfo {
    const distance = this.table.bucketOf(e.enr.nodeId) + 1 || 0;
    return { nodeId: e.enr.nodeIdHex, enr: e.enr, live: e.live, lastSeen: e.lastSeen, distance };
  }

  #established(peer: NodeAddress, enr: Enr | undefined, inbound: boolean): void {
    if (enr !== undefined) {
      if (inbound && !this.peers.matchesSource(enr, peer)) {
        // Answered, but not added: a record naming another address than its packets' source.
        this.#d.counters.inc('table.address-mismatch');
        this.#d.emit('addressMismatch', enr, peer);
      } else {
        // No relay rules here: the record names the peer itself, at an endpoint its packets (inbound)
        // or our own contact (outbound) just proved.
        this.peers.learn(enr, { seen: true, inbound });
        // A node that reached us and took a place in a bucket is pinged soon, so that it can become
        // live and be served. Those waiting as replacements are not: a crowd of identities must not
        // make us work for each of them (spec §9: the table is not filled from inbound contact).
        if (inbound && this.table.get(enr.nodeId) !== undefined) this.maintenance.inbound(enr);
      }
    }
    this.#d.emit('sessionEstablished', peer, enr, inbound);
  }

  #inserted(entry: TableEntry, replaced: TableEntry | undefined): void {
    this.#d.emit('enrAdded', entry.enr);
    this.#d.emit('nodeInserted', this.info(entry), replaced === undefined ? undefined : this.info(replaced));
  }
}
