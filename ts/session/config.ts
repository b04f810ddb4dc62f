/** Session-layer settings and their defaults (documented in README). */
export interface SessionConfig {
  /** Sessions kept, least recently used dropped first (default 1,000; up to 100,000 for crawlers). */
  sessionCacheCapacity: number;
  /** How long a session lives before it must be renewed by a new handshake (default 24 h). */
  sessionTtlMs: number;
  /** How long a WHOAREYOU challenge we sent stays answerable (default 1 s, as geth). */
  challengeTtlMs: number;
  /** Challenges kept at once (default 10,000). */
  maxChallenges: number;
  /**
   * How long a packet we sent can be answered by a WHOAREYOU at most (default 2 s); within that,
   * only while its request is pending (see SendRequestOptions.pending).
   */
  nonceTtlMs: number;
  /** Calls (sent-packet nonces) remembered at once (default 20,000). */
  maxPendingNonces: number;
  /**
   * How long requests to a peer wait behind its handshake (default 1 s): for its WHOAREYOU, then for
   * its first answer in the new session. After that, a new request contacts it afresh, or goes in the
   * session not yet proven.
   */
  handshakeTimeoutMs: number;
  /** Peers with a handshake under way (and requests waiting on it) at once (default 10,000). */
  maxHandshakingPeers: number;
  /** Messages queued per peer while its handshake completes (default 32). */
  maxQueuedPerPeer: number;
  /** How long replaced keys still decrypt, so simultaneous handshakes settle (default 30 s). */
  fallbackKeyTtlMs: number;
}

export const DEFAULT_SESSION_CONFIG: SessionConfig = {
  sessionCacheCapacity: 1_000,
  sessionTtlMs: 24 * 60 * 60 * 1000,
  challengeTtlMs: 1_000,
  maxChallenges: 10_000,
  nonceTtlMs: 2_000,
  maxPendingNonces: 20_000,
  handshakeTimeoutMs: 1_000,
  maxHandshakingPeers: 10_000,
  maxQueuedPerPeer: 32,
  fallbackKeyTtlMs: 30_000,
};

export const MAX_SESSION_CACHE_CAPACITY = 100_000;
