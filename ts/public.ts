/**
 * The public surface both entry points share (`discv5-native` and `discv5-native/js`). Nothing here
 * loads the native addon; each entry point adds what depends on its backend (createCrypto, Discv5,
 * decodeEnr, createEnr).
 */
export type { WithCrypto } from './api.js';
export type { BackendOptions, EnrSignatureItem, HandshakeInitiation, SessionKeys } from './crypto/crypto.js';
export { Crypto } from './crypto/crypto.js';
export type { BackendChoice, BackendName } from './crypto/types.js';
export { EXECUTION_BOOTNODES } from './discv4/bootnodes.js';
export type { Discv4Options } from './discv4/config.js';
export type { Discv4, Discv4Events, PongResult as Discv4Pong, V4Target } from './discv4/discv4.js';
export { type EnodeParts, formatEnode, parseEnode } from './discv4/enode.js';
export { V4Node } from './discv4/node.js';
export type { EnrDecoderOptions } from './enr/batch.js';
export { EnrDecoder } from './enr/batch.js';
export { Bitvector, decodeEth, decodeEth2, encodeEth, encodeEth2 } from './enr/consensus.js';
export { FAR_FUTURE_EPOCH, MAX_RECORD_SIZE } from './enr/constants.js';
export type { EnrEntries } from './enr/create.js';
export type { DecodeOptions } from './enr/enr.js';
export { Enr } from './enr/enr.js';
export { ethNetworkOf } from './enr/eth-networks.js';
export type { EnrMultiaddr } from './enr/multiaddr.js';
export { multiaddrsOf, peerIdOf } from './enr/multiaddr.js';
export type { Endpoint, EnrPair, Eth2Value, EthForkId } from './enr/types.js';
export type { MetricsServer, MetricsText } from './metrics/http.js';
export { serveMetrics } from './metrics/http.js';
export type { NodeMetricsSource } from './metrics/node-metrics.js';
export type { PromClientLike } from './metrics/prom-client.js';
export { fromPromClient } from './metrics/prom-client.js';
export type { PrometheusRegistryOptions } from './metrics/registry.js';
export { PrometheusRegistry } from './metrics/registry.js';
export type {
  Counter,
  Gauge,
  Histogram,
  HistogramOptions,
  Labels,
  MetricOptions,
  MetricsRegistry,
} from './metrics/types.js';
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
export type { StoreReport } from './store/types.js';
export type { MemoryNetworkOptions } from './transport/memory.js';
export { MemoryNetwork, MemoryTransport } from './transport/memory.js';
export type { SocketAddress, Transport } from './transport/types.js';
export type { UdpTransportOptions } from './transport/udp.js';
export { UdpTransport } from './transport/udp.js';
export { Discv5Error, ErrorCode } from './util/errors.js';
