/**
 * The walk over one tree and the trees it links to: breadth first, LOOKUP_CONCURRENCY lookups in
 * flight, every name fetched once, everything bounded (entries, depth, linked trees, text).
 * Whatever a DNS answer holds, nothing here throws: a bad entry, a wrong hash, a bad record, a
 * failed lookup or a linked root that does not verify is one message in `errors`, and the walk
 * goes on. Only the caller decides that the first root must verify.
 */
import type { Crypto } from '../crypto/crypto.js';
import { EnrDecoder } from '../enr/batch.js';
import { Enr } from '../enr/enr.js';
import { bytesKey } from '../util/bytes.js';
import { DECODE_BATCH, LOOKUP_CONCURRENCY } from './constants.js';
import { LookupError, type TxtLookup } from './lookup.js';
import { hashMatches, isRootEntry, isTreeEntry, parseEntry, parseRoot, verifyRoot } from './tree.js';
import type { Parsed, RootEntry, TreeLink } from './types.js';

export interface WalkLimits {
  maxEntries: number;
  maxDepth: number;
  maxLinks: number;
}

/** A root that could not be had: why, and whether it was for want of an answer in time. */
export type RootResult = Parsed<RootEntry> & { timeout?: boolean; aborted?: boolean };

type Subtree = 'enr' | 'link';

type Task =
  | { kind: 'root'; tree: TreeLink }
  | { kind: 'entry'; tree: TreeLink; name: string; subtree: Subtree; depth: number };

interface Leaf {
  fqdn: string;
  text: string;
}

export class TreeWalk {
  readonly #lookup: TxtLookup;
  readonly #crypto: Crypto;
  readonly #limits: WalkLimits;
  readonly #signal: AbortSignal;
  readonly #errors: string[] = [];
  /** Trees whose root was (or is being) fetched, by key@domain. */
  readonly #trees = new Set<string>();
  /** Links found, by tree key, in the order found. */
  readonly #links = new Map<string, string>();
  /** Names scheduled, per tree: key@domain/NAME. */
  readonly #visited = new Set<string>();
  readonly #queue: Task[] = [];
  readonly #leaves: Leaf[] = [];
  #head = 0;
  #inflight = 0;
  #scheduled = 0;
  #notFetched = 0;

  constructor(lookup: TxtLookup, crypto: Crypto, limits: WalkLimits, signal: AbortSignal) {
    this.#lookup = lookup;
    this.#crypto = crypto;
    this.#limits = limits;
    this.#signal = signal;
  }

  get errors(): string[] {
    return this.#errors;
  }

  get links(): string[] {
    return [...this.#links.values()];
  }

  /** Fetches, parses and verifies the root of `tree`; never throws. */
  async root(tree: TreeLink): Promise<RootResult> {
    let texts: string[];
    try {
      texts = await this.#lookup.txt(tree.domain);
    } catch (err) {
      const kind = err instanceof LookupError ? err.kind : 'failed';
      return { ok: false, error: (err as Error).message, timeout: kind === 'timeout', aborted: kind === 'aborted' };
    }
    const text = texts.find(isRootEntry);
    if (text === undefined) return { ok: false, error: `${tree.domain}: no enrtree-root:v1 record` };
    const root = parseRoot(text);
    if (!root.ok) return { ok: false, error: `${tree.domain}: ${root.error}` };
    if (!verifyRoot(root.value, tree.publicKey, this.#crypto)) {
      return { ok: false, error: `${tree.domain}: root signature does not verify against the key of ${tree.url}` };
    }
    return root;
  }

  /** Walks the subtrees of a verified root and of every tree linked from it, within the limits. */
  async walk(tree: TreeLink, root: RootEntry): Promise<Enr[]> {
    this.#trees.add(tree.key);
    this.#addSubtrees(tree, root);
    await this.#drain();
    if (this.#notFetched > 0) {
      this.#errors.push(
        `maxEntries (${this.#limits.maxEntries}) reached: ${this.#notFetched} more entries not fetched`,
      );
    }
    return this.#decodeLeaves();
  }

  #addSubtrees(tree: TreeLink, root: RootEntry): void {
    // Links first, as go-ethereum does: a client that wants many nodes widens its horizon early.
    this.#schedule(tree, root.linkRoot, 'link', 1);
    this.#schedule(tree, root.enrRoot, 'enr', 1);
  }

