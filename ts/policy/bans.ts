/**
 * Ban and permit lists of one node (node ids and IPs, each with an expiry), and the rule that
 * repeated invalid packets from one IP earn it a temporary ban. Permitted ones are never banned and
 * skip the rate limits. Everything is bounded.
 *
 * IPs are counted under `limitKey` (an IPv4 address, or an IPv6 /64): banning or permitting one
 * IPv6 address covers its /64. The public methods take addresses; the gate, which has computed the
 * key once per packet already, uses the `*Key` methods.
 *
 * Bans decided by the operator (`banIp`) and automatic ones (`invalidKey`) are kept apart, so that
 * the gate can let an automatic ban pass for a source it must hear from (see PacketGate).
 */
import { LruMap } from '../util/lru.js';
import { limitKey } from './ip-class.js';

export interface BanConfig {
  /** Invalid packets from one IP within `invalidWindowMs` that earn a ban (default 100; 0 disables). */
  invalidPacketsToBan: number;
  invalidWindowMs: number;
  /** How long such a ban lasts (default 10 min). */
  autoBanMs: number;
  /** Entries kept in each list (default 10,000). */
  maxEntries: number;
}

/** Who decided a ban in force: the operator, or the invalid-packet rule. */
export type BanKind = 'manual' | 'auto';

export class BanList {
  readonly #config: BanConfig;
  readonly #now: () => number;
  readonly #bannedIps: LruMap<string, number>;
  readonly #autoBannedIps: LruMap<string, number>;
  readonly #bannedIds: LruMap<string, number>;
  readonly #permittedIps: LruMap<string, number>;
  readonly #permittedIds: LruMap<string, number>;
  readonly #invalid: LruMap<string, { count: number; since: number }>;

  constructor(config: BanConfig, now: () => number = Date.now) {
    this.#config = config;
    this.#now = now;
    const n = Math.max(1, config.maxEntries);
    this.#bannedIps = new LruMap(n);
    this.#autoBannedIps = new LruMap(n);
    this.#bannedIds = new LruMap(n);
    this.#permittedIps = new LruMap(n);
    this.#permittedIds = new LruMap(n);
    this.#invalid = new LruMap(n);
  }

  #active(list: LruMap<string, number>, key: string): boolean {
    if (list.size === 0) return false;
    const until = list.peek(key);
    if (until === undefined) return false;
    if (until > this.#now()) return true;
    list.delete(key);
    return false;
  }

  /** Bans in force (IPs and /64s, manual and automatic; node ids), for metrics: expired ones are counted out. */
  activeCounts(): { ips: number; nodeIds: number } {
    const now = this.#now();
    const live = (list: LruMap<string, number>) => {
      let n = 0;
      for (const until of list.values()) if (until > now) n++;
      return n;
    };
    return { ips: live(this.#bannedIps) + live(this.#autoBannedIps), nodeIds: live(this.#bannedIds) };
  }

  /** Bans an IP, or with IPv6 its /64 (`durationMs` Infinity: until lifted). */
  banIp(ip: string, durationMs = Number.POSITIVE_INFINITY): void {
    this.#bannedIps.set(limitKey(ip), this.#now() + durationMs);
  }

  banNodeId(id: string, durationMs = Number.POSITIVE_INFINITY): void {
    this.#bannedIds.set(id, this.#now() + durationMs);
  }

  /** Lifts a ban of the IP (or its /64), whoever decided it. */
  unbanIp(ip: string): void {
    const key = limitKey(ip);
    this.#bannedIps.delete(key);
    this.#autoBannedIps.delete(key);
  }

  unbanNodeId(id: string): void {
    this.#bannedIds.delete(id);
  }

  permitIp(ip: string, durationMs = Number.POSITIVE_INFINITY): void {
    this.#permittedIps.set(limitKey(ip), this.#now() + durationMs);
  }

  permitNodeId(id: string, durationMs = Number.POSITIVE_INFINITY): void {
    this.#permittedIds.set(id, this.#now() + durationMs);
  }

  isPermittedIp(ip: string): boolean {
    return this.permittedKey(limitKey(ip));
  }

  isPermittedId(id: string): boolean {
    return this.#active(this.#permittedIds, id);
  }

  /** Whether a ban of either kind holds for the IP (or its /64). */
  isBannedIp(ip: string): boolean {
    return this.bannedKey(limitKey(ip)) !== undefined;
  }

  isBannedId(id: string): boolean {
    return !this.isPermittedId(id) && this.#active(this.#bannedIds, id);
  }

  /** Counts an invalid packet from `ip`; true when that earned it a ban just now. */
  invalidPacket(ip: string): boolean {
    return this.invalidKey(limitKey(ip));
  }

  /** @internal Whether a limit key is permitted. */
  permittedKey(key: string): boolean {
    return this.#active(this.#permittedIps, key);
  }

  /** @internal The ban in force for a limit key (a manual one first), if any; permits win. */
  bannedKey(key: string): BanKind | undefined {
    if (this.#bannedIps.size === 0 && this.#autoBannedIps.size === 0) return undefined;
    if (this.permittedKey(key)) return undefined;
    if (this.#active(this.#bannedIps, key)) return 'manual';
    if (this.#active(this.#autoBannedIps, key)) return 'auto';
    return undefined;
  }

  /** @internal Counts an invalid packet under a limit key; true when that earned it a ban just now. */
  invalidKey(key: string): boolean {
    const c = this.#config;
    if (c.invalidPacketsToBan <= 0 || this.permittedKey(key)) return false;
    const now = this.#now();
    let e = this.#invalid.get(key);
    if (e === undefined || now - e.since > c.invalidWindowMs) {
      e = { count: 0, since: now };
      this.#invalid.set(key, e);
    }
    e.count++;
    if (e.count < c.invalidPacketsToBan) return false;
    this.#invalid.delete(key);
    this.#autoBannedIps.set(key, now + c.autoBanMs);
    return true;
  }
}
