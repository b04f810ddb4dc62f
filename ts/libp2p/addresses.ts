/**
 * Between node records and libp2p addresses, both ways, as pure functions:
 * - a record -> the multiaddrs libp2p can dial: /ip4|ip6/<ip>/tcp/<port>/p2p/<id> and
 *   /ip4|ip6/<ip>/udp/<port>/quic-v1/p2p/<id>, where IPv6 takes `tcp`/`quic` when `tcp6`/`quic6`
 *   is absent (EIP-778: a port without the 6 suffix applies to both families);
 * - libp2p's listen addresses -> the record entries that advertise them (`tcp`, `quic`, and
 *   `tcp6`/`quic6` only where they differ), and the smallest update that brings a record there.
 */
import type { PeerId } from '@libp2p/interface';
import {
  CODE_IP4,
  CODE_IP6,
  CODE_P2P,
  CODE_QUIC_V1,
  CODE_TCP,
  CODE_UDP,
  type Multiaddr,
  multiaddr,
} from '@multiformats/multiaddr';
import type { EnrEntries } from '../enr/create.js';
import type { Enr } from '../enr/enr.js';
import { bytesEqual } from '../util/bytes.js';
import { parseIPv4, parseIPv6 } from '../util/ip.js';

/** The libp2p transports a record can name. */
export interface Announce {
  tcp: boolean;
  quic: boolean;
}

/** The record entries that advertise libp2p's addresses. */
export interface ListenEntries {
  ip?: string;
  ip6?: string;
  tcp?: number;
  tcp6?: number;
  quic?: number;
  quic6?: number;
}

/** The entries this module manages in the local record. */
export const LISTEN_KEYS = ['ip', 'ip6', 'tcp', 'tcp6', 'quic', 'quic6'] as const;
export type ListenKey = (typeof LISTEN_KEYS)[number];

/**
 * The multiaddrs of a record's libp2p transports (IPv4 first, tcp before quic), each ending in
 * /p2p/<peerId>. Empty when the record names no announced transport with an address (port 0 names none).
 */
export function recordMultiaddrs(enr: Enr, peerId: PeerId | string, announce: Announce): Multiaddr[] {
  const id = peerId.toString();
  const out: Multiaddr[] = [];
  for (const family of [4, 6] as const) {
    if (announce.tcp) {
      const ep = family === 4 ? enr.endpoint4('tcp') : enr.endpoint6('tcp');
      if (ep !== undefined && ep.port > 0) out.push(multiaddr(`/ip${family}/${ep.ip}/tcp/${ep.port}/p2p/${id}`));
    }
    if (announce.quic) {
      const ep = family === 4 ? enr.endpoint4('quic') : enr.endpoint6('quic');
      if (ep !== undefined && ep.port > 0)
        out.push(multiaddr(`/ip${family}/${ep.ip}/udp/${ep.port}/quic-v1/p2p/${id}`));
    }
  }
  return out;
}

interface Listening {
  ips: Set<string>;
  tcp: number | undefined;
  quic: number | undefined;
}

/** ip + tcp, or ip + udp + quic-v1, optionally ending in /p2p/<id>; anything else (ws, circuits, dns) is not ours. */
function parse(ma: Multiaddr): { family: 4 | 6; ip: string; kind: 'tcp' | 'quic'; port: number } | undefined {
  const c = ma.getComponents();
  if (c.at(-1)?.code === CODE_P2P) c.pop();
  const [host, proto, extra] = c;
  if (host === undefined || proto === undefined || host.value === undefined || proto.value === undefined) return;
  if (host.code !== CODE_IP4 && host.code !== CODE_IP6) return;
  let kind: 'tcp' | 'quic';
  if (c.length === 2 && proto.code === CODE_TCP) kind = 'tcp';
  else if (c.length === 3 && proto.code === CODE_UDP && extra?.code === CODE_QUIC_V1) kind = 'quic';
  else return;
  const port = Number(proto.value);
  if (!Number.isInteger(port) || port <= 0 || port > 65535) return;
  return { family: host.code === CODE_IP4 ? 4 : 6, ip: host.value, kind, port };
}

