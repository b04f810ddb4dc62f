/**
 * Discovery v4 messages (devp2p discv4.md; EIP-868 for ENR sequence numbers and the record
 * request). Public keys are the 64-byte X ‖ Y form the wire carries; node ids (keccak256 of that)
 * come from decoding a packet. Expirations are absolute UNIX times in seconds.
 */

export const PacketType = {
  PING: 1,
  PONG: 2,
  FINDNODE: 3,
  NEIGHBORS: 4,
  ENR_REQUEST: 5,
  ENR_RESPONSE: 6,
} as const;

export type PacketType = (typeof PacketType)[keyof typeof PacketType];

/** An endpoint as PING and PONG carry it: [ip, udp-port, tcp-port]. */
export interface Endpoint {
  /**
   * Textual IP (an IPv4-mapped IPv6 address reads as IPv4). Null when the sender left it empty
   * (go-ethereum does while it does not know its own address) or wrote other than 4 or 16 bytes:
   * these fields only inform, so a strange one does not cost the packet. Null encodes as empty.
   */
  ip: string | null;
  udp: number;
  tcp: number;
}

/** One entry of NEIGHBORS: [ip, udp-port, tcp-port, node-key]. Strict: the receiver may dial it. */
export interface NeighborNode {
  /** Textual IPv4 or IPv6 address (4 or 16 bytes on the wire). */
  ip: string;
  udp: number;
  tcp: number;
  /** 64 bytes, X ‖ Y. */
  publicKey: Uint8Array;
}

export interface PingMessage {
  type: typeof PacketType.PING;
  /** 4 when we send; whatever the sender wrote when received (not validated, per EIP-8). */
  version: number;
  from: Endpoint;
  to: Endpoint;
  expiration: number;
  /** The sender's record sequence number (EIP-868), when present. */
  enrSeq?: bigint;
}

export interface PongMessage {
  type: typeof PacketType.PONG;
  /** The endpoint the ping came from, as the replier saw it. */
  to: Endpoint;
  /** The hash of the PING this answers. */
  pingHash: Uint8Array;
  expiration: number;
  enrSeq?: bigint;
}

export interface FindNodeMessage {
  type: typeof PacketType.FINDNODE;
  /** A 64-byte public key; the answer holds the nodes closest to keccak256(target). */
  target: Uint8Array;
  expiration: number;
}

export interface NeighborsMessage {
  type: typeof PacketType.NEIGHBORS;
  nodes: NeighborNode[];
  expiration: number;
}

export interface EnrRequestMessage {
  type: typeof PacketType.ENR_REQUEST;
  expiration: number;
}

export interface EnrResponseMessage {
  type: typeof PacketType.ENR_RESPONSE;
  /** The hash of the ENRREQUEST this answers. */
  requestHash: Uint8Array;
  /** The record's RLP (a list of at most 300 bytes), not yet decoded or verified. */
  record: Uint8Array;
}

export type Discv4Message =
  | PingMessage
  | PongMessage
  | FindNodeMessage
  | NeighborsMessage
  | EnrRequestMessage
  | EnrResponseMessage;

/** Why a packet-data did not decode. */
export type MessageDropReason = 'unknown-type' | 'bad-rlp' | 'bad-field';

/** Why an inbound datagram was refused. */
export type Discv4DropReason =
  /** Under 98 bytes: no room for hash, signature and type. */
  | 'too-small'
  /** Over 1280 bytes. */
  | 'too-large'
  /** The hash does not match: not a discv4 packet (perhaps another protocol on the same port). */
  | 'bad-hash'
  /** The hash matches but no key can be recovered from the signature. */
  | 'bad-signature'
  | MessageDropReason
  /** Its expiration lies in the past. */
  | 'expired'
  /** Its expiration lies further ahead than allowed (see MAX_EXPIRATION_AHEAD_SECONDS). */
  | 'future-expiration';

/** A packet that decoded and verified. */
export interface DecodedPacket {
  message: Discv4Message;
  /** The signer's key, 64 bytes X ‖ Y, recovered from the signature. */
  publicKey: Uint8Array;
  /** keccak256(publicKey). */
  nodeId: Uint8Array;
  /** The packet's hash: what a PONG or ENRRESPONSE to it must echo. */
  hash: Uint8Array;
}

export interface DecodeFailure {
  error: Discv4DropReason;
}

export interface EncodedPacket {
  packet: Uint8Array;
  /** packet[0..32]: kept to match the PONG or ENRRESPONSE that answers it. */
  hash: Uint8Array;
}

export interface DecodeOptions {
  /** How far ahead of now an expiration may lie, in seconds (default MAX_EXPIRATION_AHEAD_SECONDS). */
  maxAheadSeconds?: number;
}
