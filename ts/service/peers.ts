/**
 * Where other nodes' records meet the node: every record that arrives (a NODES answer, a handshake,
 * `addEnr`, a lookup) passes the one intake check (policy/intake.ts), then the cache of known
 * records, then the routing table, whose entries' lives kademlia/ keeps. This module also turns a
 * record into a contact (the endpoint we send to), chooses what we serve to whom, and keeps the
 * seed records an empty table is filled from again.
 */
import type { EnrDecoder } from '../enr/batch.js';
import type { Enr } from '../enr/enr.js';
import type { RoutingTable } from '../kademlia/table.js';
import type { TableEntry } from '../kademlia/types.js';
import { admitRecord, type IntakeContext, type IntakeResult } from '../policy/intake.js';
import { relayable } from '../policy/ip-class.js';
import type { SessionLayer } from '../session/layer.js';
import type { NodeAddress, NodeContact } from '../session/types.js';
import { socketAddress } from '../transport/address.js';
import type { IpFamily } from '../transport/types.js';
import { bytesKey } from '../util/bytes.js';
import { Discv5Error, ErrorCode } from '../util/errors.js';
import { LruMap } from '../util/lru.js';
import type { Counters } from '../util/metrics.js';

/** Seed records kept for re-seeding (bootnodes and the first records the app added). */
const MAX_SEEDS = 64;

export interface PeersDeps {
  table: RoutingTable;
  decoder: EnrDecoder;
  counters: Counters;
  session: SessionLayer;
  enrCacheSize: number;
  /** Address families the node binds. */
  families: () => ReadonlySet<IpFamily>;
  /** A record was learned or updated. */
  discovered: (enr: Enr) => void;
  /** An entry took a bucket place (`replaced`: the one it took over from). */
  inserted: (entry: TableEntry, replaced: TableEntry | undefined) => void;
  /** An entry's record moved to another endpoint: it must answer there before it is served again. */
  endpointChanged: (entry: TableEntry) => void;
}

/**
 * The intake verdict on the app's word (no sender) depends only on the record, which is immutable,
 * and the families bound (index: 1 IPv4, 2 IPv6, 3 both). Shared by every node in the process: a
 * testnet prefills thousands of tables with the same records.
 */
const appVerdicts = new WeakMap<Enr, (IntakeResult | undefined)[]>();

export interface LearnOptions {
  seen?: boolean;
  live?: boolean;
  /** The peer reached us first (an inbound handshake). */
  inbound?: boolean;
  /** The IP of the peer that handed us the record (relay rules); none: the app's own word. */
  sender?: string;
  /** When we last heard from the node (a store's entry; default now). */
  lastSeen?: number;
}

export class Peers {
  readonly #d: PeersDeps;
  readonly #known: LruMap<string, Enr>;
  readonly #seeds = new Map<string, Enr>();
  readonly #remembered = new Map<string, Enr>();

  constructor(deps: PeersDeps) {
    this.#d = deps;
    this.#known = new LruMap(Math.max(1, deps.enrCacheSize));
  }

  get knownCount(): number {
    return this.#known.size;
  }

  /** Every record known (in the table or not), least recently used first. */
  known(): IterableIterator<Enr> {
    return this.#known.values();
  }

  /** The intake check with its refusal counted; the table and the request manager ask it too. */
  admit(enr: Enr, sender?: string): boolean {
    const ctx: IntakeContext = { families: this.#d.families(), sender };
    const verdict = sender === undefined ? this.#reach(enr) : admitRecord(enr, ctx);
    if (!verdict.ok) this.#d.counters.inc(`drop.record-${verdict.reason}`);
    return verdict.ok;
  }

  /** Whether a record may take a table place: reachable by us, then the app's filter (already safe). */
  reachable(enr: Enr): boolean {
    return this.#reach(enr).ok;
  }

  /** Where we would send to a record, on nobody's word but its own (cached: asked several times per record). */
  #reach(enr: Enr): IntakeResult {
    const families = this.#d.families();
    const mask = (families.has(4) ? 1 : 0) | (families.has(6) ? 2 : 0);
    let cached = appVerdicts.get(enr);
    if (cached === undefined) {
      cached = [];
      appVerdicts.set(enr, cached);
    }
    let result = cached[mask];
    if (result === undefined) {
      result = admitRecord(enr, { families });
      cached[mask] = result;
    }
    return result;
  }