const WILDCARD = new Set(['0.0.0.0', '::']);

/**
 * The entries that advertise these listen addresses: per family the tcp and quic-v1 port (the lowest, if several)
 * (for announced transports), `tcp6`/`quic6` only when they differ from `tcp`/`quic`, and the IP
 * of a family only when its addresses name exactly one, specific (not wildcard) IP: a node that
 * listens on every interface leaves its record's IP to discv5 (its bind address, or what peers see).
 */
export function listenEntries(addrs: readonly Multiaddr[], announce: Announce): ListenEntries {
  const fam: Record<4 | 6, Listening> = {
    4: { ips: new Set(), tcp: undefined, quic: undefined },
    6: { ips: new Set(), tcp: undefined, quic: undefined },
  };
  for (const ma of addrs) {
    const a = parse(ma);
    if (a === undefined || !announce[a.kind]) continue;
    const f = fam[a.family];
    f.ips.add(a.ip);
    // The lowest port of several: the same answer whatever order libp2p lists them in.
    f[a.kind] = Math.min(f[a.kind] ?? a.port, a.port);
  }
  const out: ListenEntries = {};
  const ip4 = soleIp(fam[4].ips);
  const ip6 = soleIp(fam[6].ips);
  if (ip4 !== undefined) out.ip = ip4;
  if (ip6 !== undefined) out.ip6 = ip6;
  if (fam[4].tcp !== undefined) out.tcp = fam[4].tcp;
  if (fam[4].quic !== undefined) out.quic = fam[4].quic;
  if (fam[6].tcp !== undefined && fam[6].tcp !== fam[4].tcp) out.tcp6 = fam[6].tcp;
  if (fam[6].quic !== undefined && fam[6].quic !== fam[4].quic) out.quic6 = fam[6].quic;
  return out;
}

function soleIp(ips: Set<string>): string | undefined {
  if (ips.size !== 1) return undefined;
  const [ip] = ips as Iterable<string>;
  return ip === undefined || WILDCARD.has(ip) ? undefined : ip;
}

/**
 * The update that makes `record` advertise `wanted`, or undefined if it already does. Keys in
 * `pinned` (set by the app) are left alone; a port the record holds but `wanted` lacks is removed
 * only if it is in `owned` (published by us earlier); an IP is never removed (discv5 uses it too).
 * An IP set where the record has no UDP port for that family gets the port discv5 is `bound` to
 * (a wildcard socket, or one on that IP): a record with an IP but no UDP port cannot be reached.
 */
export function recordChanges(
  record: Enr,
  wanted: ListenEntries,
  owned: ReadonlySet<string>,
  pinned: ReadonlySet<string>,
  bound: readonly { ip: string; port: number; family: 4 | 6 }[] = [],
): EnrEntries | undefined {
  const changes: Record<string, string | number | null> = {};
  let any = false;
  for (const key of LISTEN_KEYS) {
    if (pinned.has(key)) continue;
    const want = wanted[key];
    if (want === undefined) {
      if (key !== 'ip' && key !== 'ip6' && owned.has(key) && record.has(key)) {
        changes[key] = null;
        any = true;
      }
    } else if (!holds(record, key, want)) {
      changes[key] = want;
      any = true;
    }
  }
  for (const family of [4, 6] as const) {
    const ip = changes[family === 4 ? 'ip' : 'ip6'];
    const udp = family === 4 ? 'udp' : 'udp6';
    if (typeof ip !== 'string' || record.has(udp) || pinned.has(udp)) continue;
    const socket = bound.find((b) => b.family === family && (WILDCARD.has(b.ip) || b.ip === ip));
    if (socket !== undefined && !(family === 6 && record.udp === socket.port)) changes[udp] = socket.port;
  }
  return any ? (changes as EnrEntries) : undefined;
}

function holds(record: Enr, key: ListenKey, want: string | number): boolean {
  if (key === 'ip' || key === 'ip6') {
    const have = record.get(key);
    const bytes = key === 'ip' ? parseIPv4(String(want)) : parseIPv6(String(want));
    return have !== undefined && bytes !== null && bytesEqual(have, bytes);
  }
  return record[key] === want;
}
