/** Map keys for endpoints and nonces: strings built once from bytes, cheap to compare. */
import { addressKey } from '../transport/address.js';
import type { SocketAddress } from '../transport/types.js';
import { bytesKey } from '../util/bytes.js';

export { bytesKey };

/** (node id, ip, port): sessions and challenges are per endpoint. */
export function endpointKey(nodeId: Uint8Array, socket: SocketAddress): string {
  return `${bytesKey(nodeId)}${addressKey(socket)}`;
}
