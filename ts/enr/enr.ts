/**
 * `Enr`: an immutable, signed node record (EIP-778, "v4" identity scheme).
 *
 * A record keeps its encoded bytes, its parts and, once computed, its node id, its text form and
 * the result of its signature check, so reading fields never re-verifies anything. Changing a
 * record means making a new one with seq + 1, signed again (`update`).
 */
import type { Crypto } from '../crypto/crypto.js';
import { decodeSmallUint } from '../rlp/rlp.js';
import { toHex } from '../util/bytes.js';
import { Discv5Error, ErrorCode } from '../util/errors.js';
import { formatIPv4, formatIPv6 } from '../util/ip.js';
import { encodeBase64url } from './base64url.js';
import {
  type Bitvector,
  decodeAttnets,
  decodeCgc,
  decodeEth,
  decodeEth2,
  decodeNfd,
  decodeSyncnets,
} from './consensus.js';
import { ENR_PREFIX, type PortKey } from './constants.js';
import { type EnrEntries, encodeEntries, signRecord } from './create.js';
import { parseRecord, textToBytes } from './decode.js';
import type { Endpoint, EnrPair, EnrParts, Eth2Value, EthForkId } from './types.js';

export interface DecodeOptions {
  /** Check the signature now (default true). Unverified records can be checked later with `verify()`. */
  verify?: boolean;
  /**
   * Refuse a record whose typed entries (eth2, attnets, syncnets, cgc, nfd, eth) are malformed
   * (default false: such a record decodes, and its getters read those entries as undefined).
   */
  strict?: boolean;
}

/** The typed entries a record's getters decode, each with its decoder (which throws ENR_VALUE). */
const TYPED: ReadonlyMap<string, (pair: EnrPair) => unknown> = new Map<string, (pair: EnrPair) => unknown>([
  ['eth2', (p) => decodeEth2(stringValue(p))],
  ['attnets', (p) => decodeAttnets(stringValue(p))],
  ['syncnets', (p) => decodeSyncnets(stringValue(p))],
  ['cgc', (p) => decodeCgc(stringValue(p))],
  ['nfd', (p) => decodeNfd(stringValue(p))],
  ['eth', (p) => decodeEth(p.raw)],
]);

/** The keys whose values the typed getters decode. */
export const TYPED_KEYS: readonly string[] = [...TYPED.keys()];

function stringValue(p: EnrPair): Uint8Array {
  if (p.isList) throw new Discv5Error(ErrorCode.ENR_VALUE, `${p.key} must be a byte string, not a list`);
  return p.value;
}

export class Enr {
  readonly seq: bigint;
  readonly signature: Uint8Array;
  /** The 33-byte compressed `secp256k1` key. */
  readonly publicKey: Uint8Array;
  /** The whole record, RLP: what goes on the wire. */
  readonly encoded: Uint8Array;
  /** RLP of [seq, k1, v1, ...]: what the signature covers. */
  readonly content: Uint8Array;
  readonly #pairs: Map<string, EnrPair>;
  readonly #crypto: Crypto;
  #verified: boolean | undefined;
  #nodeId: Uint8Array | undefined;
  #text: string | undefined;
  /**
   * Derived values cached on first use: a record is immutable, and a node (or a testnet of
   * thousands in one process) asks for the same record's id and endpoints many times.
   */
  #hex: string | undefined;
  #ip: string | null | undefined;
  #ip6: string | null | undefined;
  #udp4: Endpoint | null | undefined;
  #udp6: Endpoint | null | undefined;
  /** The typed keys present whose values do not decode, with why; computed once. */
  #invalid: Map<string, Discv5Error> | undefined;

  /** Use `Enr.decode`, `Enr.decodeText`, `Enr.create` or `update`. */
  private constructor(parts: EnrParts, crypto: Crypto, verified: boolean | undefined) {
    this.seq = parts.seq;
    this.signature = parts.signature;
    this.publicKey = parts.publicKey;
    this.encoded = parts.encoded;
    this.content = parts.content;
    this.#pairs = parts.pairs;
    this.#crypto = crypto;
    this.#verified = verified;
  }

  /**
   * A record from its RLP bytes (copied) or its `enr:` text. Throws a Discv5Error (ERR_ENR_*) if
   * invalid; with `strict`, also ERR_ENR_VALUE if a typed entry is malformed.
   */
  static decode(input: Uint8Array | string, crypto: Crypto, options: DecodeOptions = {}): Enr {
    const bytes = typeof input === 'string' ? textToBytes(input) : Uint8Array.from(input);
    const enr = Enr.fromParts(parseRecord(bytes), crypto, options.verify ?? true);
    if (options.strict === true) enr.assertValid();
    return enr;
  }

