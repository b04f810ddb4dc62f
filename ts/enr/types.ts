/** Shapes shared by the ENR modules. */

/** One key/value pair as it stands in the record. */
export interface EnrPair {
  /** The key's bytes as a latin1 string (keys are ASCII in practice; any byte survives the round trip). */
  key: string;
  /** The value's RLP encoding, exactly as signed. */
  raw: Uint8Array;
  /** The payload of a byte-string value; for a list value, its RLP encoding. */
  value: Uint8Array;
  isList: boolean;
}

/** Everything a decoded or freshly signed record is made of. */
export interface EnrParts {
  seq: bigint;
  signature: Uint8Array;
  /** The 33-byte `secp256k1` value. */
  publicKey: Uint8Array;
  /** Pairs in key order. */
  pairs: Map<string, EnrPair>;
  /** The whole record, RLP. */
  encoded: Uint8Array;
  /** RLP of [seq, k1, v1, ...]: what the signature covers. */
  content: Uint8Array;
}

export interface Endpoint {
  ip: string;
  port: number;
}

/** ENRForkID (phase0): the `eth2` entry. */
export interface Eth2Value {
  forkDigest: Uint8Array;
  nextForkVersion: Uint8Array;
  nextForkEpoch: bigint;
}

/** EIP-2124 fork id: the execution layer's `eth` entry. */
export interface EthForkId {
  forkHash: Uint8Array;
  forkNext: bigint;
}
