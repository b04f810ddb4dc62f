/**
 * Per-requester rate limits, as a crawl meets them (sigp/discv5 nodes drop requests past a few per
 * second from one node id). A node that answered and then lets a request go unanswered most likely
 * limits us (or lost a packet): its requests are spaced from then on, each further drop doubling
 * the space while it still answers (100 ms to 2 s per identity), and with several identities it is
 * asked from all of them in turn, so that its limit is shared out. Until then a node is asked from
 * one identity only (one handshake, not one per identity); once limits are common (16 nodes), new
 * nodes are asked from all of them from the start.
 */

/** The space between a limiting node's requests from one identity: from its first drop, and at most. */
const MIN_PACE_MS = 100;
const MAX_PACE_MS = 2_000;
/** Nodes seen limiting requests after which the network is taken to limit them all. */
const LIMITS_COMMON = 16;

/** How one node is asked: from which identity, and how far apart its requests go. */
export class PeerPace {
  /** It has dropped a request after answering (or limits are common): asked from every identity in turn. */
  limited: boolean;
  /** The space between its requests from one identity (0: not paced). */
  paceMs = 0;
  readonly #base: number;
  #turn = 0;
  #answers = 0;
  #answersAtPace = 0;
  /** When its next request may go (performance.now()). */
  #nextAt = 0;

  constructor(base: number, limited: boolean) {
    this.#base = base;
    this.limited = limited;
  }

  /** Index of the identity to ask it from next (of `identities`). */
  next(identities: number): number {
    return (this.#base + (this.limited ? this.#turn++ : 0)) % identities;
  }

  answered(): void {
    this.#answers++;
  }

  /** A request went unanswered after it had answered. True the first time. */
  dropped(): boolean {
    const first = this.paceMs === 0;
    this.limited = true;
    // Raised again only once it has answered at the pace set: a node that has gone quiet for good
    // is not waited on ever longer, it fails its tries.
    if (!first && this.#answers === this.#answersAtPace) return false;
    this.#answersAtPace = this.#answers;
    this.paceMs = Math.min(MAX_PACE_MS, Math.max(MIN_PACE_MS, this.paceMs * 2));
    return first;
  }

  /** Books its next turn: resolves when that comes (undefined if it is now). */
  wait(identities: number): Promise<void> | undefined {
    const now = performance.now();
    const at = Math.max(now, this.#nextAt);
    this.#nextAt = at + this.paceMs / identities;
    return at > now ? new Promise((r) => setTimeout(r, at - now)) : undefined;
  }
}

/** The crawl's side: a pace per node, and whether limits have become common. */
export class Pacing {
  #limitedSeen = 0;

  constructor(readonly identities: number) {}

  /** The pace of the `index`-th node found (its identity differs from node to node, so all share the load). */
  forNode(index: number): PeerPace {
    return new PeerPace(index % this.identities, this.#limitedSeen >= LIMITS_COMMON);
  }

  dropped(pace: PeerPace): void {
    if (pace.dropped()) this.#limitedSeen++;
  }
}
