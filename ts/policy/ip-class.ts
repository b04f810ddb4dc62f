/**
 * What kind of address an IP is, for the eclipse and relay rules (spec §9): loopback and private
 * (LAN) ranges are exempt from subnet limits and are never handed to hosts on the internet.
 */
import { parseIPv4, parseIPv6 } from '../util/ip.js';

export type IpScope = 'loopback' | 'private' | 'public' | 'unspecified';

function v4Scope(b: Uint8Array): IpScope {
  const [a, x] = [b[0] as number, b[1] as number];
  if (a === 0) return 'unspecified';
  if (a === 127) return 'loopback';
  if (a === 10 || (a === 172 && x >= 16 && x <= 31) || (a === 192 && x === 168)) return 'private';
  if (a === 169 && x === 254) return 'private'; // link-local
  if (a === 100 && x >= 64 && x <= 127) return 'private'; // carrier-grade NAT
  return 'public';
}

/** The scope of a textual IPv4 or IPv6 address (IPv4-mapped IPv6 is read as IPv4). */
export function ipScope(ip: string): IpScope {
  const v4 = parseIPv4(ip);
  if (v4 !== null) return v4Scope(v4);
  const v6 = parseIPv6(ip);
  if (v6 === null) return 'unspecified';
  if (v6.every((x) => x === 0)) return 'unspecified';
  if (v6.subarray(0, 15).every((x) => x === 0) && v6[15] === 1) return 'loopback';
  if (v6.subarray(0, 10).every((x) => x === 0) && v6[10] === 0xff && v6[11] === 0xff) return v4Scope(v6.subarray(12));
  const first = v6[0] as number;
  if ((first & 0xfe) === 0xfc) return 'private'; // unique local fc00::/7
  if (first === 0xfe && ((v6[1] as number) & 0xc0) === 0x80) return 'private'; // link-local fe80::/10
  return 'public';
}

/** Loopback, from the normalised text alone (cheap enough for every inbound packet). */
export function isLoopback(ip: string): boolean {
  return ip.startsWith('127.') || ip === '::1';
}

/** The subnet an address counts against: its /24 (IPv4) or /64 (IPv6), as text. */
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
  if (scope === 'unspecified') return false;
  if (scope === 'public') return true;
  const requester = ipScope(requesterIp);
  if (scope === 'loopback') return requester === 'loopback';
  return requester === 'private' || requester === 'loopback';
}
