/**
 * Ban and permit lists of one node (node ids and IPs, each with an expiry), and the rule that
 * repeated invalid packets from one IP earn it a temporary ban. Permitted ones are never banned and
 * skip the rate limits. Everything is bounded.
 */
import { LruMap } from '../util/lru.js';

export interface BanConfig {
  /** Invalid packets from one IP within `invalidWindowMs` that earn a ban (default 100; 0 disables). */
  invalidPacketsToBan: number;
  invalidWindowMs: number;
  /** How long such a ban lasts (default 10 min). */
  autoBanMs: number;
  /** Entries kept in each list (default 10,000). */
  maxEntries: number;
}

export class BanList {
  readonly #config: BanConfig;
  readonly #now: () => number;
  readonly #bannedIps: LruMap<string, number>;
  readonly #bannedIds: LruMap<string, number>;
  readonly #permittedIps: LruMap<string, number>;
  readonly #permittedIds: LruMap<string, number>;
  readonly #invalid: LruMap<string, { count: number; since: number }>;

  constructor(config: BanConfig, now: () => number = Date.now) {
    this.#config = config;
    this.#now = now;
    const n = Math.max(1, config.maxEntries);
    this.#bannedIps = new LruMap(n);
    this.#bannedIds = new LruMap(n);
    this.#permittedIps = new LruMap(n);
    this.#permittedIds = new LruMap(n);
    this.#invalid = new LruMap(n);
  }

  #active(list: LruMap<string, number>, key: string): boolean {
    const until = list.peek(key);
    if (until === undefined) return false;
    if (until > this.#now()) return true;
    list.delete(key);
    return false;
  }

  /** Bans an IP (`durationMs` Infinity: until lifted). */
  banIp(ip: string, durationMs = Number.POSITIVE_INFINITY): void {
    this.#bannedIps.set(ip, this.#now() + durationMs);
  }

  banNodeId(id: string, durationMs = Number.POSITIVE_INFINITY): void {
    this.#bannedIds.set(id, this.#now() + durationMs);
  }

  unbanIp(ip: string): void {
    this.#bannedIps.delete(ip);
  }

  unbanNodeId(id: string): void {
    this.#bannedIds.delete(id);
  }

  permitIp(ip: string, durationMs = Number.POSITIVE_INFINITY): void {
    this.#permittedIps.set(ip, this.#now() + durationMs);
  }

  permitNodeId(id: string, durationMs = Number.POSITIVE_INFINITY): void {
    this.#permittedIds.set(id, this.#now() + durationMs);
  }

  isPermittedIp(ip: string): boolean {
    return this.#active(this.#permittedIps, ip);
  }

  isPermittedId(id: string): boolean {
    return this.#active(this.#permittedIds, id);
  }

  isBannedIp(ip: string): boolean {
    return !this.isPermittedIp(ip) && this.#active(this.#bannedIps, ip);
  }

  isBannedId(id: string): boolean {
    return !this.isPermittedId(id) && this.#active(this.#bannedIds, id);
  }

  /** Counts an invalid packet from `ip`; true when that earned it a ban just now. */
  invalidPacket(ip: string): boolean {
    const c = this.#config;
    if (c.invalidPacketsToBan <= 0 || this.isPermittedIp(ip)) return false;
    const now = this.#now();
    let e = this.#invalid.get(ip);
    if (e === undefined || now - e.since > c.invalidWindowMs) {
      e = { count: 0, since: now };
      this.#invalid.set(ip, e);
    }
    e.count++;
    if (e.count < c.invalidPacketsToBan) return false;
    this.#invalid.delete(ip);
    this.banIp(ip, c.autoBanMs);
    return true;
  }
}
