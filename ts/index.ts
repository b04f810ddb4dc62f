/**
 * discv5-native: Ethereum's Node Discovery Protocol v5.1 with a Rust hot path.
 * This entry point uses the native addon when it loads (see `discv5-native/js` for the pure-JS build).
 */
import { bindApi } from './api.js';
import { type BackendOptions, type Crypto, createCryptoWith } from './crypto/crypto.js';
import { loadNativeBackend } from './crypto/native.js';
import type { BackendChoice } from './crypto/types.js';
import { Discv5 as Discv5Core } from './service/discv5.js';

export type { WithCrypto } from './api.js';
export type { BackendOptions, EnrSignatureItem, HandshakeInitiation, SessionKeys } from './crypto/crypto.js';
export { Crypto } from './crypto/crypto.js';
export type { BackendChoice, BackendName } from './crypto/types.js';
export type { EnrDecoderOptions } from './enr/batch.js';
export { EnrDecoder } from './enr/batch.js';
export { Bitvector, decodeEth, decodeEth2, encodeEth, encodeEth2 } from './enr/consensus.js';
export { FAR_FUTURE_EPOCH, MAX_RECORD_SIZE } from './enr/constants.js';
export type { EnrEntries } from './enr/create.js';
export type { DecodeOptions } from './enr/enr.js';
export { Enr } from './enr/enr.js';
export type { EnrMultiaddr } from './enr/multiaddr.js';
export { multiaddrsOf, peerIdOf } from './enr/multiaddr.js';
export type { Endpoint, EnrPair, Eth2Value, EthForkId } from './enr/types.js';
export type { LookupResult } from './query/lookup.js';
export type { RequestOptions } from './rpc/requests.js';
export type { Discv5Config } from './service/config.js';
export { DEFAULT_CONFIG } from './service/config.js';
export type { LookupCallOptions } from './service/discv5.js';
export type {
  BindAddress,
  Discv5Events,
  Discv5Options,
  PongResult,
  TableEntryInfo,
  TalkHandler,
} from './service/types.js';
export type { NodeAddress } from './session/types.js';
export type { MemoryNetworkOptions } from './transport/memory.js';
export { MemoryNetwork, MemoryTransport } from './transport/memory.js';
export type { SocketAddress, Transport } from './transport/types.js';
export type { UdpTransportOptions } from './transport/udp.js';
export { UdpTransport } from './transport/udp.js';
export { Discv5Error, ErrorCode } from './util/errors.js';

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
