/**
 * `resolveTree`: every record of an EIP-1459 tree (`enrtree://<key>@<domain>`) and of the trees it
 * links to, fetched over DNS. The root must resolve and verify against the URL's key, or the call
 * throws; below it, whatever a DNS answer holds is skipped and counted in `errors`, never thrown.
 */
import { setMaxListeners } from 'node:events';
import { Discv5Error, ErrorCode } from '../util/errors.js';
import {
  DEFAULT_MAX_DEPTH,
  DEFAULT_MAX_ENTRIES,
  DEFAULT_MAX_LINKS,
  DEFAULT_TIMEOUT_MS,
  LOOKUP_CONCURRENCY,
} from './constants.js';
import { defaultCrypto } from './default-crypto.js';
import { TxtLookup } from './lookup.js';
import { parseLink } from './tree.js';
import type { ResolvedTree, ResolveTreeOptions } from './types.js';
import { TreeWalk, type WalkLimits } from './walk.js';

function integerOption(value: number | undefined, name: string, fallback: number, min: number, max: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw new Discv5Error(ErrorCode.INVALID_ARGUMENT, `${name} must be an integer from ${min} to ${max}, got ${value}`);
  }
  return value;
}

function limitsOf(options: ResolveTreeOptions): WalkLimits & { timeoutMs: number } {
  return {
    timeoutMs: integerOption(options.timeoutMs, 'timeoutMs', DEFAULT_TIMEOUT_MS, 1, 2 ** 31 - 1),
    maxEntries: integerOption(options.maxEntries, 'maxEntries', DEFAULT_MAX_ENTRIES, 0, 2 ** 32),
    maxDepth: integerOption(options.maxDepth, 'maxDepth', DEFAULT_MAX_DEPTH, 1, 1024),
    maxLinks: integerOption(options.maxLinks, 'maxLinks', DEFAULT_MAX_LINKS, 0, 2 ** 32),
  };
}

function aborted(): Discv5Error {
  return new Discv5Error(ErrorCode.ABORTED, 'DNS tree resolution aborted');
}

/**
 * Resolves an `enrtree://` URL: the root (which must verify against the URL's key), then the link
 * and record subtrees breadth first, then the trees linked to (each once, at most `maxLinks`).
 *
 * Throws a Discv5Error: ERR_INVALID_ARGUMENT for a malformed URL or option, ERR_ABORTED when the
 * signal fires, ERR_REQUEST_TIMEOUT when the root does not answer in time, ERR_DNS_TREE when the root
 * is missing, malformed or its signature does not verify. Everything below the root that fails
 * (a lookup, a hash, an entry, a record, a linked tree, a limit) is a message in `errors`.
 */
export async function resolveTree(url: string, options: ResolveTreeOptions = {}): Promise<ResolvedTree> {
  const crypto = options.crypto ?? defaultCrypto();
  const limits = limitsOf(options);
  if (typeof url !== 'string') throw new Discv5Error(ErrorCode.INVALID_TYPE, 'url must be a string');
  const tree = parseLink(url, crypto);
  if (!tree.ok) throw new Discv5Error(ErrorCode.INVALID_ARGUMENT, `invalid enrtree URL "${url}": ${tree.error}`);
  if (options.signal?.aborted) throw aborted();

  const controller = new AbortController();
  // One listener per lookup in flight, and the walk's own.
  setMaxListeners(LOOKUP_CONCURRENCY + 2, controller.signal);
  const lookup = new TxtLookup({ server: options.server, timeoutMs: limits.timeoutMs, signal: controller.signal });
  const onAbort = () => controller.abort(aborted());
  options.signal?.addEventListener('abort', onAbort, { once: true });
  try {
    const walk = new TreeWalk(lookup, crypto, limits, controller.signal);
    const root = await walk.root(tree.value);
    if (controller.signal.aborted) throw aborted();
    if (!root.ok) {
      const code = root.timeout ? ErrorCode.REQUEST_TIMEOUT : ErrorCode.DNS_TREE;
      throw new Discv5Error(code, `enrtree root of ${url}: ${root.error}`);
    }
    const records = await walk.walk(tree.value, root.value);
    return { records, links: walk.links, seq: root.value.seq, errors: walk.errors };
  } finally {
    options.signal?.removeEventListener('abort', onAbort);
    lookup.close();
  }
}
