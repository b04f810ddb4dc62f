/**
 * The endpoint proof (devp2p discv4.md, "Endpoint proof"), as go-ethereum keeps it: per node id and
 * IP, when we last received a PING from it and when it last answered one of ours with a PONG.
 * - We answer FINDNODE and ENRREQUEST only from a node whose PONG we received within the bond's
 *   lifetime: that proves the request's source address is really the node's, so our (much larger)
 *   answer cannot be aimed at a victim by a spoofed source.
 * - Before we send FINDNODE, the other side needs the same proof of us: if it has not pinged us
 *   within the lifetime, we ping it and give it a moment to ping us back (it does, on receiving
 *   our PING, when it holds no fresh proof of us).
 * Bounded: the least recently used pairs are forgotten first. Waiters for a PING are bounded by
 * the callers (one per request in flight), which end each one (its timer or `cancel`).
 */
import { idKey } from '../util/bytes.js';
import { LruMap } from '../util/lru.js';

interface Bond {
  pingReceivedAt: number;
  pongReceivedAt: number;
}

export class Bonds {
  readonly #bonds: LruMap<string, Bond>;
  readonly #lifetimeMs: number;
  readonly #now: () => number;
  /** Who waits for a PING from a pair (`waitForPing`): each is ended with whether it came. */
  readonly #pingWaiters = new Map<string, Set<(pinged: boolean) => void>>();

  constructor(capacity: number, lifetimeMs: number, now: () => number = Date.now) {
    this.#bonds = new LruMap(capacity);
    this.#lifetimeMs = lifetimeMs;
    this.#now = now;
  }

  get size(): number {
    return this.#bonds.size;
  }

  /** The node pinged us from `ip` (and we answered). */
  pingReceived(nodeId: Uint8Array, ip: string): void {
    const key = keyOf(nodeId, ip);
    this.#bond(key).pingReceivedAt = this.#now();
    const waiters = this.#pingWaiters.get(key);
    if (waiters !== undefined) for (const end of [...waiters]) end(true);
  }

  /** The node answered our PING from `ip`. */
  pongReceived(nodeId: Uint8Array, ip: string): void {
    this.#bond(keyOf(nodeId, ip)).pongReceivedAt = this.#now();
  }

  /**
   * A request to the node went unanswered although we took it to hold a proof of us: perhaps our
   * PONG never reached it. The next request bonds again first (go-ethereum re-bonds after failed
   * FINDNODEs the same way).
   */
  unanswered(nodeId: Uint8Array, ip: string): void {
    const b = this.#bonds.peek(keyOf(nodeId, ip));
    if (b !== undefined) b.pingReceivedAt = Number.NEGATIVE_INFINITY;
  }

  /**
   * The node answered a FINDNODE or ENRREQUEST of ours: it holds a proof of us (an answer is sent
   * only to a bonded asker), whether or not it pinged us lately.
   */
  answeredUs(nodeId: Uint8Array, ip: string): void {
    this.#bond(keyOf(nodeId, ip)).pingReceivedAt = this.#now();
  }

  /** Whether the node proved its endpoint to us (answered a PING of ours there) within the lifetime. */
  verified(nodeId: Uint8Array, ip: string): boolean {
    const b = this.#bonds.peek(keyOf(nodeId, ip));
    return b !== undefined && this.#now() - b.pongReceivedAt < this.#lifetimeMs;
  }

  /** Whether the node pinged us from `ip` within the lifetime (so it holds our PONG as proof of us). */
  knowsUs(nodeId: Uint8Array, ip: string): boolean {
    const b = this.#bonds.peek(keyOf(nodeId, ip));
    return b !== undefined && this.#now() - b.pingReceivedAt < this.#lifetimeMs;
  }

  /**
   * Resolves true when the node pings us from `ip`, false after `waitMs` counted from when `start`
   * is called (the caller starts the clock once its own PING is answered), or at once on `cancel`.
   * Made before our PING goes out, so a PING that follows the PONG closely is not missed.
   */
  waitForPing(
    nodeId: Uint8Array,
    ip: string,
  ): { pinged: Promise<boolean>; start(waitMs: number): void; cancel(): void } {
    const key = keyOf(nodeId, ip);
    let set = this.#pingWaiters.get(key);
    if (set === undefined) {
      set = new Set();
      this.#pingWaiters.set(key, set);
    }
    const waiters = set;
    let timer: ReturnType<typeof setTimeout> | undefined;
    let end: (pinged: boolean) => void = () => {};
    const pinged = new Promise<boolean>((resolve) => {
      end = (value) => {
        clearTimeout(timer);
        waiters.delete(end);
        if (waiters.size === 0 && this.#pingWaiters.get(key) === waiters) this.#pingWaiters.delete(key);
        resolve(value);
      };
    });
    waiters.add(end);
    return {
      pinged,
      start: (waitMs) => {
        if (waiters.has(end)) timer = setTimeout(() => end(false), waitMs);
      },
      cancel: () => end(false),
    };
  }

  /** Ends every wait for a PING (the node stops): no timer of ours outlives it. */
  clear(): void {
    for (const waiters of [...this.#pingWaiters.values()]) for (const end of [...waiters]) end(false);
  }

  #bond(key: string): Bond {
    let b = this.#bonds.get(key);
    if (b === undefined) {
      b = { pingReceivedAt: Number.NEGATIVE_INFINITY, pongReceivedAt: Number.NEGATIVE_INFINITY };
      this.#bonds.set(key, b);
    }
    return b;
  }
}

function keyOf(nodeId: Uint8Array, ip: string): string {
  return `${idKey(nodeId)}|${ip}`;
}
