/**
 * Parsing of a record's bytes into its parts, strictly (EIP-778, spec §10): at most 300 bytes, one
 * canonical RLP list [signature, seq, k1, v1, ...] with nothing after it, keys ascending and unique,
 * `id` = "v4", a 33-byte compressed `secp256k1`, well-formed ip/ip6 and ports. The signature is
 * checked by the caller (alone or in a batch).
 */

import { listHeader, listSpans, RlpError, type RlpSpan, readSpan } from '../rlp/rlp.js';
import { Discv5Error, ErrorCode } from '../util/errors.js';
import { decodeBase64url } from './base64url.js';
import { ENR_PREFIX, ID_SCHEME_V4, MAX_RECORD_SIZE, PORT_KEYS } from './constants.js';
import type { EnrPair, EnrParts } from './types.js';

const latin1 = new TextDecoder('latin1');

function fail(code: (typeof ErrorCode)[keyof typeof ErrorCode], message: string): never {
  throw new Discv5Error(code, message);
}

/** The RLP bytes of a record's text form. */
export function textToBytes(text: string): Uint8Array {
  if (typeof text !== 'string') fail(ErrorCode.INVALID_TYPE, 'record text must be a string');
  if (!text.startsWith(ENR_PREFIX)) fail(ErrorCode.ENR_BASE64, 'record text must start with "enr:"');
  const bytes = decodeBase64url(text.slice(ENR_PREFIX.length));
  if (bytes === null) fail(ErrorCode.ENR_BASE64, 'record text is not unpadded base64url');
  return bytes;
}

function spans(input: Uint8Array): RlpSpan[] {
  try {
    const outer = readSpan(input, 0);
    if (!outer.isList) fail(ErrorCode.ENR_RLP, 'a record is an RLP list');
    if (outer.end !== input.length) fail(ErrorCode.ENR_RLP, 'bytes after the record');
    return listSpans(input, outer);
  } catch (err) {
    if (err instanceof RlpError) fail(ErrorCode.ENR_RLP, `record RLP: ${err.message}`);
    throw err;
  }
}

function checkPort(pair: EnrPair): void {
  const v = pair.value;
  if (pair.isList || v.length > 2 || (v.length > 0 && v[0] === 0)) {
    fail(ErrorCode.ENR_PORT, `${pair.key} must be a minimal integer up to 65535`);
  }
}

function checkValues(pairs: Map<string, EnrPair>): Uint8Array {
  const id = pairs.get('id');
  if (id === undefined) fail(ErrorCode.ENR_ID, 'record has no "id"');
  if (id.isList || latin1.decode(id.value) !== ID_SCHEME_V4) fail(ErrorCode.ENR_ID, 'identity scheme is not "v4"');
  const key = pairs.get('secp256k1');
  if (key === undefined || key.isList || key.value.length !== 33 || (key.value[0] !== 2 && key.value[0] !== 3)) {
    fail(ErrorCode.ENR_PUBLIC_KEY, 'secp256k1 must be a 33-byte compressed public key');
  }
  const ip = pairs.get('ip');
  if (ip !== undefined && (ip.isList || ip.value.length !== 4)) fail(ErrorCode.ENR_IP, 'ip must be 4 bytes');
  const ip6 = pairs.get('ip6');
  if (ip6 !== undefined && (ip6.isList || ip6.value.length !== 16)) fail(ErrorCode.ENR_IP, 'ip6 must be 16 bytes');
  for (const k of PORT_KEYS) {
    const p = pairs.get(k);
    if (p !== undefined) checkPort(p);
  }
  return key.value;
}

/** Parses and checks a record's RLP (not its signature). */
export function parseRecord(input: Uint8Array): EnrParts {
  if (!(input instanceof Uint8Array)) fail(ErrorCode.INVALID_TYPE, 'record must be a Uint8Array or text');
  if (input.length > MAX_RECORD_SIZE)
    fail(ErrorCode.ENR_TOO_LARGE, `record is ${input.length} bytes, over ${MAX_RECORD_SIZE}`);
  const items = spans(input);
  if (items.length < 2 || items.length % 2 !== 0) fail(ErrorCode.ENR_RLP, 'a record is [signature, seq, k, v, ...]');
  const [sigSpan, seqSpan] = items as [RlpSpan, RlpSpan];
  if (sigSpan.isList) fail(ErrorCode.ENR_RLP, 'signature must be a byte string');
  if (seqSpan.isList) fail(ErrorCode.ENR_SEQ, 'seq must be an integer');
  const seqBytes = input.subarray(seqSpan.payload, seqSpan.end);
  if (seqBytes.length > 8 || (seqBytes.length > 0 && seqBytes[0] === 0)) {
    fail(ErrorCode.ENR_SEQ, 'seq must be a minimal integer of at most 8 bytes');
  }
  let seq = 0n;
  for (const b of seqBytes) seq = (seq << 8n) | BigInt(b);

  const pairs = new Map<string, EnrPair>();
  let previous: Uint8Array | null = null;
  for (let i = 2; i < items.length; i += 2) {
    const k = items[i] as RlpSpan;
    const v = items[i + 1] as RlpSpan;
    if (k.isList) fail(ErrorCode.ENR_RLP, 'keys must be byte strings');
    const keyBytes = input.subarray(k.payload, k.end);
    if (previous !== null) {
      const order = Buffer.compare(previous, keyBytes);
      if (order === 0) fail(ErrorCode.ENR_DUPLICATE_KEY, `key "${latin1.decode(keyBytes)}" appears twice`);
      if (order > 0) fail(ErrorCode.ENR_KEY_ORDER, 'keys must be sorted');
    }
    previous = keyBytes;
    const key = latin1.decode(keyBytes);
    pairs.set(key, {
      key,
      raw: input.subarray(v.start, v.end),
      value: v.isList ? input.subarray(v.start, v.end) : input.subarray(v.payload, v.end),
      isList: v.isList,
    });
  }
  const publicKey = checkValues(pairs);
  // content = [seq, k1, v1, ...]: the record's own payload after the signature, under a new list header.
  const payload = input.subarray(seqSpan.start);
  const head = listHeader(payload.length);
  const content = new Uint8Array(head.length + payload.length);
  content.set(head);
  content.set(payload, head.length);
  return { seq, signature: input.subarray(sigSpan.payload, sigSpan.end), publicKey, pairs, encoded: input, content };
}