  #schedule(tree: TreeLink, name: string, subtree: Subtree, depth: number): void {
    const key = `${tree.key}/${name}`;
    if (this.#visited.has(key)) return;
    if (depth > this.#limits.maxDepth) {
      this.#errors.push(`${name}.${tree.domain}: deeper than maxDepth (${this.#limits.maxDepth}), not fetched`);
      return;
    }
    if (this.#scheduled >= this.#limits.maxEntries) {
      this.#notFetched++;
      return;
    }
    this.#visited.add(key);
    this.#scheduled++;
    this.#queue.push({ kind: 'entry', tree, name, subtree, depth });
  }

  #addLink(link: TreeLink): void {
    if (this.#links.has(link.key)) return;
    this.#links.set(link.key, link.url);
    if (this.#trees.has(link.key)) return; // a loop back to a tree already walked
    if (this.#trees.size > this.#limits.maxLinks) {
      this.#errors.push(`${link.url}: not followed, maxLinks (${this.#limits.maxLinks}) reached`);
      return;
    }
    this.#trees.add(link.key);
    this.#queue.push({ kind: 'root', tree: link });
  }

  /** Runs the queue until it is empty and nothing is in flight; rejects only if the signal fires. */
  #drain(): Promise<void> {
    return new Promise((resolve, reject) => {
      let done = false;
      const onAbort = () => finish(this.#signal.reason);
      const finish = (err?: unknown) => {
        if (done) return;
        done = true;
        this.#signal.removeEventListener('abort', onAbort);
        if (err === undefined) resolve();
        else reject(err);
      };
      const pump = () => {
        if (done) return;
        if (this.#signal.aborted) return finish(this.#signal.reason);
        while (this.#inflight < LOOKUP_CONCURRENCY && this.#head < this.#queue.length) {
          const task = this.#queue[this.#head] as Task;
          this.#queue[this.#head++] = undefined as unknown as Task; // let the task go once taken
          this.#inflight++;
          this.#run(task).then(
            () => {
              this.#inflight--;
              pump();
            },
            (err: unknown) => finish(err), // a defect, not an input: surface it
          );
        }
        if (this.#inflight === 0 && this.#head >= this.#queue.length) finish();
      };
      this.#signal.addEventListener('abort', onAbort, { once: true });
      pump();
    });
  }

  async #run(task: Task): Promise<void> {
    if (task.kind === 'root') {
      const root = await this.root(task.tree);
      if (root.ok) this.#addSubtrees(task.tree, root.value);
      else if (!root.aborted) this.#errors.push(`linked tree ${task.tree.url}: ${root.error}`);
      return;
    }
    const { tree, name, subtree, depth } = task;
    const fqdn = `${name}.${tree.domain}`;
    let texts: string[];
    try {
      texts = await this.#lookup.txt(fqdn);
    } catch (err) {
      if (!(err instanceof LookupError)) throw err;
      if (err.kind !== 'aborted') this.#errors.push(err.message);
      return;
    }
    const entries = texts.filter(isTreeEntry);
    const text = entries.find((t) => hashMatches(name, t, this.#crypto));
    if (text === undefined) {
      this.#errors.push(entries.length === 0 ? `${fqdn}: no tree entry` : `${fqdn}: entry does not hash to its name`);
      return;
    }
    const entry = parseEntry(text, this.#crypto);
    if (!entry.ok) {
      this.#errors.push(`${fqdn}: ${entry.error}`);
      return;
    }
    const value = entry.value;
    if (value.type === 'branch') {
      for (const child of value.children) this.#schedule(tree, child, subtree, depth + 1);
    } else if (value.type === 'enr') {
      if (subtree === 'enr') this.#leaves.push({ fqdn, text: value.text });
      else this.#errors.push(`${fqdn}: record in the link subtree`);
    } else if (subtree === 'link') {
      this.#addLink(value.link);
    } else {
      this.#errors.push(`${fqdn}: link in the record subtree`);
    }
  }

  /** Decodes and verifies the records found (in batches), one per node id: the highest seq wins. */
  #decodeLeaves(): Enr[] {
    const decoder = new EnrDecoder(this.#crypto, { cacheSize: DECODE_BATCH });
    const byId = new Map<string, Enr>();
    for (let start = 0; start < this.#leaves.length; start += DECODE_BATCH) {
      const batch = this.#leaves.slice(start, start + DECODE_BATCH);
      const results = decoder.decodeBatch(batch.map((leaf) => leaf.text));
      results.forEach((result, i) => {
        if (!(result instanceof Enr)) {
          this.#errors.push(`${(batch[i] as Leaf).fqdn}: invalid record (${result.code}: ${result.message})`);
          return;
        }
        const id = bytesKey(result.nodeId);
        const known = byId.get(id);
        if (known === undefined || result.seq > known.seq) byId.set(id, result);
      });
    }
    return [...byId.values()];
  }
}
