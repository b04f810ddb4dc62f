/**
 * Strict base64url as ENR text uses it: the URL-safe alphabet, no `=` padding, no length of the
 * form 4n+1, and unused trailing bits zero (so that each record has exactly one text form).
 */
const ALPHABET = /^[A-Za-z0-9_-]*$/;

/** Decoded bytes, or null when `text` is not canonical unpadded base64url. */
export function decodeBase64url(text: string): Uint8Array | null {
  if (text.length % 4 === 1 || !ALPHABET.test(text)) return null;
  const bytes = Buffer.from(text, 'base64url');
  // Node's decoder ignores non-zero trailing bits; the canonical form must round-trip.
  if (bytes.toString('base64url') !== text) return null;
  return new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

export function encodeBase64url(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64url');
}
