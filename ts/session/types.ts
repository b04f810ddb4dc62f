/** Who a session is with, and what the session layer tells the layers above. */
import type { Enr } from '../enr/enr.js';
import type { Message } from '../message/types.js';
import type { SocketAddress } from '../transport/types.js';

/** A node at an endpoint. Sessions are bound to the pair (spec §5). */
export interface NodeAddress {
  nodeId: Uint8Array;
  socket: SocketAddress;
}

/** What it takes to start a handshake with a node: its id, key and endpoint. */
export interface NodeContact extends NodeAddress {
  /** 33-byte compressed secp256k1 key. */
  publicKey: Uint8Array;
  /** The node's record, when we hold one. */
  enr?: Enr;
}

export interface InboundMessage {
  from: NodeAddress;
  message: Message;
  /** The sender's record, if the session layer knows it (from a handshake or the lookup). */
  enr: Enr | undefined;
}

export interface SessionEvents {
  message: (m: InboundMessage) => void;
  /** A handshake completed; `inbound` when the peer started it. */
  established: (peer: NodeAddress, enr: Enr | undefined, inbound: boolean) => void;
  /** A session reached its TTL and was dropped (the next packet makes a new handshake). */
  expired: (peer: NodeAddress) => void;
  /** A handshake could not be started or completed with this peer (the requests waiting on it are dropped). */
  handshakeFailed: (peer: NodeAddress, reason: string) => void;
}
