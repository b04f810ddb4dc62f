/**
 * discv5-native/js: the same API as `discv5-native`, built only on the pure-JavaScript backend.
 * It never loads the native addon: use it in bundles, or to measure the JS baseline.
 */
import { type BackendOptions, type Crypto, createCryptoWith } from './crypto/crypto.js';

export type { BackendOptions, EnrSignatureItem, HandshakeInitiation, SessionKeys } from './crypto/crypto.js';
export { Crypto } from './crypto/crypto.js';
export type { BackendChoice, BackendName } from './crypto/types.js';
export { Discv5Error, ErrorCode } from './util/errors.js';

/** Like `createCrypto` from `discv5-native`, but `auto` always means js and `native` throws. */
export function createCrypto(options: BackendOptions = {}): Crypto {
  return createCryptoWith(options, undefined);
}
