/**
 * A record as JSON: the field names of `discv5 enr decode --json`, the crawler's NDJSON and
 * `discv5 findnode --json`. Typed entries that are malformed are written raw, and named in
 * `invalidKeys`.
 */
import { toHex } from '../util/bytes.js';
import { type Enr, TYPED_KEYS } from './enr.js';

/** Keys with a field of their own; any other key goes under `other`, raw. */
const KNOWN = new Set(['id', 'secp256k1', 'ip', 'ip6', 'tcp', 'udp', 'tcp6', 'udp6', 'quic', 'quic6', ...TYPED_KEYS]);

const hexOf = (bytes: Uint8Array | undefined) => (bytes === undefined ? undefined : toHex(bytes));

export function enrJson(enr: Enr): Record<string, unknown> {
  const out: Record<string, unknown> = {
    nodeId: enr.nodeIdHex,
    seq: enr.seq.toString(),
    publicKey: toHex(enr.publicKey),
  };
  for (const k of ['ip', 'udp', 'tcp', 'quic', 'ip6', 'udp6', 'tcp6', 'quic6'] as const)
    if (enr[k] !== undefined) out[k] = enr[k];
  const eth2 = enr.eth2;
  const eth = enr.eth;
  const typed: Record<string, unknown> = {
    eth2: eth2 && {
      forkDigest: toHex(eth2.forkDigest),
      nextForkVersion: toHex(eth2.nextForkVersion),
      nextForkEpoch: eth2.nextForkEpoch.toString(),
    },
    attnets: hexOf(enr.attnets?.bytes),
    syncnets: hexOf(enr.syncnets?.bytes),
    cgc: enr.cgc,
    nfd: hexOf(enr.nfd),
    eth: eth && { forkHash: toHex(eth.forkHash), forkNext: eth.forkNext.toString() },
  };
  const invalid = enr.invalidKeys();
  for (const key of TYPED_KEYS) {
    if (!enr.has(key)) continue;
    out[key] = invalid.includes(key) ? { raw: toHex(enr.getRaw(key) as Uint8Array) } : typed[key];
  }
  if (invalid.length > 0) out.invalidKeys = invalid;
  const unknown = enr.keys().filter((k) => !KNOWN.has(k));
  if (unknown.length > 0) out.other = Object.fromEntries(unknown.map((k) => [k, toHex(enr.getRaw(k) as Uint8Array)]));
  return out;
}
