/** Packet constants (spec §3, §11). */
export const FLAG_MESSAGE = 0;
export const FLAG_WHOAREYOU = 1;
export const FLAG_HANDSHAKE = 2;
export const PROTOCOL_VERSION = 1;
/** src-id */
export const MESSAGE_AUTHDATA_SIZE = 32;
/** id-nonce (16) ‖ enr-seq (8) */
export const WHOAREYOU_AUTHDATA_SIZE = 24;
export const ID_NONCE_SIZE = 16;
/** src-id (32) ‖ sig-size (1) ‖ eph-key-size (1) */
export const HANDSHAKE_AUTHDATA_HEAD = 34;
export const V4_SIG_SIZE = 64;
export const V4_EPH_KEY_SIZE = 33;
/** Random bytes sent in place of a message to a node we have no session with (geth uses 20). */
export const RANDOM_MESSAGE_SIZE = 20;
/** An ordinary packet carries at least a GCM tag. */
export const MIN_MESSAGE_SIZE = 16;