  /** Records the node falls back on when its table empties. */
  addSeed(enr: Enr): void {
    const key = bytesKey(enr.nodeId);
    if (this.#seeds.has(key) || this.#seeds.size < MAX_SEEDS) this.#seeds.set(key, enr);
  }

  get seeds(): Enr[] {
    return [...this.#seeds.values()];
  }

  /**
   * Peers a store remembered from the last run (most recently seen first, at most 64): contacted
   * at start, and with the seeds whenever the table runs short.
   */
  remember(enr: Enr): void {
    const key = bytesKey(enr.nodeId);
    if (!this.#seeds.has(key) && this.#remembered.size < MAX_SEEDS) this.#remembered.set(key, enr);
  }

  /** What re-seeding contacts: the seeds, then the remembered peers. */
  fallbacks(): Enr[] {
    return [...this.#seeds.values(), ...this.#remembered.values()];
  }

  /** A record arrives: checked, remembered, offered to the table, and announced. */
  learn(enr: Enr, options: LearnOptions = {}): void {
    if (!this.admit(enr, options.sender)) return;
    const key = bytesKey(enr.nodeId);
    const known = this.#known.peek(key);
    if (known === undefined || known.seq < enr.seq) {
      this.#known.set(key, enr);
      this.#keepSessionRecord(enr);
      this.#d.discovered(enr);
    }
    const result = this.#d.table.insert(enr, options);
    if (result.kind === 'added') this.#d.inserted(result.entry, undefined);
    else if (result.kind === 'updated' && result.endpointChanged) {
      this.#d.counters.inc('table.endpoint-changed');
      this.#d.endpointChanged(result.entry);
    }
  }

  /**
   * A record from a global view (a prefilled testnet) takes a place as live: checked as the app's
   * word, not announced as discovered (nobody told us), and with no session to update yet.
   */
  prefill(enr: Enr): boolean {
    if (!this.admit(enr)) return false;
    const result = this.#d.table.insert(enr, { live: true });
    if (result.kind === 'added') this.#d.inserted(result.entry, undefined);
    return result.kind === 'added';
  }

  /** A newer record goes with the session at its endpoint, so TALK handlers see it (spec §6.2). */
  #keepSessionRecord(enr: Enr): void {
    const verdict = this.#reach(enr);
    if (verdict.ok) {
      const socket = socketAddress(verdict.endpoint.ip, verdict.endpoint.port);
      this.#d.session.updateEnr({ nodeId: enr.nodeId, socket }, enr);
    }
  }

  /** A record this node holds for a node id: the table's first, then other records seen. */
  find(nodeId: Uint8Array): Enr | undefined {
    return this.#d.table.get(nodeId)?.enr ?? this.#known.get(bytesKey(nodeId));
  }

  /** Where to send to a record; throws ERR_NO_ENDPOINT when it has no endpoint we can reach. */
  contact(input: Enr | string): NodeContact {
    const enr = typeof input === 'string' ? this.#d.decoder.decode(input) : input;
    const verdict = this.#reach(enr);
    if (!verdict.ok) {
      throw new Discv5Error(
        ErrorCode.NO_ENDPOINT,
        `the record has no UDP endpoint this node can reach (${verdict.reason})`,
      );
    }
    const { ip, port } = verdict.endpoint;
    return { nodeId: enr.nodeId, publicKey: enr.publicKey, socket: socketAddress(ip, port), enr };
  }

  /**
   * Records served for FINDNODE at log-distance `distance`: live entries that the requester may be
   * given (no loopback or LAN addresses to hosts on the internet; a dual-stack record is given when
   * either of its addresses may be).
   */
  servedAt(distance: number, requester: NodeAddress | undefined): Enr[] {
    const live = this.#d.table.liveAt(distance);
    if (requester === undefined) return live;
    const from = requester.socket.ip;
    return live.filter((e) => {
      const ip4 = e.ip;
      const ip6 = e.ip6;
      return (ip4 !== undefined && relayable(ip4, from)) || (ip6 !== undefined && relayable(ip6, from));
    });
  }

  /**
   * Whether a record names where its packets come from: its endpoint in the packet's family must be
   * the source. A record with an endpoint only in the other family does not match (it would make
   * us send to an address the peer never proved it holds); one with no endpoint at all names
   * nothing, and the intake check turns it away.
   */
  matchesSource(enr: Enr, peer: NodeAddress): boolean {
    const ep = peer.socket.family === 4 ? enr.endpoint4() : enr.endpoint6();
    if (ep === undefined) return (peer.socket.family === 4 ? enr.endpoint6() : enr.endpoint4()) === undefined;
    return ep.ip === peer.socket.ip && ep.port === peer.socket.port;
  }
}
