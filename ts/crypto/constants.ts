/** Sizes fixed by discv5 v5.1 and the "v4" identity scheme (spec §1, §3, §11). */
export const PRIVATE_KEY_SIZE = 32;
export const COMPRESSED_PUBLIC_KEY_SIZE = 33;
export const UNCOMPRESSED_PUBLIC_KEY_SIZE = 65;
export const SIGNATURE_SIZE = 64;
export const NODE_ID_SIZE = 32;
export const DIGEST_SIZE = 32;
export const AES_KEY_SIZE = 16;
export const NONCE_SIZE = 12;
export const TAG_SIZE = 16;
export const MASKING_IV_SIZE = 16;
export const STATIC_HEADER_SIZE = 23;
/** masking-iv ‖ static header: where the authdata starts in a packet. */
export const HEADER_START = MASKING_IV_SIZE + STATIC_HEADER_SIZE;
export const MIN_PACKET_SIZE = 63;
export const MAX_PACKET_SIZE = 1280;
/** A WHOAREYOU packet, whole: its unmasked form is the handshake's challenge-data. */
export const CHALLENGE_DATA_SIZE = 63;
export const SESSION_KEYS_SIZE = 32;
/** keys (32) ‖ id-signature (64) ‖ ephemeral public key (33), as handshakeInitiate packs them. */
export const HANDSHAKE_INITIATE_SIZE = SESSION_KEYS_SIZE + SIGNATURE_SIZE + COMPRESSED_PUBLIC_KEY_SIZE;
export const PROTOCOL_ID = new Uint8Array([0x64, 0x69, 0x73, 0x63, 0x76, 0x35]); // "discv5"

/** The secp256k1 group order n, big-endian. */
export const CURVE_ORDER = new Uint8Array([
  0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xfe, 0xba, 0xae, 0xdc,
  0xe6, 0xaf, 0x48, 0xa0, 0x3b, 0xbf, 0xd2, 0x5e, 0x8c, 0xd0, 0x36, 0x41, 0x41,
]);
/** Bytes per record in enrVerifyBatch's packed result: a flag, then the node id. */
export const ENR_BATCH_ENTRY_SIZE = 1 + NODE_ID_SIZE;

/** Discovery v4 framing (devp2p discv4.md): hash (32) ‖ signature (65) ‖ packet-type (1) ‖ packet-data. */
export const DISCV4_HASH_SIZE = 32;
/** r ‖ s ‖ recovery id. */
export const DISCV4_SIGNATURE_SIZE = 65;
/** hash ‖ signature: where packet-type sits. */
export const DISCV4_HEAD_SIZE = DISCV4_HASH_SIZE + DISCV4_SIGNATURE_SIZE;
/** Where packet-data starts; also the smallest packet (empty packet-data). */
export const DISCV4_DATA_OFFSET = DISCV4_HEAD_SIZE + 1;
/** A discv4 node's key as the wire carries it: X ‖ Y, without the 0x04 prefix. */
export const DISCV4_PUBLIC_KEY_SIZE = 64;
/** discv4Unpack's packed result: hash (32) ‖ public key (64) ‖ node id (32) ‖ packet-type (1). */
export const DISCV4_UNPACKED_SIZE = DISCV4_HASH_SIZE + DISCV4_PUBLIC_KEY_SIZE + NODE_ID_SIZE + 1;
