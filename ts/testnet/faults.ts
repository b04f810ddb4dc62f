/**
 * A testnet node's link to the world, with the faults of the internet: a round trip of its own,
 * datagrams lost, and a NAT that lets in only what answers something the node sent first. It wraps
 * any transport (UDP or an in-memory network's), so the node above runs unchanged.
 *
 * Latency is half the round trip on the way in and half on the way out, so a request to this node
 * and its answer take `rttMs` more; between two testnet nodes both links add theirs. Loss applies
 * to each datagram crossing the link, in or out.
 */
import { addressKey } from '../transport/address.js';
import type { PacketHandler, SocketAddress, Transport } from '../transport/types.js';
import type { FaultProfile, MemberPlan } from './plan.js';

export interface LinkFaults {
  /** Round trip this link adds, in ms (0: none). */
  rttMs: number;
  /** Probability that a datagram crossing the link is lost. */
  loss: number;
  /** Behind a NAT: datagrams get in only from addresses the node sent to within `natTtlMs`. */
  nat: boolean;
}

/** How long a NAT keeps a mapping open after the node last sent through it (common home routers: 30-120 s). */
export const NAT_TTL_MS = 60_000;
/** Mappings a NAT keeps at most; the oldest go first. */
export const NAT_MAX_MAPPINGS = 4_096;

export class FaultyTransport implements Transport {
  readonly #inner: Transport;
  readonly #faults: LinkFaults;
  readonly #random: () => number;
  readonly #now: () => number;
  /** NAT mappings: address key → when it closes (insertion order is refresh order). */
  readonly #open = new Map<string, number>();
  readonly #timers = new Set<ReturnType<typeof setTimeout>>();
  #handler: PacketHandler = () => {};
  #onError: (err: Error) => void = () => {};
  /** Datagrams this link dropped, by cause. */
  readonly stats = { lost: 0, natBlocked: 0 };

  constructor(inner: Transport, faults: LinkFaults, random: () => number, now: () => number = Date.now) {
    this.#inner = inner;
    this.#faults = faults;
    this.#random = random;
    this.#now = now;
    inner.onPacket((data, from) => this.#receive(data, from));
  }

  get addresses(): readonly SocketAddress[] {
    return this.#inner.addresses;
  }

  start(): Promise<void> {
    return this.#inner.start();
  }

  onPacket(handler: PacketHandler): void {
    this.#handler = handler;
  }

  onError(handler: (err: Error) => void): void {
    this.#onError = handler;
    this.#inner.onError(handler);
  }

  send(data: Uint8Array, to: SocketAddress): void {
    if (this.#faults.nat) this.#openMapping(addressKey(to));
    if (this.#lost()) return;
    if (this.#faults.rttMs <= 0) {
      this.#inner.send(data, to);
      return;
    }
    // The datagram may be a view of a buffer reused after this call: copied while it waits.
    const copy = Uint8Array.from(data);
    this.#later(() => this.#inner.send(copy, to));
  }

  async stop(): Promise<void> {
    for (const t of this.#timers) clearTimeout(t);
    this.#timers.clear();
    this.#open.clear();
    await this.#inner.stop();
  }

  #receive(data: Uint8Array, from: SocketAddress): void {
    if (this.#faults.nat && !this.#mapped(addressKey(from))) {
      this.stats.natBlocked++;
      return;
    }
    if (this.#lost()) return;
    this.#later(() => this.#handler(data, from));
  }

  #lost(): boolean {
    if (this.#faults.loss > 0 && this.#random() < this.#faults.loss) {
      this.stats.lost++;
      return true;
    }
    return false;
  }

  /** Runs `deliver` after half the round trip (at once without latency). */
  #later(deliver: () => void): void {
    // Whole ms, rounded up: timers run on a millisecond clock, and a link must never be faster than its round trip.
    const delay = Math.ceil(this.#faults.rttMs / 2);
    if (delay <= 0) {
      deliver();
      return;
    }
    const timer = setTimeout(() => {
      this.#timers.delete(timer);
      // As a socket's own handler: what the layers above throw is reported, never thrown from a timer.
      try {
        deliver();
      } catch (err) {
        this.#onError(err as Error);
      }
    }, delay);
    this.#timers.add(timer);
  }

  #openMapping(key: string): void {
    this.#open.delete(key);
    this.#open.set(key, this.#now() + NAT_TTL_MS);
    if (this.#open.size > NAT_MAX_MAPPINGS) {
      const oldest = this.#open.keys().next().value as string;
      this.#open.delete(oldest);
    }
  }

  #mapped(key: string): boolean {
    const until = this.#open.get(key);
    if (until === undefined) return false;
    if (until >= this.#now()) return true;
    this.#open.delete(key);
    return false;
  }
}

/** A member's link with its faults (its round trip, the profile's loss, NAT), or undefined if it has none. */
export function faultyLink(
  inner: Transport,
  plan: MemberPlan,
  profile: FaultProfile,
  random: () => number,
): FaultyTransport | undefined {
  if (plan.rttMs <= 0 && profile.loss <= 0 && !plan.nat) return undefined;
  return new FaultyTransport(inner, { rttMs: plan.rttMs, loss: profile.loss, nat: plan.nat }, random);
}
