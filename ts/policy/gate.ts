/**
 * The inbound gate (issue 6, spec §9): every datagram passes it before any work is done on it.
 *
 * - "IP" means `limitKey(ip)` throughout: an IPv4 address, or an IPv6 /64.
 * - Bans: the operator's bans (IP, node id) always apply. Automatic bans come from `invalid()`, which
 *   the session layer calls only for failures that prove the source (never for undecodable
 *   datagrams, whose source anyone can forge).
 * - Protected IPs (`protect`: we wait on an answer from there, or the table holds a node there) skip
 *   the per-IP and per-node rate limits, are never auto-banned, and an automatic ban made before
 *   they became protected does not hold them. The total rate and the handshake budgets still apply
 *   to them: an attacker that gets itself asked must not earn unlimited windows.
 * - Loopback (unless `limitLoopback`) and permitted IPs skip every limit, as before.
 * - New handshakes (a WHOAREYOU we send) need a token from the IP's budget and from the global one.
 */
import { BanList } from './bans.js';
import { isLoopback, limitKey } from './ip-class.js';
import { RateLimiter } from './rate-limit.js';

export interface GateConfig {
  /** Packets per second (and burst) accepted from one IP; 0 disables (default 200 / 400). */
  rateLimitIpPerSecond: number;
  rateLimitIpBurst: number;
  /** Packets per second (and burst) accepted from one node id (default 100 / 200). */
  rateLimitNodePerSecond: number;
  rateLimitNodeBurst: number;
  /** Packets per second (and burst) accepted in total (default 20,000 / 40,000). */
  rateLimitTotalPerSecond: number;
  rateLimitTotalBurst: number;
  /** New WHOAREYOU challenges per second (and burst) for one IP (default 20 / 50). */
  handshakesPerIpPerSecond: number;
  handshakesBurstPerIp: number;
  /** New WHOAREYOU challenges per second (and burst) over all sources (default 200 / 400). */
  handshakesTotalPerSecond: number;
  handshakesTotalBurst: number;
  /** Sources remembered by each limiter (default 10,000). */
  rateLimitMaxKeys: number;
  /** Whether loopback peers are rate-limited, budgeted and auto-banned too (default false: local testnets). */
  limitLoopback: boolean;
  invalidPacketsToBan: number;
  invalidWindowMs: number;
  autoBanMs: number;
  maxBanEntries: number;
}

export type GateVerdict = 'pass' | 'banned' | 'rate-total' | 'rate-ip' | 'rate-node';

/** Whether a new WHOAREYOU may go out: both budgets hold, or which one is spent (counted as `drop.<verdict>`). */
export type ChallengeVerdict = 'pass' | 'handshake-budget' | 'handshake-budget-total';

export class PacketGate {
  readonly bans: BanList;
  readonly #config: GateConfig;
  readonly #perIp: RateLimiter;
  readonly #perNode: RateLimiter;
  readonly #total: RateLimiter;
  readonly #handshakes: RateLimiter;
  readonly #handshakesTotal: RateLimiter;
  readonly #protect: (ip: string) => boolean;
  /** The last address keyed: one packet asks for it up to three times. */
  #lastIp = '';
  #lastKey = '';

  /**
   * @param protect whether packets from `ip` must get through: true while a request to that IP is
   *   pending or the routing table holds a node there. Called only when a limit or an automatic
   *   ban would otherwise drop a packet, so it may cost a map lookup or two.
   */
  constructor(config: GateConfig, protect: (ip: string) => boolean, now: () => number = Date.now) {
    this.#config = config;
    this.#protect = protect;
    this.bans = new BanList(
      {
        invalidPacketsToBan: config.invalidPacketsToBan,
        invalidWindowMs: config.invalidWindowMs,
        autoBanMs: config.autoBanMs,
        maxEntries: config.maxBanEntries,
      },
      now,
    );
    const keys = config.rateLimitMaxKeys;
    this.#perIp = new RateLimiter({ rate: config.rateLimitIpPerSecond, burst: config.rateLimitIpBurst }, keys, now);
    this.#perNode = new RateLimiter(
      { rate: config.rateLimitNodePerSecond, burst: config.rateLimitNodeBurst },
      keys,
      now,
    );
    this.#total = new RateLimiter({ rate: config.rateLimitTotalPerSecond, burst: config.rateLimitTotalBurst }, 1, now);
    this.#handshakes = new RateLimiter(
      { rate: config.handshakesPerIpPerSecond, burst: config.handshakesBurstPerIp },
      keys,
      now,
    );
    this.#handshakesTotal = new RateLimiter(
      { rate: config.handshakesTotalPerSecond, burst: config.handshakesTotalBurst },
      1,
      now,
    );
  }

  #key(ip: string): string {
    if (ip !== this.#lastIp) {
      this.#lastKey = limitKey(ip);
      this.#lastIp = ip;
    }
    return this.#lastKey;
  }

  /** Loopback (unless limited) and permitted IPs: no limit, no budget, no automatic ban. */
  #free(ip: string, key: string): boolean {
    return (!this.#config.limitLoopback && isLoopback(ip)) || this.bans.permittedKey(key);
  }

  /** Before decoding: IP bans, the total rate and the IP's rate. */
  admit(ip: string): GateVerdict {
    const key = this.#key(ip);
    const ban = this.bans.bannedKey(key);
    if (ban === 'manual' || (ban === 'auto' && !this.#protect(ip))) return 'banned';
    if (this.#free(ip, key)) return 'pass';
    if (!this.#total.take('total')) return 'rate-total';
    if (!this.#perIp.take(key) && !this.#protect(ip)) return 'rate-ip';
    return 'pass';
  }

  /** Once the sender's node id is known (flag 0 and 2 packets): node-id bans and the node's rate. */
  admitNode(nodeIdKey: string, ip: string): GateVerdict {
    if (this.bans.isBannedId(nodeIdKey)) return 'banned';
    if (this.#free(ip, this.#key(ip)) || this.bans.isPermittedId(nodeIdKey)) return 'pass';
    if (this.#perNode.take(nodeIdKey) || this.#protect(ip)) return 'pass';
    return 'rate-node';
  }

  /**
   * Whether a new WHOAREYOU may go to `ip`: one token from the IP's budget, then one from the
   * global budget (in that order, so that one flooding IP spends only its own budget).
   */
  allowChallenge(ip: string): ChallengeVerdict {
    const key = this.#key(ip);
    if (this.#free(ip, key)) return 'pass';
    if (!this.#handshakes.take(key)) return 'handshake-budget';
    if (!this.#handshakesTotal.take('total')) return 'handshake-budget-total';
    return 'pass';
  }

  /**
   * A failure that proves its source (a handshake that failed after our challenge went to that
   * socket); true if that earned the IP an automatic ban. Protected IPs are never banned.
   */
  invalid(ip: string): boolean {
    const key = this.#key(ip);
    if (this.#free(ip, key) || this.#protect(ip)) return false;
    return this.bans.invalidKey(key);
  }
}
