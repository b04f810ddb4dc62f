/** `discv5 enr decode` and `discv5 enr create`. */
import { createCrypto, Discv5Error, Enr } from '../../index.js';
import { toHex } from '../../util/bytes.js';
import { parseHex, parsePort, readKey, required, UsageError } from '../args.js';

const KNOWN = new Set([
  'id',
  'secp256k1',
  'ip',
  'ip6',
  'tcp',
  'udp',
  'tcp6',
  'udp6',
  'quic',
  'quic6',
  'eth2',
  'attnets',
  'syncnets',
  'cgc',
  'nfd',
  'eth',
]);

/** A record as JSON (the field names the crawler's output uses too); typed entries that fail to decode are left raw. */
export function enrJson(enr: Enr): Record<string, unknown> {
  const out: Record<string, unknown> = {
    nodeId: enr.nodeIdHex,
    seq: enr.seq.toString(),
    publicKey: toHex(enr.publicKey),
  };
  for (const k of ['ip', 'udp', 'tcp', 'quic', 'ip6', 'udp6', 'tcp6', 'quic6'] as const)
    if (enr[k] !== undefined) out[k] = enr[k];
  const typed: [string, () => unknown][] = [
    [
      'eth2',
      () => {
        const e = enr.eth2;
        return (
          e && {
            forkDigest: toHex(e.forkDigest),
            nextForkVersion: toHex(e.nextForkVersion),
            nextForkEpoch: e.nextForkEpoch.toString(),
          }
        );
      },
    ],
    ['attnets', () => enr.attnets && toHex(enr.attnets.bytes)],
    ['syncnets', () => enr.syncnets && toHex(enr.syncnets.bytes)],
    ['cgc', () => enr.cgc],
    ['nfd', () => enr.nfd && toHex(enr.nfd)],
    [
      'eth',
      () => {
        const e = enr.eth;
        return e && { forkHash: toHex(e.forkHash), forkNext: e.forkNext.toString() };
      },
    ],
  ];
  for (const [key, read] of typed) {
    if (!enr.has(key)) continue;
    try {
      out[key] = read();
    } catch {
      out[key] = { raw: toHex(enr.getRaw(key) as Uint8Array) };
    }
  }
  const unknown = enr.keys().filter((k) => !KNOWN.has(k));
  if (unknown.length > 0) out.other = Object.fromEntries(unknown.map((k) => [k, toHex(enr.getRaw(k) as Uint8Array)]));
  return out;
}

export function enrDecode(args: { positionals: string[]; json: boolean }): string {
  const text = required(args.positionals[0], 'the record (enr:...)');
  let enr: Enr;
  try {
    enr = Enr.decode(text, createCrypto());
  } catch (err) {
    if (err instanceof Discv5Error) throw new UsageError(`invalid record (${err.code}): ${err.message}`);
    throw err;
  }
  const fields = { ...enrJson(enr), signature: 'valid' };
  if (args.json) return JSON.stringify(fields);
  const lines = Object.entries(fields).map(
    ([k, v]) => `${k.padEnd(10)} ${typeof v === 'object' ? JSON.stringify(v) : v}`,
  );
  return lines.join('\n');
}

export function enrCreate(values: Record<string, string | boolean | undefined>): string {
  const key = readKey(required(values.key as string | undefined, '--key FILE'));
  const entries: Record<string, unknown> = {};
  if (values.ip) entries[(values.ip as string).includes(':') ? 'ip6' : 'ip'] = values.ip;
  if (values.udp)
    entries[(values.ip as string | undefined)?.includes(':') ? 'udp6' : 'udp'] = parsePort(
      values.udp as string,
      '--udp',
    );
  if (values.tcp)
    entries[(values.ip as string | undefined)?.includes(':') ? 'tcp6' : 'tcp'] = parsePort(
      values.tcp as string,
      '--tcp',
    );
  const other: Record<string, Uint8Array> = {};
  if (values.eth2) {
    const eth2 = parseHex(values.eth2 as string, '--eth2');
    if (eth2.length !== 16) throw new UsageError('--eth2 must be 16 bytes (ENRForkID)');
    other.eth2 = eth2;
  }
  if (values.seq !== undefined && !/^\d+$/.test(values.seq as string))
    throw new UsageError('--seq must be a non-negative integer');
  try {
    return Enr.create(key, { ...entries, other }, createCrypto(), values.seq ? BigInt(values.seq as string) : 1n).text;
  } catch (err) {
    if (err instanceof Discv5Error) throw new UsageError(`${err.code}: ${err.message}`);
    throw err;
  }
}
