/**
 * discv5-native/js: the same API as `discv5-native`, built only on the pure-JavaScript backend.
 * It never loads the native addon: use it in bundles, or to measure the JS baseline.
 */
export * from './public.js';

import { bindApi } from './api.js';
import { type BackendOptions, type Crypto, createCryptoWith } from './crypto/crypto.js';
import type { BackendChoice } from './crypto/types.js';
import { Discv5 as Discv5Core } from './service/discv5.js';

/** Like `createCrypto` from `discv5-native`, but `auto` always means js and `native` throws. */
export function createCrypto(options: BackendOptions = {}): Crypto {
  return createCryptoWith(options, undefined);
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
