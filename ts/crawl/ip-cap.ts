/**
 * The crawl's cap on node ids per IP address: a peer that answers with thousands of made-up
 * identities naming one victim's address must not be able to aim the crawl's requests at it.
 * Loopback addresses are exempt: a local testnet runs many nodes on one.
 */
import { isLoopback } from '../policy/ip-class.js';
import type { CrawlRecord } from './types.js';

export class IpCap {
  /** Node ids per (non-loopback) IP address, over the records held. */
  readonly #perIp = new Map<string, number>();

  constructor(readonly maxPerIp: number) {}

  /** Whether `enr`'s addresses have room for one more id (`old`, the id's record so far, does not count). */
  fits(enr: CrawlRecord, old?: CrawlRecord): boolean {
    for (const ip of [enr.ip, enr.ip6]) {
      if (!capped(ip) || ip === old?.ip || ip === old?.ip6) continue;
      if ((this.#perIp.get(ip) ?? 0) >= this.maxPerIp) return false;
    }
    return true;
  }

  /** Counts `enr`'s addresses in (`by` 1) or out (`by` -1). */
  count(enr: CrawlRecord, by: 1 | -1): void {
    for (const ip of [enr.ip, enr.ip6]) {
      if (!capped(ip)) continue;
      const n = (this.#perIp.get(ip) ?? 0) + by;
      if (n > 0) this.#perIp.set(ip, n);
      else this.#perIp.delete(ip);
    }
  }
}

/** The addresses the cap counts: not loopback. */
const capped = (ip: string | undefined): ip is string => typeof ip === 'string' && !isLoopback(ip);
