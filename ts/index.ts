/**
 * discv5-native: Ethereum's Node Discovery Protocol v5.1 with a Rust hot path.
 * This entry point uses the native addon when it loads (see `discv5-native/js` for the pure-JS build).
 */
export * from './public.js';

import { bindApi } from './api.js';
import { type BackendOptions, type Crypto, createCryptoWith } from './crypto/crypto.js';
import { loadNativeBackend } from './crypto/native.js';
import type { BackendChoice } from './crypto/types.js';
import { Discv5 as Discv5Core } from './service/discv5.js';

/**
 * A validated handle on the hot-path cryptography, on the backend chosen by `options.backend`,
 * else `DISCV5_BACKEND`, else `auto` (native if the addon loads, otherwise js).
 * Asking for `native` where it cannot load throws `ERR_BACKEND_UNAVAILABLE`.
 */
export function createCrypto(options: BackendOptions = {}): Crypto {
  return createCryptoWith(options, loadNativeBackend);
}

const api = bindApi(createCrypto);

/** A discovery node (see Discv5Options); `Discv5.create({ privateKey, bind })`, then `start()`. */
export class Discv5 extends Discv5Core {
  protected static override defaultCrypto(backend: BackendChoice | undefined): Crypto {
    return createCrypto(backend === undefined ? {} : { backend });
  }
}

/** Decodes and verifies a record from its `enr:` text or RLP bytes (throws Discv5Error ERR_ENR_*). */
export const decodeEnr = api.decodeEnr;
/** Creates and signs a "v4" record. */
export const createEnr = api.createEnr;
