/** Address helpers shared by the transports and the layers above. */
import { isIPv4, isIPv6 } from 'node:net';
import type { IpFamily, SocketAddress } from './types.js';

const MAPPED_V4 = /^::ffff:(\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3})$/i;

/** IPv4-mapped IPv6 (::ffff:a.b.c.d) becomes a.b.c.d, so that one peer has one address. */
export function normalizeIp(ip: string): string {
  const m = MAPPED_V4.exec(ip);
  return m ? (m[1] as string) : ip;
}

export function familyOf(ip: string): IpFamily {
  if (isIPv4(ip)) return 4;
  if (isIPv6(ip)) return 6;
  throw new TypeError(`not an IP address: ${ip}`);
}

export function socketAddress(ip: string, port: number): SocketAddress {
  const normal = normalizeIp(ip);
  return { ip: normal, port, family: familyOf(normal) };
}

/** "ip:port" (IPv6 in brackets), for maps and logs. */
export function addressKey(a: { ip: string; port: number }): string {
  return a.ip.includes(':') ? `[${a.ip}]:${a.port}` : `${a.ip}:${a.port}`;
}
