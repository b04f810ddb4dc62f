/**
 * EIP-1459 entries: parsing (strict, never throwing: a refused input comes back as an error
 * message), hash names and the root signature. Every text here may come from a hostile DNS answer.
 */
import type { Crypto } from '../crypto/crypto.js';
import { decodeBase64url } from '../enr/base64url.js';
import { decodeBase32, encodeBase32 } from './base32.js';
import {
  BRANCH_PREFIX,
  ENR_PREFIX,
  HASH_SIZE,
  LINK_PREFIX,
  MAX_BRANCH_WIDTH,
  MAX_DOMAIN_LENGTH,
  MAX_ENTRY_LENGTH,
  MAX_HASH_BYTES,
  MIN_HASH_BYTES,
  ROOT_PREFIX,
} from './constants.js';
import type { Parsed, RootEntry, TreeEntry, TreeLink } from './types.js';

const SIGNATURE_LENGTH = 65;
const PUBLIC_KEY_LENGTH = 33;
const LABEL = /^[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?$/;
/** Printable ASCII without spaces: all an entry other than the root may contain. */
const ENTRY_CHARS = /^[\x21-\x7e]*$/;
const ROOT = /^enrtree-root:v1 e=([A-Z2-7]+) l=([A-Z2-7]+) seq=(0|[1-9][0-9]{0,19}) sig=([A-Za-z0-9_-]+)$/;

function fail<T>(error: string): Parsed<T> {
  return { ok: false, error };
}

/** The bytes an entry's hash and signature cover. TXT strings arrive one char per byte (latin1). */
export function textBytes(text: string): Uint8Array {
  return Buffer.from(text, 'latin1');
}

/** A DNS name of letters, digits, '-' and '_' in labels of 1-63, at most 253 characters. */
export function isDomainName(domain: string): boolean {
  if (domain.length === 0 || domain.length > MAX_DOMAIN_LENGTH) return false;
  return domain.split('.').every((label) => LABEL.test(label));
}

/** A canonical base32 hash name of 12 to 32 bytes. */
export function isHashName(name: string): boolean {
  const bytes = decodeBase32(name);
  return bytes !== null && bytes.length >= MIN_HASH_BYTES && bytes.length <= MAX_HASH_BYTES;
}

/** The name of an entry: base32 of the first 16 bytes of keccak256(text). */
export function entryName(text: string, crypto: Crypto): string {
  return encodeBase32(crypto.keccak256(textBytes(text)).subarray(0, HASH_SIZE));
}

/** Whether `text` hashes to `name` (a name of n bytes is the first n bytes of the hash). */
export function hashMatches(name: string, text: string, crypto: Crypto): boolean {
  const want = decodeBase32(name);
  if (want === null || want.length < MIN_HASH_BYTES || want.length > MAX_HASH_BYTES) return false;
  const hash = crypto.keccak256(textBytes(text));
  for (let i = 0; i < want.length; i++) if (want[i] !== hash[i]) return false;
  return true;
}

/** `enrtree://<base32 compressed key>@<domain>`; the key must be a point on the curve. */
export function parseLink(text: string, crypto: Crypto): Parsed<TreeLink> {
  if (typeof text !== 'string' || !text.startsWith(LINK_PREFIX)) return fail('not an enrtree:// URL');
  if (text.length > MAX_ENTRY_LENGTH || !ENTRY_CHARS.test(text)) return fail('link has invalid characters or length');
  const rest = text.slice(LINK_PREFIX.length);
  const at = rest.indexOf('@');
  if (at < 0) return fail('link has no public key');
  const keyText = rest.slice(0, at);
  let domain = rest.slice(at + 1);
  if (domain.endsWith('.')) domain = domain.slice(0, -1);
  const publicKey = decodeBase32(keyText);
  if (publicKey === null || publicKey.length !== PUBLIC_KEY_LENGTH || (publicKey[0] !== 2 && publicKey[0] !== 3)) {
    return fail('link public key is not a base32 compressed secp256k1 key');
  }
  if (crypto.decompressPublicKey(publicKey) === null) return fail('link public key is not a point on the curve');
  if (!isDomainName(domain)) return fail('link domain is not a valid DNS name');
  return { ok: true, value: { url: text, publicKey, domain, key: `${keyText}@${domain.toLowerCase()}` } };
}

/** `enrtree-root:v1 e=<hash> l=<hash> seq=<n> sig=<base64url>`, in exactly that form. */
export function parseRoot(text: string): Parsed<RootEntry> {
  if (text.length > MAX_ENTRY_LENGTH) return fail('root entry too long');
  const m = ROOT.exec(text);
  if (m === null) return fail('root entry is not "enrtree-root:v1 e=<hash> l=<hash> seq=<n> sig=<signature>"');
  const [, enrRoot, linkRoot, seqText, sigText] = m as unknown as [string, string, string, string, string];
  if (!isHashName(enrRoot) || !isHashName(linkRoot)) return fail('root entry names an invalid hash');
  const signature = decodeBase64url(sigText);
  if (signature === null || signature.length !== SIGNATURE_LENGTH) {
    return fail('root signature is not 65 bytes of base64url');
  }
  const seq = Number(seqText);
  if (BigInt(seqText) > 0xffff_ffff_ffff_ffffn) return fail('root seq is over 2^64 - 1');
  return {
    ok: true,
    value: { enrRoot, linkRoot, seq, signature, signedText: text.slice(0, text.lastIndexOf(' sig=')) },
  };
}

/**
 * Whether the root's signature (r ‖ s, low s) verifies for keccak256 of its signed text under the
 * tree's key. The recovery id is not needed to verify against a known key and is not checked.
 */
export function verifyRoot(root: RootEntry, publicKey: Uint8Array, crypto: Crypto): boolean {
  return crypto.enrVerify(publicKey, textBytes(root.signedText), root.signature.subarray(0, 64));
}

function parseBranch(text: string): Parsed<TreeEntry> {
  const body = text.slice(BRANCH_PREFIX.length);
  if (body === '') return { ok: true, value: { type: 'branch', children: [] } };
  const children = body.split(',', MAX_BRANCH_WIDTH + 1);
  if (children.length > MAX_BRANCH_WIDTH) return fail(`branch has more than ${MAX_BRANCH_WIDTH} children`);
  if (!children.every(isHashName)) return fail('branch names an invalid hash');
  return { ok: true, value: { type: 'branch', children } };
}

/**
 * A tree entry below the root: a branch, a record (`enr:` text, decoded and verified later) or a
 * link. Only the shape is checked here; the caller checks the hash against the entry's name.
 */
export function parseEntry(text: string, crypto: Crypto): Parsed<TreeEntry> {
  if (text.length > MAX_ENTRY_LENGTH) return fail(`entry is over ${MAX_ENTRY_LENGTH} characters`);
  if (!ENTRY_CHARS.test(text)) return fail('entry has characters other than printable ASCII');
  if (text.startsWith(BRANCH_PREFIX)) return parseBranch(text);
  if (text.startsWith(ENR_PREFIX)) return { ok: true, value: { type: 'enr', text } };
  if (text.startsWith(LINK_PREFIX)) {
    const link = parseLink(text, crypto);
    return link.ok ? { ok: true, value: { type: 'link', link: link.value } } : link;
  }
  return fail('unknown entry type');
}

/** Whether a TXT record is a branch, record or link (other TXT records at a name are ignored). */
export function isTreeEntry(text: string): boolean {
  return text.startsWith(BRANCH_PREFIX) || text.startsWith(ENR_PREFIX) || text.startsWith(LINK_PREFIX);
}

/** Whether a TXT record is a root entry of this EIP's version (others at the domain are ignored). */
export function isRootEntry(text: string): boolean {
  return text.startsWith(`${ROOT_PREFIX} `);
}
