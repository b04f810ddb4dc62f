/**
 * The node's own record: the key that signs it, a seq that only grows (across restarts too: a
 * fresh record starts at the current time in milliseconds, as go-ethereum does, so peers holding
 * an older record of ours take the new one), runtime updates of its entries, and the address
 * peers report seeing us at. A report counts only if it is an address we could be reached at
 * (same family as the socket it came through, one the reporter may dial, a real port), and one
 * subnet (/24, IPv6 /64) casts one vote, so that a crowd of identities in one subnet cannot move
 * our address.
 */
import type { Crypto } from '../crypto/crypto.js';
import type { EnrEntries } from '../enr/create.js';
import { Enr } from '../enr/enr.js';
import { ipScope, relayable, subnetOf } from '../policy/ip-class.js';
import { AddressVotes } from '../policy/votes.js';
import type { IpFamily, SocketAddress } from '../transport/types.js';
import { bytesEqual, toHex } from '../util/bytes.js';
import { Discv5Error, ErrorCode } from '../util/errors.js';
import type { Counters } from '../util/metrics.js';

export interface LocalNodeOptions {
  privateKey: Uint8Array;
  crypto: Crypto;
  counters: Counters;
  /** A record to start from (text or Enr), signed by privateKey. */
  enr?: Enr | string | undefined;
  votes: { windowMs: number; minVotes: number };
  /** The lowest seq the record may have: one above the last a store saw, so that a restart never reuses one. */
  seqFloor?: bigint | undefined;
  /** The record changed: `address` when the change is our address in one family. */
  onChanged: (enr: Enr, address: { ip: string; port: number; family: IpFamily } | undefined) => void;
  now?: () => number;
}

export class LocalNode {
  readonly #o: LocalNodeOptions;
  readonly #votes: AddressVotes;
  #enr: Enr | undefined;

  constructor(options: LocalNodeOptions) {
    this.#o = options;
    const { enr, crypto, privateKey } = options;
    this.#enr = typeof enr === 'string' ? Enr.decode(enr, crypto) : enr;
    const own = crypto.publicKeyFromPrivate(privateKey);
    if (this.#enr !== undefined && !bytesEqual(this.#enr.publicKey, own)) {
      throw new Discv5Error(ErrorCode.INVALID_ARGUMENT, 'the record given is not signed by privateKey');
    }
    this.#votes = new AddressVotes(
      { windowMs: options.votes.windowMs, minVotes: options.votes.minVotes, maxVoters: 1_000 },
      options.now,
    );
  }

  get hasRecord(): boolean {
    return this.#enr !== undefined;
  }

  get record(): Enr {
    if (this.#enr === undefined) throw new Discv5Error(ErrorCode.NOT_STARTED, 'the local record is made at start()');
    return this.#enr;
  }

  /** Voters counted now for a family. */
  voters(family: IpFamily): number {
    return this.#votes.count(family);
  }

  /**
   * Makes the record from the bound addresses, unless one was given; its seq is at least the time
   * in milliseconds and the floor (a given record below the floor is signed again at the floor).
   */
  init(addresses: readonly SocketAddress[]): void {
    const floor = this.#o.seqFloor ?? 0n;
    if (this.#enr !== undefined) {
      if (this.#enr.seq < floor) this.#enr = this.#enr.update(this.#o.privateKey, {}, floor);
      return;
    }
    const entries: EnrEntries = {};
    for (const a of addresses) {
      if (ipScope(a.ip) === 'unspecified') continue; // 0.0.0.0 / ::: the real address is learned later
      if (a.family === 4) Object.assign(entries, { ip: a.ip, udp: a.port });
      else Object.assign(entries, { ip6: a.ip, udp6: a.port });
    }
    const now = BigInt((this.#o.now ?? Date.now)());
    this.#enr = Enr.create(this.#o.privateKey, entries, this.#o.crypto, now > floor ? now : floor);
  }

  /** Sets (or with null removes) entries: validated as at creation, signed once with seq + 1. */
  update(changes: EnrEntries): Enr {
    this.#enr = this.record.update(this.#o.privateKey, changes);
    this.#o.counters.inc('enr.updated');
    this.#o.onChanged(this.#enr, undefined);
    return this.#enr;
  }

  /** Sets our address for one family, as an app that knows it would. */
  setAddress(ip: string, port: number, family: IpFamily): void {
    const current = family === 4 ? this.record.endpoint4() : this.record.endpoint6();
    if (current?.ip === ip && current.port === port) return;
    this.#enr = this.record.update(this.#o.privateKey, family === 4 ? { ip, udp: port } : { ip6: ip, udp6: port });
    this.#o.counters.inc('enr.address-updated');
    this.#o.onChanged(this.#enr, { ip, port, family });
  }

  /**
   * A peer at `voter` (reached through a socket of `family`) reports seeing us at `ip`:`port`.
   * Invalid reports are counted and ignored; a winning majority becomes our address.
   */
  vote(voter: { nodeId: Uint8Array; ip: string }, family: IpFamily, ip: string, port: number): void {
    // The codec reads an IPv4-mapped report as IPv4, so the family check below sees it as such.
    const ipFamily = ip.includes(':') ? 6 : 4;
    if (ipFamily !== family || port <= 0 || port > 65_535 || !relayable(ip, voter.ip)) {
      this.#o.counters.inc('vote.invalid');
      return;
    }
    // Hosts on the internet vote per subnet; a LAN or loopback testnet has one subnet, so there each node votes.
    const key = ipScope(voter.ip) === 'public' ? subnetOf(voter.ip) : toHex(voter.nodeId);
    const winner = this.#votes.vote(key, family, ip, port);
    if (winner === undefined) return;
    try {
      this.setAddress(winner.ip, winner.port, family);
    } catch {
      // A winner the record cannot hold is not ours to apply; nothing a peer reports may throw.
      this.#o.counters.inc('vote.unusable');
    }
  }
}
