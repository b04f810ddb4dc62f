/**
 * What kind of address an IP is, for the eclipse and relay rules (spec §9): loopback and private
 * (LAN) ranges are exempt from subnet limits and are never handed to hosts on the internet;
 * special ranges (multicast, reserved, broadcast) are never relayed nor dialled. Also the key that
 * rate limits, handshake budgets and bans count an address under (`limitKey`).
 */
import { formatIPv4, isMappedV4, parseIPv4, parseIPv6 } from '../util/ip.js';

export type IpScope = 'loopback' | 'private' | 'public' | 'unspecified' | 'special';

function v4Scope(b: Uint8Array): IpScope {
  const [a, x] = [b[0] as number, b[1] as number];
  if (a === 0) return 'unspecified';
  if (a === 127) return 'loopback';
  if (a === 10 || (a === 172 && x >= 16 && x <= 31) || (a === 192 && x === 168)) return 'private';
  if (a === 169 && x === 254) return 'private'; // link-local
  if (a === 100 && x >= 64 && x <= 127) return 'private'; // carrier-grade NAT
  // Multicast 224/4, reserved 240/4 and the limited broadcast 255.255.255.255 (inside 240/4):
  // nothing a node can listen on.
  if (a >= 224) return 'special';
  // The documentation ranges (192.0.2/24, 198.51.100/24, 203.0.113/24) and the benchmarking range
  // 198.18/15 stay 'public' on purpose: the tests use them as public addresses on the in-memory
  // network, and dialling them on the internet is harmless (they route nowhere).
  return 'public';
}

/**
 * Scopes of addresses seen lately: every record that arrives is classified, a crawler meets each
 * address a dozen times, and a testnet has one address for all. Bounded: cleared when full.
 */
const scopes = new Map<string, IpScope>();
const MAX_SCOPES = 4_096;

/** The scope of a textual IPv4 or IPv6 address (IPv4-mapped IPv6 is read as IPv4). */
export function ipScope(ip: string): IpScope {
  let scope = scopes.get(ip);
  if (scope === undefined) {
    scope = scopeOf(ip);
    if (scopes.size >= MAX_SCOPES) scopes.clear();
    scopes.set(ip, scope);
  }
  return scope;
}

function scopeOf(ip: string): IpScope {
  const v4 = parseIPv4(ip);
  if (v4 !== null) return v4Scope(v4);
  const v6 = parseIPv6(ip);
  if (v6 === null) return 'unspecified';
  if (v6.every((x) => x === 0)) return 'unspecified';
  if (v6.subarray(0, 15).every((x) => x === 0) && v6[15] === 1) return 'loopback';
  if (isMappedV4(v6)) return v4Scope(v6.subarray(12));
  const first = v6[0] as number;
  if (first === 0xff) return 'special'; // multicast ff00::/8
  if ((first & 0xfe) === 0xfc) return 'private'; // unique local fc00::/7
  if (first === 0xfe && ((v6[1] as number) & 0xc0) === 0x80) return 'private'; // link-local fe80::/10
  return 'public';
}

/** Whether packets may be sent to this address at all: not unspecified (0.0.0.0 means "this host"), multicast or reserved. */
export function dialable(ip: string): boolean {
  const scope = ipScope(ip);
  return scope !== 'unspecified' && scope !== 'special';
}

/** Loopback, from the normalised text alone (cheap enough for every inbound packet). */
export function isLoopback(ip: string): boolean {
  return ip.startsWith('127.') || ip === '::1';
}

/**
 * The key an address counts under for rate limits, the handshake budget and bans (automatic and
 * manual): an IPv4 address itself, an IPv6 address its /64 (one host usually holds a whole /64, so
 * that is one "IP"), an IPv4-mapped IPv6 address its IPv4 text. Called for every inbound packet:
 * IPv4 text is returned as is, without parsing.
 */
export function limitKey(ip: string): string {
  if (!ip.includes(':')) return ip;
  const v6 = parseIPv6(ip);
  if (v6 === null) return ip; // e.g. a zone id (fe80::1%eth0): kept whole
  if (isMappedV4(v6)) return formatIPv4(v6.subarray(12));
  return `${Buffer.from(v6.buffer, v6.byteOffset, 8).toString('hex')}::/64`;
}

/** The subnet an address counts against in the table: its /24 (IPv4) or /64 (IPv6), as text. */
export function subnetOf(ip: string): string {
  const v4 = parseIPv4(ip);
  if (v4 !== null) return `${v4[0]}.${v4[1]}.${v4[2]}.0/24`;
  const v6 = parseIPv6(ip);
  if (v6 === null) return ip;
  return `${Buffer.from(v6.subarray(0, 8)).toString('hex')}::/64`;
}

/** Whether an address may be given to a requester at `requesterIp` (no LAN or loopback to the internet). */
export function relayable(recordIp: string, requesterIp: string): boolean {
  const scope = ipScope(recordIp);
  if (scope === 'unspecified' || scope === 'special') return false;
  if (scope === 'public') return true;
  const requester = ipScope(requesterIp);
  if (scope === 'loopback') return requester === 'loopback';
  return requester === 'private' || requester === 'loopback';
}
