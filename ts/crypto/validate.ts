/** Argument checks done once, before either backend runs, so both fail identically. */
import { Discv5Error, ErrorCode } from '../util/errors.js';
import {
  COMPRESSED_PUBLIC_KEY_SIZE,
  CURVE_ORDER,
  PRIVATE_KEY_SIZE,
  UNCOMPRESSED_PUBLIC_KEY_SIZE,
} from './constants.js';

export function assertBytes(value: unknown, name: string, length?: number): asserts value is Uint8Array {
  if (!(value instanceof Uint8Array)) {
    throw new Discv5Error(ErrorCode.INVALID_TYPE, `${name} must be a Uint8Array`);
  }
  if (length !== undefined && value.length !== length) {
    throw new Discv5Error(ErrorCode.INVALID_LENGTH, `${name} must be ${length} bytes, got ${value.length}`);
  }
}

/** 0 < key < n, compared as big-endian bytes (no bigint on the hot path). */
export function isValidPrivateKey(key: Uint8Array): boolean {
  if (key.length !== PRIVATE_KEY_SIZE) return false;
  let nonZero = false;
  let cmp = 0; // sign of key - n, decided by the first differing byte
  for (let i = 0; i < PRIVATE_KEY_SIZE; i++) {
    const b = key[i] as number;
    if (b !== 0) nonZero = true;
    if (cmp === 0 && b !== CURVE_ORDER[i]) cmp = b < (CURVE_ORDER[i] as number) ? -1 : 1;
  }
  return nonZero && cmp < 0;
}

export function assertPrivateKey(value: unknown, name = 'private key'): asserts value is Uint8Array {
  assertBytes(value, name, PRIVATE_KEY_SIZE);
  if (!isValidPrivateKey(value)) {
    throw new Discv5Error(ErrorCode.INVALID_PRIVATE_KEY, `${name} is not a valid secp256k1 scalar`);
  }
}

/**
 * A public key has the length and prefix of a SEC1 encoding (02/03 + 32 bytes, or 04 + 64 bytes).
 * Whether the point is on the curve is the backend's job and comes back as null/false; this check
 * only makes both backends refuse the same encodings (libsecp256k1 would take hybrid 06/07).
 */
export function isPublicKeyEncoding(key: Uint8Array): boolean {
  return (
    (key.length === COMPRESSED_PUBLIC_KEY_SIZE && (key[0] === 2 || key[0] === 3)) ||
    (key.length === UNCOMPRESSED_PUBLIC_KEY_SIZE && key[0] === 4)
  );
}
