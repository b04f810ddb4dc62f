/** Map keys for endpoints and nonces: strings built once from bytes, cheap to compare. */
import { addressKey } from '../transport/address.js';
import type { SocketAddress } from '../transport/types.js';

const latin1 = new TextDecoder('latin1');

/** The node id as a 32-char latin1 string. */
export function idKey(nodeId: Uint8Array): string {
  return latin1.decode(nodeId);
}

/** (node id, ip, port): sessions and challenges are per endpoint. */
export function endpointKey(nodeId: Uint8Array, socket: SocketAddress): string {
  return `${latin1.decode(nodeId)}${addressKey(socket)}`;
}

export function bytesKey(bytes: Uint8Array): string {
  return latin1.decode(bytes);
}
