/**
 * Building and signing an EIP-1459 tree, for tests and for anyone who publishes a list: records
 * sorted by node id under branches of at most 13 hashes (so every entry fits one UDP answer),
 * links in a subtree of their own, and a root signed with the list's key.
 */
import { secp256k1 } from '@noble/curves/secp256k1.js';
import type { Crypto } from '../crypto/crypto.js';
import { EnrDecoder } from '../enr/batch.js';
import type { Enr } from '../enr/enr.js';
import { bytesEqual } from '../util/bytes.js';
import { Discv5Error, ErrorCode } from '../util/errors.js';
import { encodeBase32 } from './base32.js';
import { BRANCH_PREFIX, BUILD_BRANCH_WIDTH, LINK_PREFIX, ROOT_PREFIX } from './constants.js';
import { defaultCrypto } from './default-crypto.js';
import { entryName, isDomainName, isHashName, parseLink, textBytes } from './tree.js';
import type { BuiltTree } from './types.js';

function invalid(message: string): never {
  throw new Discv5Error(ErrorCode.INVALID_ARGUMENT, message);
}

/**
 * The recovery id of a signature: the backends sign r ‖ s without it, and verifying against a
 * known key does not need it, but the root carries 65 bytes and other clients may recover.
 */
function recoveryId(signature: Uint8Array, digest: Uint8Array, publicKey: Uint8Array): number {
  const sig = secp256k1.Signature.fromBytes(signature, 'compact');
  for (const bit of [0, 1]) {
    try {
      if (bytesEqual(sig.addRecoveryBit(bit).recoverPublicKey(digest).toBytes(true), publicKey)) return bit;
    } catch {
      // this bit names no point: try the other
    }
  }
  throw new Discv5Error(ErrorCode.INVALID_ARGUMENT, 'signature does not recover to the signing key');
}

/** The root entry `enrtree-root:v1 e=.. l=.. seq=.. sig=..`, signed with `privateKey`. */
export function signRoot(
  privateKey: Uint8Array,
  enrRoot: string,
  linkRoot: string,
  seq: number,
  crypto: Crypto = defaultCrypto(),
): string {
  if (!isHashName(enrRoot) || !isHashName(linkRoot)) invalid('subtree roots must be base32 hash names');
  if (!Number.isSafeInteger(seq) || seq < 0) invalid(`seq must be a non-negative safe integer, got ${seq}`);
  const text = `${ROOT_PREFIX} e=${enrRoot} l=${linkRoot} seq=${seq}`;
  const content = textBytes(text);
  const signature = crypto.enrSign(privateKey, content);
  const v = recoveryId(signature, crypto.keccak256(content), crypto.publicKeyFromPrivate(privateKey));
  const full = new Uint8Array(65);
  full.set(signature);
  full[64] = v;
  return `${text} sig=${Buffer.from(full).toString('base64url')}`;
}

/** Adds leaves and the branches above them to `entries`; returns the name of the subtree's root. */
function addSubtree(leaves: readonly string[], entries: Map<string, string>, crypto: Crypto): string {
  const add = (text: string): string => {
    const name = entryName(text, crypto);
    entries.set(name, text);
    return name;
  };
  if (leaves.length === 0) return add(BRANCH_PREFIX);
  let level = leaves.map(add);
  while (level.length > 1) {
    const next: string[] = [];
    for (let i = 0; i < level.length; i += BUILD_BRANCH_WIDTH) {
      const group = level.slice(i, i + BUILD_BRANCH_WIDTH);
      next.push(group.length === 1 ? (group[0] as string) : add(BRANCH_PREFIX + group.join(',')));
    }
    level = next;
  }
  return level[0] as string;
}

/**
 * A signed tree of `records` and `links` (enrtree:// URLs) at `domain`: its URL and every TXT
 * record to publish, by fully qualified name. Records are decoded and verified first (text or Enr);
 * throws ERR_INVALID_ARGUMENT for a bad domain, link or seq, ERR_ENR_* for a bad record.
 */
export function buildTree(
  privateKey: Uint8Array,
  records: readonly (Enr | string)[],
  links: readonly string[],
  seq: number,
  domain: string,
  crypto: Crypto = defaultCrypto(),
): BuiltTree {
  if (typeof domain !== 'string' || !isDomainName(domain)) invalid(`domain must be a DNS name, got "${domain}"`);
  const publicKey = crypto.publicKeyFromPrivate(privateKey);
  const decoder = new EnrDecoder(crypto);
  const decoded = records.map((r) => (typeof r === 'string' ? decoder.decode(r) : r));
  decoded.sort((a, b) => Buffer.compare(a.nodeId, b.nodeId));
  const enrTexts = [...new Set(decoded.map((r) => r.text))];
  const linkTexts = links.map((link) => {
    const parsed = parseLink(link, crypto);
    if (!parsed.ok) invalid(`invalid link "${link}": ${parsed.error}`);
    return link;
  });

  const entries = new Map<string, string>();
  const enrRoot = addSubtree(enrTexts, entries, crypto);
  const linkRoot = addSubtree([...new Set(linkTexts)], entries, crypto);
  const root = signRoot(privateKey, enrRoot, linkRoot, seq, crypto);
  const txt = new Map<string, string>([[domain, root]]);
  for (const [name, text] of entries) txt.set(`${name}.${domain}`, text);
  return { url: `${LINK_PREFIX}${encodeBase32(publicKey)}@${domain}`, txt, root };
}
