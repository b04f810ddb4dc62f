/**
 * The node's lookups (spec §8): iterative searches seeded from the table, whose FINDNODE answers
 * feed the table, and the predicate search that runs random lookups until enough records match.
 * The app's predicate runs behind the safe boundary: one that throws reads as "no match".
 */
import { randomFillSync } from 'node:crypto';
import type { Crypto } from '../crypto/crypto.js';
import type { Enr } from '../enr/enr.js';
import type { RoutingTable } from '../kademlia/table.js';
import { type LookupOptions, type LookupResult, lookup } from '../query/lookup.js';
import type { RequestManager } from '../rpc/requests.js';
import type { NodeContact } from '../session/types.js';
import { bytesEqual, bytesKey } from '../util/bytes.js';
import { Discv5Error, ErrorCode } from '../util/errors.js';
import type { Counters } from '../util/metrics.js';
import { safePredicate } from '../util/safe.js';

export interface LookupCallOptions {
  signal?: AbortSignal;
  /** Overrides config.lookupTimeoutMs. */
  timeoutMs?: number;
}

export interface LookupsDeps {
  nodeId: Uint8Array;
  crypto: Crypto;
  table: RoutingTable;
  requests: RequestManager;
  counters: Counters;
  config: { lookupParallelism: number; lookupTimeoutMs: number };
  isRunning: () => boolean;
  /** Where to send to a record (throws when it has no endpoint we can reach). */
  contact: (enr: Enr) => NodeContact;
  /** A record a lookup learned. */
  learn: (enr: Enr) => void;
  /** A lookup ended, after this many seconds (metrics). */
  finished?: (seconds: number) => void;
}

export class Lookups {
  readonly #d: LookupsDeps;

  constructor(deps: LookupsDeps) {
    this.#d = deps;
  }

  /** An iterative lookup for `target`: the k closest nodes that answered, and how it went. */
  async lookup(target: Uint8Array, options: LookupCallOptions = {}): Promise<LookupResult> {
    if (target.length !== 32) throw new Discv5Error(ErrorCode.INVALID_LENGTH, 'a lookup target is a 32-byte node id');
    if (!this.#d.isRunning()) throw new Discv5Error(ErrorCode.NOT_STARTED, 'start the node first');
    this.#d.table.touchBucket(target);
    this.#d.counters.inc('lookup.started');
    const started = performance.now();
    try {
      const result = await lookup(
        this.#options(target, options.timeoutMs ?? this.#d.config.lookupTimeoutMs, options.signal),
      );
      this.#d.counters.inc('lookup.queries', result.queries);
      return result;
    } finally {
      this.#d.finished?.((performance.now() - started) / 1000);
    }
  }

  /**
   * Collects up to `count` records that satisfy `predicate`, running random lookups until enough
   * are found, the time is up or the signal fires.
   */
  async findMatching(predicate: (enr: Enr) => boolean, options: LookupCallOptions & { count: number }): Promise<Enr[]> {
    if (typeof predicate !== 'function')
      throw new Discv5Error(ErrorCode.INVALID_ARGUMENT, 'predicate must be a function');
    if (!Number.isInteger(options?.count) || options.count < 1) {
      throw new Discv5Error(ErrorCode.INVALID_ARGUMENT, 'count must be a positive integer');
    }
    if (!this.#d.isRunning()) throw new Discv5Error(ErrorCode.NOT_STARTED, 'start the node first');
    const matches = safePredicate(this.#d.counters, 'predicate', predicate);
    const found = new Map<string, Enr>();
    const consider = (e: Enr) => {
      if (found.size < options.count && matches(e)) found.set(bytesKey(e.nodeId), e);
    };
    for (const e of this.#d.table.entries()) consider(e.enr);
    const deadline = Date.now() + (options.timeoutMs ?? this.#d.config.lookupTimeoutMs);
    while (found.size < options.count && Date.now() < deadline && !options.signal?.aborted && this.#d.isRunning()) {
      const target = randomFillSync(new Uint8Array(32));
      const result = await lookup({
        ...this.#options(target, Math.max(1, deadline - Date.now()), options.signal),
        onRecord: (enr) => {
          this.#d.learn(enr);
          // Peers hand us our own record too (we are near the targets they are asked about).
          if (!bytesEqual(enr.nodeId, this.#d.nodeId)) consider(enr);
        },
        done: () => found.size >= options.count,
      });
      if (result.queries === 0) break; // nobody to ask
    }
    return [...found.values()];
  }

  /** What every lookup of this node shares: seeds from the table, FINDNODE without retry, records learned. */
  #options(target: Uint8Array, timeoutMs: number, signal: AbortSignal | undefined): LookupOptions {
    const { table } = this.#d;
    return {
      target,
      localId: this.#d.nodeId,
      seeds: table.closest(target, table.k).map((e) => e.enr),
      // No retry: a node that does not answer once is not worth waiting on twice. A record we cannot
      // reach throws in contact(): the lookup counts that candidate failed and goes on.
      query: (peer, distances, s) =>
        this.#d.requests.findNode(this.#d.contact(peer), distances, { signal: s, retries: 0 }),
      crypto: this.#d.crypto,
      alpha: this.#d.config.lookupParallelism,
      k: table.k,
      timeoutMs,
      ...(signal ? { signal } : {}),
      onRecord: (enr) => this.#d.learn(enr),
      counters: this.#d.counters,
    };
  }
}