  /**
   * @internal A record from parts already parsed (and owned): verified now (`true`), left for later
   * (`false`), or known valid with its node id (from a batch check).
   */
  static fromParts(parts: EnrParts, crypto: Crypto, verify: boolean | { nodeId: Uint8Array }): Enr {
    const known = typeof verify === 'object';
    const enr = new Enr(parts, crypto, known ? true : undefined);
    if (known) enr.#nodeId = verify.nodeId;
    if (verify === true && !enr.verify()) {
      throw new Discv5Error(ErrorCode.ENR_VERIFY, 'record signature does not verify');
    }
    return enr;
  }

  /** A new record signed with `privateKey` (seq defaults to 1). */
  static create(privateKey: Uint8Array, entries: EnrEntries, crypto: Crypto, seq = 1n): Enr {
    const raw = new Map<string, Uint8Array>();
    for (const [k, v] of encodeEntries(entries)) if (v !== null) raw.set(k, v);
    return new Enr(signRecord(crypto, privateKey, seq, raw), crypto, true);
  }

  /**
   * A copy with `changes` applied (null removes a key), signed again with the record's own key, at
   * seq + 1 or at `seq` when given (which must be higher than the record's).
   */
  update(privateKey: Uint8Array, changes: EnrEntries, seq = this.seq + 1n): Enr {
    if (typeof seq !== 'bigint' || seq <= this.seq || seq >= 1n << 64n) {
      throw new Discv5Error(ErrorCode.ENR_SEQ, "the new seq must be above the record's and below 2^64");
    }
    const own = this.#crypto.publicKeyFromPrivate(privateKey);
    if (Buffer.compare(own, this.publicKey) !== 0) {
      throw new Discv5Error(ErrorCode.INVALID_ARGUMENT, 'private key does not belong to this record');
    }
    const raw = new Map<string, Uint8Array>();
    for (const [k, p] of this.#pairs) if (k !== 'id' && k !== 'secp256k1') raw.set(k, p.raw);
    for (const [k, v] of encodeEntries(changes)) {
      if (v === null) raw.delete(k);
      else raw.set(k, v);
    }
    return new Enr(signRecord(this.#crypto, privateKey, seq, raw), this.#crypto, true);
  }

  /** Whether the signature verifies; computed once (with the node id, in the same backend call). */
  verify(): boolean {
    if (this.#verified === undefined) {
      const [id] = this.#crypto.enrVerifyBatch([
        { publicKey: this.publicKey, content: this.content, signature: this.signature },
      ]);
      this.#verified = id !== null && id !== undefined;
      if (this.#verified) this.#nodeId ??= id as Uint8Array;
    }
    return this.#verified;
  }

  /** keccak256 of the uncompressed public key; computed once. */
  get nodeId(): Uint8Array {
    if (this.#nodeId === undefined) {
      const id = this.#crypto.nodeIdFromPublicKey(this.publicKey);
      if (id === null) throw new Discv5Error(ErrorCode.ENR_VERIFY, 'secp256k1 is not a point on the curve');
      this.#nodeId = id;
    }
    return this.#nodeId;
  }

  get nodeIdHex(): string {
    this.#hex ??= toHex(this.nodeId);
    return this.#hex;
  }

  /** The text form, `enr:` + base64url. */
  get text(): string {
    this.#text ??= ENR_PREFIX + encodeBase64url(this.encoded);
    return this.#text;
  }

  toString(): string {
    return this.text;
  }

  /** The identity scheme ("v4"). */
  get id(): string {
    return 'v4';
  }

  has(key: string): boolean {
    return this.#pairs.has(key);
  }

  /** The value of `key`: a byte string's content, or a list value's RLP encoding. */
  get(key: string): Uint8Array | undefined {
    return this.#pairs.get(key)?.value;
  }

  /** The value's RLP encoding, exactly as signed. */
  getRaw(key: string): Uint8Array | undefined {
    return this.#pairs.get(key)?.raw;
  }

  /** Keys in record order. */
  keys(): string[] {
    return [...this.#pairs.keys()];
  }

  // ip and ip6 are checked at decode (4 and 16 bytes, not lists), so these never throw.
  get ip(): string | undefined {
    if (this.#ip === undefined) {
      const v = this.get('ip');
      this.#ip = v === undefined ? null : formatIPv4(v);
    }
    return this.#ip ?? undefined;
  }

  get ip6(): string | undefined {
    if (this.#ip6 === undefined) {
      const v = this.get('ip6');
      this.#ip6 = v === undefined ? null : formatIPv6(v);
    }
    return this.#ip6 ?? undefined;
  }

  #port(key: PortKey): number | undefined {
    const v = this.get(key);
    // Checked at decode (parseRecord, which every record goes through): at most 2 bytes, minimal.
    return v === undefined ? undefined : (decodeSmallUint(v, 2) ?? undefined);
  }

  get tcp(): number | undefined {
    return this.#port('tcp');
  }
  get udp(): number | undefined {
    return this.#port('udp');
  }
  get quic(): number | undefined {
    return this.#port('quic');
  }
  get tcp6(): number | undefined {
    return this.#port('tcp6');
  }
  get udp6(): number | undefined {
    return this.#port('udp6');
  }
  get quic6(): number | undefined {
    return this.#port('quic6');
  }

  /** IPv4 ip + port, or undefined; `kind` is udp (discv5), tcp or quic (libp2p). */
  endpoint4(kind: 'udp' | 'tcp' | 'quic' = 'udp'): Endpoint | undefined {
    if (kind === 'udp' && this.#udp4 !== undefined) return this.#udp4 ?? undefined;
    const ip = this.ip;
    const port = this.#port(kind);
    const ep = ip === undefined || port === undefined ? undefined : Object.freeze({ ip, port });
    if (kind === 'udp') this.#udp4 = ep ?? null;
    return ep;
  }

  /** IPv6 ip6 + port; a port without the 6 suffix applies to both families (EIP-778). */
  endpoint6(kind: 'udp' | 'tcp' | 'quic' = 'udp'): Endpoint | undefined {
    if (kind === 'udp' && this.#udp6 !== undefined) return this.#udp6 ?? undefined;
    const ip = this.ip6;
    const port = this.#port(`${kind}6`) ?? this.#port(kind);
    const ep = ip === undefined || port === undefined ? undefined : Object.freeze({ ip, port });
    if (kind === 'udp') this.#udp6 = ep ?? null;
    return ep;
  }

  /**
   * The typed keys present (eth2, attnets, syncnets, cgc, nfd, eth) whose values are malformed, in
   * record order. Their getters read undefined; anyone can sign such a record, so this is data, not
   * an error.
   */
  invalidKeys(): string[] {
    return [...this.#invalidMap().keys()];
  }

  /** Throws a Discv5Error (ERR_ENR_VALUE) naming the first malformed typed entry, if there is one. */
  assertValid(): void {
    for (const err of this.#invalidMap().values()) throw err;
  }

  #invalidMap(): Map<string, Discv5Error> {
    if (this.#invalid === undefined) {
      const invalid = new Map<string, Discv5Error>();
      for (const [key, pair] of this.#pairs) {
        const decode = TYPED.get(key);
        if (decode === undefined) continue;
        try {
          decode(pair);
        } catch (err) {
          const why = err instanceof Error ? err.message : String(err);
          invalid.set(key, new Discv5Error(ErrorCode.ENR_VALUE, `record entry "${key}" is malformed: ${why}`));
        }
      }
      this.#invalid = invalid;
    }
    return this.#invalid;
  }

  /** A typed entry's value, or undefined if it is absent or malformed: never throws. */
  #typed<T>(key: string): T | undefined {
    const pair = this.#pairs.get(key);
    if (pair === undefined || this.#invalidMap().has(key)) return undefined;
    // Checked above: the decoder succeeds on this value (and returns fresh copies each time).
    return (TYPED.get(key) as (pair: EnrPair) => T)(pair);
  }

  /** The consensus layer's ENRForkID; undefined if absent or malformed (see `invalidKeys`). */
  get eth2(): Eth2Value | undefined {
    return this.#typed<Eth2Value>('eth2');
  }

  /** The fork digest of `eth2`: what consensus clients match peers on. */
  get forkDigest(): Uint8Array | undefined {
    return this.eth2?.forkDigest;
  }

  /** Attestation subnets, a Bitvector[64]; undefined if absent or malformed. */
  get attnets(): Bitvector | undefined {
    return this.#typed<Bitvector>('attnets');
  }

  /** Sync-committee subnets, a Bitvector[4]; undefined if absent or malformed. */
  get syncnets(): Bitvector | undefined {
    return this.#typed<Bitvector>('syncnets');
  }

  /** Custody group count; undefined if absent or malformed. */
  get cgc(): number | undefined {
    return this.#typed<number>('cgc');
  }

  /** The next fork's digest; undefined if absent or malformed. */
  get nfd(): Uint8Array | undefined {
    return this.#typed<Uint8Array>('nfd');
  }

  /** The execution layer's EIP-2124 fork id; undefined if absent or malformed. */
  get eth(): EthForkId | undefined {
    return this.#typed<EthForkId>('eth');
  }
}
