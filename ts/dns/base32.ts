/**
 * RFC 4648 base32 as EIP-1459 uses it: the upper-case alphabet, no padding, and (on decoding)
 * only the canonical form: a length that whole bytes can have and unused trailing bits zero, so
 * that each byte string has exactly one name.
 */
const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
const VALUES = new Map<string, number>([...ALPHABET].map((ch, i) => [ch, i]));

export function encodeBase32(bytes: Uint8Array): string {
  let out = '';
  let value = 0;
  let bits = 0;
  for (const byte of bytes) {
    value = (value << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      bits -= 5;
      out += ALPHABET[(value >>> bits) & 31];
    }
    value &= (1 << bits) - 1;
  }
  if (bits > 0) out += ALPHABET[(value << (5 - bits)) & 31];
  return out;
}

/** Decoded bytes, or null when `text` is not canonical unpadded upper-case base32. */
export function decodeBase32(text: string): Uint8Array | null {
  const rest = text.length % 8;
  if (rest === 1 || rest === 3 || rest === 6) return null;
  const out = new Uint8Array(Math.floor((text.length * 5) / 8));
  let value = 0;
  let bits = 0;
  let at = 0;
  for (const ch of text) {
    const v = VALUES.get(ch);
    if (v === undefined) return null;
    value = (value << 5) | v;
    bits += 5;
    if (bits >= 8) {
      bits -= 8;
      out[at++] = (value >>> bits) & 0xff;
    }
    value &= (1 << bits) - 1;
  }
  return value === 0 ? out : null;
}
