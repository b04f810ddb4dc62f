/**
 * The initiator's side of the handshake (spec §4.1, §4.6).
 *
 * `Calls`: every packet we send that carries a request, keyed by its nonce, so that a WHOAREYOU
 * naming that nonce can be answered with the request inside a handshake. The rules, as go-ethereum
 * keeps them:
 * - a WHOAREYOU counts only while the request is still pending (`pending()`, from the request
 *   manager); calls whose request is no longer pending are deleted when seen, and swept from the
 *   old end of the map whenever a call is added, so their plaintexts are released;
 * - one handshake per call: a second WHOAREYOU with other challenge data is refused, and the same
 *   WHOAREYOU again (our handshake packet was lost) gets the same handshake bytes at most
 *   `MAX_HANDSHAKE_REPEATS` times.
 *
 * `Waiting`: requests to an endpoint made while its handshake is under way, held until the peer
 * proves it holds the new keys (its first message decrypts), then sent in the session (§4.6).
 */
import { addressKey } from '../transport/address.js';
import type { SocketAddress } from '../transport/types.js';
import { bytesEqual, bytesKey } from '../util/bytes.js';
import { LruMap } from '../util/lru.js';
import type { NodeContact } from './types.js';

/** How often one call's handshake packet is sent again for repeats of its WHOAREYOU. */
export const MAX_HANDSHAKE_REPEATS = 2;

/** Whether the request a packet carries still waits for its answer. */
export type PendingCheck = () => boolean;

export const ALWAYS_PENDING: PendingCheck = () => true;

export interface Call {
  readonly contact: NodeContact;
  /** The request's plaintext; released once the handshake packet carrying it is built. */
  plaintext: Uint8Array | undefined;
  readonly pending: PendingCheck;
  readonly expiresAt: number;
  /** Set once a WHOAREYOU was answered: its challenge data and the handshake packet we sent. */
  handshake: { challengeData: Uint8Array; packet: Uint8Array } | undefined;
  /** Times the handshake packet was sent again. */
  repeats: number;
}

export class Calls {
  readonly #map: LruMap<string, Call>;
  readonly #ttlMs: number;
  readonly #now: () => number;

  constructor(capacity: number, ttlMs: number, now: () => number) {
    this.#map = new LruMap(capacity);
    this.#ttlMs = ttlMs;
    this.#now = now;
  }

  get size(): number {
    return this.#map.size;
  }

  add(nonce: Uint8Array, contact: NodeContact, plaintext: Uint8Array, pending: PendingCheck): void {
    const now = this.#now();
    this.#sweep(now);
    const call: Call = { contact, plaintext, pending, expiresAt: now + this.#ttlMs, handshake: undefined, repeats: 0 };
    this.#map.set(bytesKey(nonce), call);
  }

  /** The call a WHOAREYOU names, if its request is still pending; a stale one is deleted. */
  find(nonce: Uint8Array): Call | undefined {
    const key = bytesKey(nonce);
    const call = this.#map.peek(key);
    if (call === undefined) return undefined;
    if (call.expiresAt > this.#now() && call.pending()) return call;
    this.#map.delete(key);
    return undefined;
  }

  /**
   * Drops calls from the old end while they are expired or no longer pending. Lookups use `peek`,
   * so the map stays in insertion order, which is expiry order: this stops at the first live call.
   */
  #sweep(now: number): void {
    for (const key of this.#map.keys()) {
      const call = this.#map.peek(key) as Call;
      if (call.expiresAt > now && call.pending()) return;
      this.#map.delete(key);
    }
  }
}

/**
 * What a WHOAREYOU (with `challengeData`, from `from`) gets, given the call its nonce names:
 * a handshake, the same handshake packet again, or a drop reason.
 */
export function judgeWhoareyou(call: Call | undefined, challengeData: Uint8Array, from: SocketAddress): string {
  if (call === undefined || (call.plaintext === undefined && call.handshake === undefined)) {
    return 'unsolicited-whoareyou';
  }
  if (addressKey(call.contact.socket) !== addressKey(from)) return 'whoareyou-wrong-source';
  if (call.handshake === undefined) return 'handshake';
  if (!bytesEqual(call.handshake.challengeData, challengeData)) return 'whoareyou-twice';
  return call.repeats < MAX_HANDSHAKE_REPEATS ? 'repeat' : 'handshake-repeat-limit';
}

export interface Queued {
  plaintext: Uint8Array;
  pending: PendingCheck;
}

export interface WaitingEntry {
  contact: NodeContact;
  /** When contact started, or when our handshake packet went out (then we wait for the answer). */
  since: number;
  queue: Queued[];
}

export class Waiting {
  readonly #map: LruMap<string, WaitingEntry>;

  constructor(capacity: number) {
    this.#map = new LruMap(capacity);
  }

  get(key: string): WaitingEntry | undefined {
    return this.#map.get(key);
  }

  /** A new attempt at contact: the earlier queue comes along, less what no longer waits for an answer. */
  start(key: string, contact: NodeContact, now: number): WaitingEntry {
    const queue = (this.#map.peek(key)?.queue ?? []).filter((q) => q.pending());
    const entry: WaitingEntry = { contact, since: now, queue };
    this.#map.set(key, entry);
    return entry;
  }

  /** Removes and returns the entry (its queue is then sent, or dropped). */
  take(key: string): WaitingEntry | undefined {
    const entry = this.#map.peek(key);
    if (entry !== undefined) this.#map.delete(key);
    return entry;
  }
}
