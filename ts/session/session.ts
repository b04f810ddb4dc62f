/**
 * One session's keys and nonce counter. Nonces are a 32-bit counter followed by 8 random bytes,
 * so no (key, nonce) pair repeats under AES-GCM (spec §5); the counter starts at 1 (as geth does).
 */
import type { Enr } from '../enr/enr.js';
import { fillRandom } from '../util/random.js';
import type { NodeAddress } from './types.js';

export class Session {
  readonly peer: NodeAddress;
  readonly writeKey: Uint8Array;
  readonly readKey: Uint8Array;
  /** The keys this session replaced, still accepted for reading until `fallbackUntil` (see Sessions). */
  fallbackReadKey: Uint8Array | undefined;
  fallbackUntil = 0;
  enr: Enr | undefined;
  readonly expiresAt: number;
  /**
   * Whether the peer has shown it holds the keys: true for sessions from an inbound handshake (its
   * message decrypted), false for ours until a message from the peer decrypts (spec §4.1 step 5).
   */
  proven: boolean;
  #counter = 0;

  constructor(
    peer: NodeAddress,
    writeKey: Uint8Array,
    readKey: Uint8Array,
    enr: Enr | undefined,
    expiresAt: number,
    proven = true,
  ) {
    this.peer = peer;
    this.writeKey = writeKey;
    this.readKey = readKey;
    this.enr = enr;
    this.expiresAt = expiresAt;
    this.proven = proven;
  }

  nextNonce(): Uint8Array {
    this.#counter = (this.#counter + 1) >>> 0;
    const nonce = new Uint8Array(12);
    new DataView(nonce.buffer).setUint32(0, this.#counter);
    fillRandom(nonce, 4, 8);
    return nonce;
  }
}
