/**
 * The crawler's walk (crawler.ts) over discv4 nodes. discv5 asks a node for the records at chosen
 * log-distances; discv4's FINDNODE names a 64-byte target key instead, and answers with the 16
 * live nodes closest to keccak256(target). A target whose hash lies at log-distance d from the
 * node's id gets exactly its bucket d first (those are closer to the target than any other entry),
 * so keeping the answer's nodes at distance d reads that bucket, as FINDNODE [d] does in discv5.
 *
 * Such targets cannot be computed, only found: a table of 131,072 random keys indexed by the first
 * 16 bits of their hashes (built once per crawl) has one for every distance from 256 down to 244,
 * and for 243, 242 and 241 with a chance of 99.97%, 98% and 86%: that is where the buckets of a
 * network's nodes are (a bucket at distance d holds 2^(d-257) of the network, 12 nodes at 243 in a
 * network of 200,000). Without one, or deeper, the key is the nearest the table has, and the nodes
 * of that bucket come only through other nodes' tables.
 *
 * Distance [0] (the node's own record) is an ENRREQUEST (EIP-868). A node that bonds but does not
 * answer it in the crawler's three tries (clients without EIP-868) is reported without a record.
 */
import { randomFillSync } from 'node:crypto';
import type { Crypto } from '../crypto/crypto.js';
import type { Discv4 } from '../discv4/discv4.js';
import type { V4Node } from '../discv4/node.js';
import { ANSWER_SIZE } from '../discv4/protocol.js';
import { logDistance } from '../kademlia/distance.js';
import { Discv5Error, ErrorCode } from '../util/errors.js';
import type { CrawlAsker } from './types.js';

const PREFIX_BITS = 16;
/** Keys in the table: two per 16-bit prefix on average. */
const KEY_COUNT = 1 << 17;
const KEY_SIZE = 64;

/** Random 64-byte keys grouped by the first PREFIX_BITS bits of their keccak256. */
export class TargetKeys {
  readonly #keys: Uint8Array;
  /** Keys of prefix p are at indices order[start[p] .. start[p + 1]). */
  readonly #start: Uint32Array;
  readonly #order: Uint32Array;

  constructor(crypto: Crypto, count = KEY_COUNT) {
    this.#keys = randomFillSync(new Uint8Array(count * KEY_SIZE));
    const prefixes = new Uint32Array(count);
    for (let i = 0; i < count; i++) {
      const h = crypto.keccak256(this.#keys.subarray(i * KEY_SIZE, (i + 1) * KEY_SIZE));
      prefixes[i] = (((h[0] as number) << 16) | ((h[1] as number) << 8) | (h[2] as number)) >>> (24 - PREFIX_BITS);
    }
    // Counting sort by prefix.
    this.#start = new Uint32Array((1 << PREFIX_BITS) + 1);
    for (const p of prefixes) (this.#start[p + 1] as number)++;
    for (let p = 0; p < 1 << PREFIX_BITS; p++)
      this.#start[p + 1] = (this.#start[p + 1] as number) + (this.#start[p] as number);
    const next = this.#start.slice(0, -1);
    this.#order = new Uint32Array(count);
    for (let i = 0; i < count; i++) {
      const p = prefixes[i] as number;
      this.#order[next[p] as number] = i;
      next[p] = (next[p] as number) + 1;
    }
  }

  /**
   * A key whose hash lies at log-distance `d` (1..256) from `id`, or as near that as the table
   * allows: its hash shares the first 256 - d bits of `id` and differs at the next, up to the
   * table's 17 bits.
   */
  at(id: Uint8Array, d: number): Uint8Array {
    return this.find(id, d).key;
  }

  /** `at`, and whether the key's hash lies exactly at log-distance `d` (else it is the nearest the table has). */
  find(id: Uint8Array, d: number): { key: Uint8Array; exact: boolean } {
    const equal = 256 - d; // leading bits the hash shares with id
    const top = (((id[0] as number) << 16) | ((id[1] as number) << 8) | (id[2] as number)) >>> (24 - PREFIX_BITS);
    let want: number;
    let bits: number;
    if (equal < PREFIX_BITS) {
      bits = equal + 1;
      want = (top >>> (PREFIX_BITS - bits)) ^ 1; // the first `equal` bits, then the other bit
    } else {
      bits = PREFIX_BITS;
      want = top;
    }
    const lo = want << (PREFIX_BITS - bits);
    const hi = (want + 1) << (PREFIX_BITS - bits);
    const from = this.#start[lo] as number;
    const to = this.#start[hi] as number;
    if (to > from) {
      const i = this.#order[from + Math.floor(Math.random() * (to - from))] as number;
      return { key: this.#keys.slice(i * KEY_SIZE, (i + 1) * KEY_SIZE), exact: equal < PREFIX_BITS };
    }
    // None with this prefix: one that shares the first `equal` bits (the key of the next prefix down).
    const near = this.#order[Math.min(from, this.#order.length - 1)] as number;
    return { key: this.#keys.slice(near * KEY_SIZE, (near + 1) * KEY_SIZE), exact: false };
  }
}

/** A crawl asker that walks discv4 tables through a node's `discv4` side. */
export function discv4Asker(v4: Discv4, nodeId: Uint8Array, targets: TargetKeys): CrawlAsker<V4Node> {
  /** ENRREQUESTs that went unanswered, per node, while it bonds (at most one entry per node crawled). */
  const silent = new Map<string, number>();
  return {
    nodeId,
    async findNodes(node, distances, { timeoutMs }) {
      if (distances.length === 1 && distances[0] === 0) {
        await v4.bond(node, timeoutMs);
        try {
          const record = await v4.requestEnr(node, timeoutMs);
          silent.delete(node.nodeIdHex);
          return [node.withRecord(record)];
        } catch (err) {
          if (!(err instanceof Discv5Error && err.code === ErrorCode.REQUEST_TIMEOUT)) throw err;
          // The crawler tries a request three times: the third silence means no EIP-868 here.
          const n = (silent.get(node.nodeIdHex) ?? 0) + 1;
          if (n < 3) {
            silent.set(node.nodeIdHex, n);
            throw err;
          }
          silent.delete(node.nodeIdHex);
          return [node];
        }
      }
      // One FINDNODE at the highest distance first. Its answer is bucket d, then nodes of the
      // deeper buckets (all at distance d from the target, in no bucket order): an answer under 16
      // holds every node at d and below, so every distance asked is read at once (a walk's sweep
      // of 16 empty or sparse distances costs one request, not 16).
      const asked = [...distances].sort((a, b) => b - a);
      const top = asked[0] as number;
      const first = targets.find(node.nodeId, top);
      const answer = await v4.findNode(node, first.key, timeoutMs);
      const at = (n: V4Node) => logDistance(n.nodeId, node.nodeId);
      if (first.exact && answer.length < ANSWER_SIZE) {
        const wanted = new Set(asked);
        return answer.filter((n) => wanted.has(at(n)));
      }
      const out = answer.filter((n) => at(n) === top);
      for (const d of asked.slice(1)) {
        // One at a time: a node takes one FINDNODE at once anyway (protocol.ts).
        const more = await v4.findNode(node, targets.at(node.nodeId, d), timeoutMs);
        for (const n of more) if (at(n) === d) out.push(n);
      }
      return out;
    },
  };
}
