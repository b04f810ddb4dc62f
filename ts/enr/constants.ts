/** EIP-778 and consensus-layer constants (spec §10). */
export const MAX_RECORD_SIZE = 300;
export const ENR_PREFIX = 'enr:';
export const ID_SCHEME_V4 = 'v4';
export const FAR_FUTURE_EPOCH = 0xffff_ffff_ffff_ffffn;
export const MAX_SEQ = 0xffff_ffff_ffff_ffffn;

/** Keys whose values the decoder checks (EIP-778 and libp2p's quic/quic6). */
export const PORT_KEYS = ['tcp', 'udp', 'tcp6', 'udp6', 'quic', 'quic6'] as const;
export type PortKey = (typeof PORT_KEYS)[number];

export const ETH2_SIZE = 16;
export const ATTNETS_SIZE = 8; // Bitvector[64]
export const SYNCNETS_SIZE = 1; // Bitvector[4]
export const FORK_DIGEST_SIZE = 4;
