/**
 * For libp2p users: the multiaddrs a record advertises and the peer id of its key.
 *
 * Peer id (libp2p peer-ids spec): the identity multihash of the protobuf-encoded public key
 * { Type: Secp256k1 (2), Data: 33-byte compressed key }, written in base58btc.
 */
import type { Enr } from './enr.js';

export interface EnrMultiaddr {
  /** udp: the discv5 port; tcp and quic: libp2p transports. */
  transport: 'udp' | 'tcp' | 'quic';
  family: 4 | 6;
  multiaddr: string;
}

const BASE58 = '123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz';

export function base58btc(bytes: Uint8Array): string {
  let zeros = 0;
  while (zeros < bytes.length && bytes[zeros] === 0) zeros++;
  let n = 0n;
  for (const b of bytes) n = (n << 8n) | BigInt(b);
  let out = '';
  while (n > 0n) {
    out = BASE58[Number(n % 58n)] + out;
    n /= 58n;
  }
  return '1'.repeat(zeros) + out;
}

/** The libp2p peer id of a secp256k1 public key (33 bytes, compressed), as bytes. */
export function peerIdBytes(publicKey: Uint8Array): Uint8Array {
  const protobuf = Uint8Array.of(0x08, 0x02, 0x12, publicKey.length, ...publicKey);
  return Uint8Array.of(0x00, protobuf.length, ...protobuf); // identity multihash
}

/** The libp2p peer id of a secp256k1 public key, as text ("16Uiu2...") */
export function peerIdOf(publicKey: Uint8Array): string {
  return base58btc(peerIdBytes(publicKey));
}

/** Every udp, tcp and quic address of the record, IPv4 first; `withPeerId` appends /p2p/<id>. */
export function multiaddrsOf(enr: Enr, options: { withPeerId?: boolean } = {}): EnrMultiaddr[] {
  const suffix = options.withPeerId ? `/p2p/${peerIdOf(enr.publicKey)}` : '';
  const out: EnrMultiaddr[] = [];
  for (const family of [4, 6] as const) {
    for (const transport of ['udp', 'tcp', 'quic'] as const) {
      const ep = family === 4 ? enr.endpoint4(transport) : enr.endpoint6(transport);
      if (ep === undefined) continue;
      const base = `/ip${family}/${ep.ip}/${transport === 'tcp' ? 'tcp' : 'udp'}/${ep.port}`;
      out.push({ transport, family, multiaddr: `${base}${transport === 'quic' ? '/quic-v1' : ''}${suffix}` });
    }
  }
  return out;
}
