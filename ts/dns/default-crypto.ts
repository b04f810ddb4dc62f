/** The crypto that DNS calls use when none is given: `createCrypto()` of the main entry, made once. */
import type { Crypto } from '../crypto/crypto.js';
import { createCrypto } from '../index.js';

let fallback: Crypto | undefined;

export function defaultCrypto(): Crypto {
  fallback ??= createCrypto();
  return fallback;
}
