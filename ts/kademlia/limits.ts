/**
 * Address accounting for the routing table: how many bucket entries each limited subnet holds (the
 * eclipse rules of spec §9) and which IPs the table's entries use (so the packet gate can tell a
 * table peer from a stranger in O(1)).
 *
 * The counts must stay exact on every path, or a subnet is locked out (over-counted) or an attacker
 * gets in past the limit (under-counted). Two rules make that hold: a bucket entry is counted once
 * when it is placed (`add`) and uncounted once when it leaves or before its record changes
 * (`delete`), and the subnet it was counted under is stored on the entry, so `delete` takes away
 * exactly what `add` put in even if the caller looks at the entry in between.
 */
import { ipScope, subnetOf } from '../policy/ip-class.js';
import type { TableEntry, TableRecord } from './types.js';

type Entry = TableEntry<TableRecord>;

export interface IpLimits {
  /** Entries per limited subnet in one bucket; 0: no limit. */
  perBucket: number;
  /** Entries per limited subnet in the whole table; 0: no limit. */
  perTable: number;
}

/**
 * The subnet a record counts against, or undefined when its address is exempt (loopback, LAN).
 * A dual-stack record counts under its IPv4 address, the one most peers reach it at.
 */
export function limitedSubnet(enr: TableRecord): string | undefined {
  const ip = enr.ip ?? enr.ip6;
  return ip !== undefined && ipScope(ip) === 'public' ? subnetOf(ip) : undefined;
}

/**
 * What identifies where a record is reached and counted: both addresses and both UDP endpoints.
 * Two records with the same key count under the same subnet and IPs and are pinged at the same
 * place, so a newer record with the same key can be adopted as it is.
 */
export function endpointKey(enr: TableRecord): string {
  const e4 = enr.endpoint4();
  const e6 = enr.endpoint6();
  return `${enr.ip ?? ''}|${enr.ip6 ?? ''}|${e4?.port ?? ''}|${e6?.port ?? ''}`;
}

/** Whether `enr` is reached at `endpoint` (its IPv4 or its IPv6 UDP endpoint). */
export function hasEndpoint(enr: TableRecord, endpoint: { ip: string; port: number }): boolean {
  const e4 = enr.endpoint4();
  if (e4 !== undefined && e4.ip === endpoint.ip && e4.port === endpoint.port) return true;
  const e6 = enr.endpoint6();
  return e6 !== undefined && e6.ip === endpoint.ip && e6.port === endpoint.port;
}

function ipsOf(enr: TableRecord): string[] {
  const out: string[] = [];
  if (enr.ip !== undefined) out.push(enr.ip);
  if (enr.ip6 !== undefined) out.push(enr.ip6);
  return out;
}

function bump(map: Map<string, number>, key: string, by: 1 | -1): void {
  const n = (map.get(key) ?? 0) + by;
  if (n > 0) map.set(key, n);
  else map.delete(key);
}

export class AddressCounts {
  readonly #limits: IpLimits;
  /** Bucket entries per limited subnet, over the whole table. */
  readonly #perSubnet = new Map<string, number>();
  /** Bucket entries per IP (ip and ip6 of their current records), limited or not. */
  readonly #perIp = new Map<string, number>();
  /** The IPs each counted entry was counted under (the record may be replaced while counted). */
  readonly #countedIps = new WeakMap<Entry, string[]>();

  constructor(limits: IpLimits) {
    this.#limits = limits;
  }

  /**
   * Whether `enr` may take a place among `bucket`'s entries under the subnet limits. `self` is an
   * entry being re-placed with a new record: it must already be uncounted, and is not counted
   * against itself in the bucket.
   */
  fits(bucket: readonly Entry[], enr: TableRecord, self?: Entry): boolean {
    const subnet = limitedSubnet(enr);
    if (subnet === undefined) return true;
    const { perBucket, perTable } = this.#limits;
    if (perTable > 0 && (this.#perSubnet.get(subnet) ?? 0) >= perTable) return false;
    if (perBucket > 0) {
      let n = 0;
      for (const e of bucket) if (e !== self && e.subnet === subnet) n++;
      if (n >= perBucket) return false;
    }
    return true;
  }

  /** Counts an entry that takes a bucket place (or keeps it with a new record). */
  add(entry: Entry): void {
    if (this.#countedIps.has(entry)) return; // counted already: never twice
    entry.subnet = limitedSubnet(entry.enr);
    if (entry.subnet !== undefined) bump(this.#perSubnet, entry.subnet, 1);
    const ips = ipsOf(entry.enr);
    for (const ip of ips) bump(this.#perIp, ip, 1);
    this.#countedIps.set(entry, ips);
  }

  /** Uncounts an entry that leaves its bucket place (or is about to change its record). */
  delete(entry: Entry): void {
    const ips = this.#countedIps.get(entry);
    if (ips === undefined) return; // not counted: nothing to take away
    if (entry.subnet !== undefined) bump(this.#perSubnet, entry.subnet, -1);
    for (const ip of ips) bump(this.#perIp, ip, -1);
    this.#countedIps.delete(entry);
    entry.subnet = undefined;
  }

  hasIp(ip: string): boolean {
    return this.#perIp.has(ip);
  }

  /** Bucket entries per limited subnet (a copy, for metrics and consistency checks). */
  subnets(): Map<string, number> {
    return new Map(this.#perSubnet);
  }
}
