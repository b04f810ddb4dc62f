/**
 * The session cache (spec §5): sessions per (node id, ip, port), least recently used dropped first,
 * each until its TTL. When a handshake replaces a session (both sides started one at once), the
 * replaced read key still decrypts for a while, so that whichever keys each side ends up writing
 * with, the other reads them.
 */
import type { Crypto } from '../crypto/crypto.js';
import { LruMap } from '../util/lru.js';
import type { Session } from './session.js';

export interface SessionsConfig {
  sessionCacheCapacity: number;
  /** How long replaced keys still decrypt. */
  fallbackKeyTtlMs: number;
}

export class Sessions {
  readonly #map: LruMap<string, Session>;
  readonly #config: SessionsConfig;
  readonly #now: () => number;
  readonly #onExpired: (s: Session) => void;

  /** `onExpired` hears of each session dropped at its TTL, after it was removed. */
  constructor(config: SessionsConfig, now: () => number, onExpired: (s: Session) => void) {
    this.#map = new LruMap(config.sessionCacheCapacity);
    this.#config = config;
    this.#now = now;
    this.#onExpired = onExpired;
  }

  get size(): number {
    return this.#map.size;
  }

  /** The session for an endpoint key, unless it is missing or past its TTL (then it is dropped). */
  live(key: string): Session | undefined {
    const s = this.#map.get(key);
    if (s !== undefined && s.expiresAt <= this.#now()) {
      this.#map.delete(key);
      this.#onExpired(s);
      return undefined;
    }
    return s;
  }

  /** Installs a session; the one it replaces lends its read key as a fallback. */
  install(key: string, session: Session): void {
    const previous = this.#map.peek(key);
    if (previous !== undefined) {
      session.fallbackReadKey = previous.readKey;
      session.fallbackUntil = this.#now() + this.#config.fallbackKeyTtlMs;
    }
    this.#map.set(key, session);
  }

  /** The plaintext of a message packet under the session's read key, or its fallback; null if neither opens it. */
  open(crypto: Crypto, s: Session, header: Uint8Array, datagram: Uint8Array): Uint8Array | null {
    const plaintext = crypto.openPacket(s.readKey, header, datagram);
    if (plaintext !== null || s.fallbackReadKey === undefined || this.#now() >= s.fallbackUntil) return plaintext;
    return crypto.openPacket(s.fallbackReadKey, header, datagram);
  }
}
