/**
 * The `client` entry (EIP-7636, since withdrawn but still seen): an RLP list
 * [name, version, (build)] of ASCII byte strings. Anyone can sign any value, so the text is
 * treated as hostile: only printable ASCII survives, each part is capped, and a malformed entry
 * reads as absent.
 */
import { decode as rlpDecode } from '../rlp/rlp.js';

/** Longest part kept, in characters; longer ones are cut. */
export const CLIENT_PART_MAX = 64;

export interface ClientInfo {
  name: string;
  version: string;
  build?: string;
}

/** What the decoder needs of a record (an `Enr` fits). */
export interface RawEntries {
  /** The value's RLP encoding, exactly as signed. */
  getRaw(key: string): Uint8Array | undefined;
}

/** Printable ASCII (0x20-0x7e) only, without leading or trailing spaces, at most CLIENT_PART_MAX long. */
function clean(bytes: Uint8Array): string {
  let out = '';
  for (let i = 0; i < bytes.length && out.length < CLIENT_PART_MAX; i++) {
    const b = bytes[i] as number;
    if ((b > 0x20 && b <= 0x7e) || (b === 0x20 && out !== '')) out += String.fromCharCode(b);
  }
  return out.trimEnd();
}

/**
 * The record's `client` entry, or undefined when it is absent or malformed (not a list, not two or
 * three byte strings, or an empty name or version once cleaned). Never throws.
 */
export function clientInfoOf(enr: RawEntries): ClientInfo | undefined {
  let item: ReturnType<typeof rlpDecode>;
  try {
    const raw = enr.getRaw('client');
    if (raw === undefined) return undefined;
    item = rlpDecode(raw);
  } catch {
    // Malformed RLP (RlpError) from a record; from another RawEntries, whatever its getRaw threw.
    return undefined;
  }
  if (!Array.isArray(item) || item.length < 2 || item.length > 3) return undefined;
  const parts: string[] = [];
  for (const part of item) {
    if (!(part instanceof Uint8Array)) return undefined;
    parts.push(clean(part));
  }
  const [name, version, build] = parts as [string, string, string | undefined];
  if (name === '' || version === '') return undefined;
  return build === undefined || build === '' ? { name, version } : { name, version, build };
}

/** The `client` entry as text, `name/version` or `name/version/build` (e.g. "Lighthouse/v7.0.1"). */
export function clientOf(enr: RawEntries): string | undefined {
  const info = clientInfoOf(enr);
  if (info === undefined) return undefined;
  return info.build === undefined ? `${info.name}/${info.version}` : `${info.name}/${info.version}/${info.build}`;
}
