/**
 * discv5-native: Ethereum's Node Discovery Protocol v5.1 with a Rust hot path.
 * This entry point uses the native addon when it loads (see `discv5-native/js` for the pure-JS build).
 */
import { type BackendOptions, type Crypto, createCryptoWith } from './crypto/crypto.js';
import { loadNativeBackend } from './crypto/native.js';

export type { BackendOptions, EnrSignatureItem, HandshakeInitiation, SessionKeys } from './crypto/crypto.js';
export { Crypto } from './crypto/crypto.js';
export type { BackendChoice, BackendName } from './crypto/types.js';
export { Discv5Error, ErrorCode } from './util/errors.js';

/**
 * A validated handle on the hot-path cryptography, on the backend chosen by `options.backend`,
 * else `DISCV5_BACKEND`, else `auto` (native if the addon loads, otherwise js).
 * Asking for `native` where it cannot load throws `ERR_BACKEND_UNAVAILABLE`.
 */
export function createCrypto(options: BackendOptions = {}): Crypto {
  return createCryptoWith(options, loadNativeBackend);
}
