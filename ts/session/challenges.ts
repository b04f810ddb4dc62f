/**
 * The recipient's side of the handshake (spec §4.1 steps 2 and 4): the WHOAREYOU challenges we
 * issued, per endpoint, each answerable once and for `challengeTtlMs`.
 *
 * - While a challenge to an endpoint is pending, further undecryptable packets from it get the very
 *   same WHOAREYOU (same nonce, same challenge data), so a burst cannot multiply handshakes; a
 *   repeat is never larger than the packet that drew it. A packet with another nonce that comes
 *   `FRESH_AFTER_MS` or more after the challenge is a retry of a peer whose WHOAREYOU (or whose
 *   handshake) was lost: it gets a fresh challenge naming its nonce, as the spec's WHOAREYOU does,
 *   through the same budgets (a repeat naming a nonce the peer has given up on is dropped there,
 *   and with a testnet's 10 s challenges a lost datagram made a node unreachable for 10 s).
 * - A new challenge costs an id-nonce, state and a packet: it needs a token from the sender's
 *   handshake budget and from the global one (PacketGate.allowChallenge).
 */
import type { Crypto } from '../crypto/crypto.js';
import type { Enr } from '../enr/enr.js';
import { encodeWhoareyou } from '../packet/encode.js';
import type { ChallengeVerdict, PacketGate } from '../policy/gate.js';
import { bytesEqual } from '../util/bytes.js';
import { LruMap } from '../util/lru.js';
import { randomBytes } from '../util/random.js';

/** A new nonce this long after a pending challenge gets a fresh one (see the file comment). */
export const FRESH_AFTER_MS = 250;

export interface Challenge {
  /** The nonce of the packet that drew it, and when it was issued. */
  nonce: Uint8Array;
  issuedAt: number;
  challengeData: Uint8Array;
  packet: Uint8Array;
  expiresAt: number;
  /** The record we held of the node when we challenged it (its seq went into the WHOAREYOU). */
  enr: Enr | undefined;
}

export interface ChallengesDeps {
  crypto: Crypto;
  findEnr: (nodeId: Uint8Array) => Enr | undefined;
  gate: PacketGate | undefined;
  capacity: number;
  ttlMs: number;
  now: () => number;
}

/** The WHOAREYOU to send, and whether it repeats a pending one; or which budget refused a new one. */
export type ChallengeOutcome = { packet: Uint8Array; repeat: boolean } | Exclude<ChallengeVerdict, 'pass'>;

export class Challenges {
  readonly #d: ChallengesDeps;
  readonly #map: LruMap<string, Challenge>;

  constructor(deps: ChallengesDeps) {
    this.#d = deps;
    this.#map = new LruMap(deps.capacity);
  }

  /** The WHOAREYOU for an undecryptable packet (nonce `nonce`) from `srcId` at `ip` (endpoint key `key`). */
  challenge(key: string, srcId: Uint8Array, nonce: Uint8Array, ip: string): ChallengeOutcome {
    const now = this.#d.now();
    const pending = this.#map.get(key);
    if (
      pending !== undefined &&
      pending.expiresAt > now &&
      (now - pending.issuedAt < FRESH_AFTER_MS || bytesEqual(pending.nonce, nonce))
    )
      return { packet: pending.packet, repeat: true };
    const verdict = this.#d.gate?.allowChallenge(ip) ?? 'pass';
    if (verdict !== 'pass') return verdict;
    const enr = this.#d.findEnr(srcId);
    const idNonce = randomBytes(16);
    const { packet, challengeData } = encodeWhoareyou(this.#d.crypto, srcId, nonce, idNonce, enr?.seq ?? 0n);
    this.#map.set(key, {
      nonce: Uint8Array.from(nonce),
      issuedAt: now,
      challengeData,
      packet,
      expiresAt: now + this.#d.ttlMs,
      enr,
    });
    return { packet, repeat: false };
  }

  /** The pending challenge of an endpoint, removed: one use only, whether the handshake succeeds or not. */
  take(key: string): Challenge | undefined {
    const c = this.#map.peek(key);
    if (c === undefined) return undefined;
    this.#map.delete(key);
    return c.expiresAt > this.#d.now() ? c : undefined;
  }
}
