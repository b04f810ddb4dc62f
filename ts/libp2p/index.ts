/**
 * discv5-native/libp2p: discv5 as a js-libp2p (v3) peer-discovery service.
 *
 * ```ts
 * import { generateKeyPair } from '@libp2p/crypto/keys';
 * import { discv5PeerDiscovery } from 'discv5-native/libp2p';
 *
 * const node = await createLibp2p({
 *   privateKey: await generateKeyPair('secp256k1'), // discv5 signs its record with libp2p's key
 *   services: { discovery: discv5PeerDiscovery({ bootnodes: ['enr:-...'] }) },
 *   // ...transports, encrypters, muxers
 * });
 * node.addEventListener('peer:discovery', (evt) => void node.dial(evt.detail.id).catch(() => {}));
 * ```
 *
 * Needs the optional peer dependencies @libp2p/interface, @libp2p/peer-id, @libp2p/crypto and
 * @multiformats/multiaddr (which js-libp2p itself brings).
 */
import type { Discv5DiscoveryComponents, Discv5PeerDiscoveryInit } from './discovery.js';
import { Discv5PeerDiscovery } from './discovery.js';

export type { Announce, ListenEntries } from './addresses.js';
export { listenEntries, recordMultiaddrs } from './addresses.js';
export type { Discv5DiscoveryComponents, Discv5PeerDiscoveryInit } from './discovery.js';
export { Discv5PeerDiscovery } from './discovery.js';

/** The service factory for libp2p's `services`: `{ discovery: discv5PeerDiscovery({ ... }) }`. */
export function discv5PeerDiscovery(
  init: Discv5PeerDiscoveryInit = {},
): (components: Discv5DiscoveryComponents) => Discv5PeerDiscovery {
  return (components) => new Discv5PeerDiscovery(components, init);
}
