/** Decoded packets, as the session layer sees them. */

export interface MessagePacket {
  flag: 0;
  nonce: Uint8Array;
  srcId: Uint8Array;
  /** masking-iv ‖ static-header ‖ authdata, unmasked: the GCM associated data. */
  header: Uint8Array;
  /** The whole datagram (the message follows the header). */
  datagram: Uint8Array;
}

export interface WhoareyouPacket {
  flag: 1;
  /** The nonce of the packet this WHOAREYOU answers. */
  nonce: Uint8Array;
  idNonce: Uint8Array;
  enrSeq: bigint;
  /** The whole WHOAREYOU, unmasked: the handshake's challenge-data. */
  challengeData: Uint8Array;
}

export interface HandshakePacket {
  flag: 2;
  nonce: Uint8Array;
  srcId: Uint8Array;
  idSignature: Uint8Array;
  ephemeralPublicKey: Uint8Array;
  /** The sender's record (RLP), if attached. */
  record: Uint8Array | null;
  header: Uint8Array;
  datagram: Uint8Array;
}

export type Packet = MessagePacket | WhoareyouPacket | HandshakePacket;

/** Why an inbound datagram was dropped before any session was looked at. */
export type PacketDropReason =
  | 'malformed-header'
  | 'bad-version'
  | 'bad-flag'
  | 'bad-authdata-size'
  | 'bad-message-size'
  | 'unsupported-identity-scheme';
