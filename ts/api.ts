/**
 * The convenience functions of an entry point, bound to that entry point's default crypto
 * (`discv5-native` may load the addon; `discv5-native/js` never does).
 */
import type { BackendOptions, Crypto } from './crypto/crypto.js';
import type { EnrEntries } from './enr/create.js';
import { type DecodeOptions, Enr } from './enr/enr.js';

export interface WithCrypto {
  /** The crypto to use; default: one created on first use with `createCrypto()`. */
  crypto?: Crypto;
}

export function bindApi(createCrypto: (options?: BackendOptions) => Crypto) {
  let fallback: Crypto | undefined;
  const cryptoOf = (options: WithCrypto): Crypto => {
    if (options.crypto !== undefined) return options.crypto;
    fallback ??= createCrypto();
    return fallback;
  };
  return {
    /** Decodes and verifies a record from its `enr:` text or RLP bytes. */
    decodeEnr(input: Uint8Array | string, options: DecodeOptions & WithCrypto = {}): Enr {
      return Enr.decode(input, cryptoOf(options), options);
    },
    /** Creates and signs a "v4" record (seq 1 unless given). */
    createEnr(privateKey: Uint8Array, entries: EnrEntries, options: WithCrypto & { seq?: bigint } = {}): Enr {
      return Enr.create(privateKey, entries, cryptoOf(options), options.seq ?? 1n);
    },
  };
}
