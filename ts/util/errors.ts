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
