/** Discovery v4 constants (devp2p discv4.md, EIP-8, EIP-868). */
import { DISCV4_DATA_OFFSET, DISCV4_HASH_SIZE, DISCV4_PUBLIC_KEY_SIZE, MAX_PACKET_SIZE } from '../crypto/constants.js';

export { MAX_PACKET_SIZE };
/** hash (32) ‖ signature (65) ‖ packet-type (1): where packet-data starts; also the smallest packet. */
export const DATA_OFFSET = DISCV4_DATA_OFFSET;
/** A packet hash, as PONG's ping-hash and ENRRESPONSE's request-hash echo it. */
export const HASH_SIZE = DISCV4_HASH_SIZE;
/** A node's key as discv4 writes it: X ‖ Y, no 0x04 prefix (FINDNODE's target, NEIGHBORS' node ids). */
export const NODE_KEY_SIZE = DISCV4_PUBLIC_KEY_SIZE;
/** The version a PING carries. Any other is accepted on receipt (EIP-8: the version is not validated). */
export const PING_VERSION = 4;
/** EIP-778: a node record is at most 300 bytes. */
export const MAX_RECORD_SIZE = 300;
/**
 * Outbound packets expire this many seconds after they are made: go-ethereum's window (its
 * `expiration`), which other clients' clocks are used to.
 */
export const EXPIRATION_SECONDS = 20;
/**
 * Inbound packets whose expiration lies further ahead than this are refused ('future-expiration').
 * go-ethereum sets no such bound; a packet that stays valid for hours can be replayed for hours,
 * so this one allows the longest window senders use in practice (20 s for geth, erigon and reth;
 * up to 60 s elsewhere) plus a minute for a sender whose clock runs ahead of ours. Pass
 * `maxAheadSeconds: Infinity` to decodePacket to accept any expiration, as geth does.
 */
export const MAX_EXPIRATION_AHEAD_SECONDS = 120;
/**
 * Nodes per NEIGHBORS packet: the most that fit in 1280 bytes in the worst case (every node
 * IPv6 with 2-byte ports, an 8-byte expiration) is 12, as go-ethereum's MaxNeighbors; see
 * neighbors.ts, which computes it, and the spec that checks it.
 */
export const NEIGHBORS_MAX_NODES = 12;
