/**
 * The inbound gate (issue 6, spec §9): every datagram passes it before any work is done on it.
 * Banned IPs and node ids are dropped; rate limits apply per IP, per node id and in total, except to
 * permitted ones and to sources we are waiting on for a response; new handshakes (WHOAREYOU) have a
 * budget per IP; repeated invalid packets from one IP earn it a temporary ban.
 */
import { BanList } from './bans.js';
import { isLoopback } from './ip-class.js';
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
  /** Whether loopback peers are rate-limited and auto-banned too (default false: local testnets). */
  limitLoopback: boolean;
  invalidPacketsToBan: number;
  invalidWindowMs: number;
  autoBanMs: number;
  maxBanEntries: number;
}

export type GateVerdict = 'pass' | 'banned' | 'rate-total' | 'rate-ip' | 'rate-node';

export class PacketGate {
  readonly bans: BanList;
  readonly #config: GateConfig;
  readonly #perIp: RateLimiter;
  readonly #perNode: RateLimiter;
  readonly #total: RateLimiter;
  readonly #handshakes: RateLimiter;
  readonly #expecting: (ip: string) => boolean;

  constructor(config: GateConfig, expecting: (ip: string) => boolean, now: () => number = Date.now) {
    this.#config = config;
    this.#expecting = expecting;
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
  }

  #exempt(ip: string): boolean {
    return (!this.#config.limitLoopback && isLoopback(ip)) || this.bans.isPermittedIp(ip) || this.#expecting(ip);
  }

  /** Before decoding: IP bans and the IP and total rates. */
  admit(ip: string): GateVerdict {
    if (this.bans.isBannedIp(ip)) return 'banned';
    if (this.#exempt(ip)) return 'pass';
    if (!this.#total.take('total')) return 'rate-total';
    if (!this.#perIp.take(ip)) return 'rate-ip';
    return 'pass';
  }

  /** Once the sender's node id is known (flag 0 and 2 packets). */
  admitNode(nodeIdKey: string, ip: string): GateVerdict {
    if (this.bans.isBannedId(nodeIdKey)) return 'banned';
    if (this.#exempt(ip) || this.bans.isPermittedId(nodeIdKey)) return 'pass';
    return this.#perNode.take(nodeIdKey) ? 'pass' : 'rate-node';
  }

  /** Whether a new WHOAREYOU may go to `ip` (the handshake budget per IP). */
  allowChallenge(ip: string): boolean {
    return this.#exempt(ip) || this.#handshakes.take(ip);
  }

  /** An invalid packet from `ip`; true if that earned it a ban. */
  invalid(ip: string): boolean {
    if (!this.#config.limitLoopback && isLoopback(ip)) return false;
    return this.bans.invalidPacket(ip);
  }
}
