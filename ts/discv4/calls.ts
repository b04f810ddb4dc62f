/**
 * Replies we wait for. discv4 has no request ids: a reply is matched by who sent it (node id and
 * IP), its packet type, and, for PONG and ENRRESPONSE, the hash of the request it echoes. NEIGHBORS
 * echoes nothing, so every NEIGHBORS from a node we asked goes to the oldest FINDNODE waiting on
 * it, which decides when it has all it expects. Each wait ends on its own timer; the number of
 * waits is bounded, and `clear` ends them all (the node stops).
 */
import { idKey } from '../util/bytes.js';
import { Discv5Error, ErrorCode } from '../util/errors.js';
import type { DecodedPacket, PacketType } from './types.js';

/** What a reply did to a wait: not its reply, part of it (wait on), or the last of it. */
export type MatchOutcome = 'no' | 'more' | 'done';

export type Matcher = (reply: DecodedPacket) => MatchOutcome;

interface Wait {
  readonly match: Matcher;
  readonly finish: (outcome: boolean | Error) => void;
}

export class Calls {
  readonly #waits = new Map<string, Wait[]>();
  /** Waits per source IP (the packet gate lets sources we wait on through its per-IP limits). */
  readonly #ips = new Map<string, number>();
  readonly #max: number;
  #count = 0;

  constructor(max: number) {
    this.#max = max;
  }

  get size(): number {
    return this.#count;
  }

  /** Whether a reply from this IP is awaited. */
  expecting(ip: string): boolean {
    return this.#ips.has(ip);
  }

  /**
   * Waits for replies of `type` from (`nodeId`, `ip`) until `match` says `done` (true) or
   * `timeoutMs` passes (false). Rejects with TOO_MANY_REQUESTS at the bound, STOPPED on `clear`.
   */
  expect(nodeId: Uint8Array, ip: string, type: PacketType, timeoutMs: number, match: Matcher): Promise<boolean> {
    if (this.#count >= this.#max) {
      return Promise.reject(
        new Discv5Error(ErrorCode.TOO_MANY_REQUESTS, `${this.#max} discv4 replies awaited already`),
      );
    }
    const key = `${idKey(nodeId)}|${ip}|${type}`;
    return new Promise<boolean>((resolve, reject) => {
      const timer = setTimeout(() => wait.finish(false), timeoutMs);
      const wait: Wait = {
        match,
        finish: (outcome) => {
          clearTimeout(timer);
          if (!this.#remove(key, ip, wait)) return;
          if (outcome instanceof Error) reject(outcome);
          else resolve(outcome);
        },
      };
      const list = this.#waits.get(key);
      if (list === undefined) this.#waits.set(key, [wait]);
      else list.push(wait);
      this.#ips.set(ip, (this.#ips.get(ip) ?? 0) + 1);
      this.#count++;
    });
  }

  /** Offers a reply to the waits on its sender and type, oldest first; false if none took it. */
  deliver(ip: string, reply: DecodedPacket): boolean {
    const list = this.#waits.get(`${idKey(reply.nodeId)}|${ip}|${reply.message.type}`);
    if (list === undefined) return false;
    for (const wait of list) {
      const outcome = wait.match(reply);
      if (outcome === 'no') continue;
      if (outcome === 'done') wait.finish(true);
      return true;
    }
    return false;
  }

  /** Ends every wait with `err` (the node stops). */
  clear(err: Error): void {
    for (const list of [...this.#waits.values()]) for (const wait of [...list]) wait.finish(err);
  }

  /** Takes a finished wait off its lists; false if it was gone already (finished twice). */
  #remove(key: string, ip: string, wait: Wait): boolean {
    const list = this.#waits.get(key);
    const i = list === undefined ? -1 : list.indexOf(wait);
    if (list === undefined || i < 0) return false;
    list.splice(i, 1);
    if (list.length === 0) this.#waits.delete(key);
    const n = (this.#ips.get(ip) ?? 1) - 1;
    if (n > 0) this.#ips.set(ip, n);
    else this.#ips.delete(ip);
    this.#count--;
    return true;
  }
}
