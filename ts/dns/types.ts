/** Types of the EIP-1459 client: parsed entries, resolve options and results, built trees. */
import type { Crypto } from '../crypto/crypto.js';
import type { Enr } from '../enr/enr.js';

/** A parsed `enrtree://<key>@<domain>` URL or link entry. */
export interface TreeLink {
  /** The text as given. */
  url: string;
  /** The 33-byte compressed key that signs the tree. */
  publicKey: Uint8Array;
  /** The domain of the tree's root, as given (without a trailing dot). */
  domain: string;
  /** The tree's identity for loop detection: base32 key @ lower-case domain. */
  key: string;
}

/** A parsed `enrtree-root:v1` entry (its signature not yet checked). */
export interface RootEntry {
  /** Hash name of the root of the record subtree. */
  enrRoot: string;
  /** Hash name of the root of the link subtree. */
  linkRoot: string;
  /** The tree's sequence number (exact up to 2^53). */
  seq: number;
  /** 65 bytes: r ‖ s ‖ recovery id. */
  signature: Uint8Array;
  /** The text that was signed: the entry without ` sig=...`. */
  signedText: string;
}

export type TreeEntry =
  | { type: 'branch'; children: string[] }
  | { type: 'enr'; text: string }
  | { type: 'link'; link: TreeLink };

/** A parse result: the value, or why the input was refused (parsers never throw on input). */
export type Parsed<T> = { ok: true; value: T } | { ok: false; error: string };

export interface ResolveTreeOptions {
  /** DNS server as "IP", "IP:PORT" or "[IPv6]:PORT" (default: the system's resolvers). */
  server?: string;
  /** Ends the whole call: it rejects with ERR_ABORTED. */
  signal?: AbortSignal;
  /** Timeout of each DNS lookup in milliseconds (default 5000). */
  timeoutMs?: number;
  /** Most tree entries fetched, over all trees, roots not counted (default 10,000). */
  maxEntries?: number;
  /** Deepest branch nesting followed below a subtree root (default 16). */
  maxDepth?: number;
  /** Most linked trees followed, the URL's own tree not counted (default 16). */
  maxLinks?: number;
  /** The crypto used to hash entries and verify signatures (default: `createCrypto()`). */
  crypto?: Crypto;
}

export interface ResolvedTree {
  /** Verified records of the tree and of the linked trees followed, one per node id (highest seq). */
  records: Enr[];
  /** Every link found in the trees walked, in the order found, each once. */
  links: string[];
  /** The sequence number of the URL's own tree. */
  seq: number;
  /** One message per entry, lookup, linked root or limit that was skipped. */
  errors: string[];
}

export interface BuiltTree {
  /** `enrtree://<key>@<domain>`. */
  url: string;
  /** Every TXT record of the tree: fully qualified name (the domain itself for the root) -> text. */
  txt: Map<string, string>;
  /** The signed root entry (also in `txt` under the domain). */
  root: string;
}
