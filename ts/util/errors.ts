/**
 * Every error this library throws on misuse is a `Discv5Error` with a stable `code`.
 * Expected failures (a bad tag, a bad signature, a malformed packet from the network) are never
 * thrown: they come back as `null` / `false` and are counted by the layer that saw them.
 */
export const ErrorCode = {
  /** An argument is not a Uint8Array (or not the expected type). */
  INVALID_TYPE: 'ERR_INVALID_TYPE',
  /** A byte argument has the wrong length. */
  INVALID_LENGTH: 'ERR_INVALID_LENGTH',
  /** A private key is zero or not below the secp256k1 group order. */
  INVALID_PRIVATE_KEY: 'ERR_INVALID_PRIVATE_KEY',
  /** An argument is out of its allowed range. */
  INVALID_ARGUMENT: 'ERR_INVALID_ARGUMENT',
  /** The requested crypto backend name is unknown. */
  INVALID_BACKEND: 'ERR_INVALID_BACKEND',
  /** The requested crypto backend cannot be loaded on this platform. */
  BACKEND_UNAVAILABLE: 'ERR_BACKEND_UNAVAILABLE',
  /** The operating system's random source failed. */
  RANDOMNESS: 'ERR_RANDOMNESS',

  // Node records (EIP-778). The codes match those of the corpus in ../shared/corpus.
  /** The text form is not `enr:` + unpadded base64url. */
  ENR_BASE64: 'ERR_ENR_BASE64',
  /** The bytes are not one canonical RLP list of [signature, seq, k, v, ...]. */
  ENR_RLP: 'ERR_ENR_RLP',
  /** The record is over 300 bytes. */
  ENR_TOO_LARGE: 'ERR_ENR_TOO_LARGE',
  /** Keys are not in ascending byte order. */
  ENR_KEY_ORDER: 'ERR_ENR_KEY_ORDER',
  /** A key appears twice. */
  ENR_DUPLICATE_KEY: 'ERR_ENR_DUPLICATE_KEY',
  /** `id` is missing or names a scheme other than "v4". */
  ENR_ID: 'ERR_ENR_ID',
  /** `secp256k1` is missing or not a 33-byte compressed key encoding. */
  ENR_PUBLIC_KEY: 'ERR_ENR_PUBLIC_KEY',
  /** The signature does not verify against the record's key (or the key is not a curve point). */
  ENR_VERIFY: 'ERR_ENR_VERIFY',
  /** `seq` is not a minimal unsigned integer of at most 8 bytes. */
  ENR_SEQ: 'ERR_ENR_SEQ',
  /** `ip` is not 4 bytes or `ip6` not 16 bytes. */
  ENR_IP: 'ERR_ENR_IP',
  /** A port is not a minimal integer up to 65535. */
  ENR_PORT: 'ERR_ENR_PORT',
  /** A typed entry (eth2, attnets, syncnets, cgc, nfd, eth) is present but malformed, or a value to set is invalid. */
  ENR_VALUE: 'ERR_ENR_VALUE',

  // Requests to other nodes.
  /** No response within the timeout, after every retry. */
  REQUEST_TIMEOUT: 'ERR_REQUEST_TIMEOUT',
  /** The caller's AbortSignal fired. */
  ABORTED: 'ERR_ABORTED',
  /** The node was stopped while the request was under way. */
  STOPPED: 'ERR_STOPPED',
  /** The handshake with the peer could not be completed (e.g. its record's key is not a valid point). */
  HANDSHAKE_FAILED: 'ERR_HANDSHAKE_FAILED',
  /** Too many requests under way at once (see config.maxActiveRequests). */
  TOO_MANY_REQUESTS: 'ERR_TOO_MANY_REQUESTS',
  /** The record has no usable UDP endpoint to send to. */
  NO_ENDPOINT: 'ERR_NO_ENDPOINT',
  /** The node is not started (or already stopped). */
  NOT_STARTED: 'ERR_NOT_STARTED',
  /** An EIP-1459 tree's root is missing, malformed, or not signed by the key of its enrtree:// URL. */
  DNS_TREE: 'ERR_DNS_TREE',

  // The on-disk store (dataDir).
  /** No SQLite driver loads: run Node.js 22.13 or later (node:sqlite), or install better-sqlite3 on Node 20. */
  STORE_UNAVAILABLE: 'ERR_STORE_UNAVAILABLE',
  /** The store cannot be opened, read or written (directory not writable, disk full, in use by another process, closed). */
  STORE: 'ERR_STORE',
} as const;

export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

export class Discv5Error extends Error {
  readonly code: ErrorCode;

  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'Discv5Error';
    this.code = code;
  }
}
