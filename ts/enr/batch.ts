/**
 * Decoding many records at once, as a NODES response or a crawl delivers them: each record is
 * parsed, the signatures of all records not seen before are checked in one backend call, and
 * records that verified are remembered (bounded, the oldest out first), so a record that arrives
 * again costs a map lookup and a comparison of its bytes instead of a signature check.
 *
 * The cache is keyed by the record's signature, not its whole bytes: a crawl looks up every record
 * of every answer (dozens per node), and hashing 64 bytes instead of 150-300, in a map of 100,000,
 * is most of that lookup. A hit still needs the very same bytes. A hit does not renew the entry's
 * place (no delete and insert per lookup): a record that falls out is verified again, once.
 */
import type { Crypto } from '../crypto/crypto.js';
import { bytesEqual, bytesKey } from '../util/bytes.js';
import { Discv5Error, ErrorCode } from '../util/errors.js';
import { LruMap } from '../util/lru.js';
import { parseRecord, textToBytes } from './decode.js';
import { Enr } from './enr.js';
import type { EnrParts } from './types.js';

export interface EnrDecoderOptions {
  /** How many verified records to remember (default 4096). */
  cacheSize?: number;
}

export class EnrDecoder {
  readonly #crypto: Crypto;
  readonly #verified: LruMap<string, Enr>;
  #hits = 0;

  constructor(crypto: Crypto, options: EnrDecoderOptions = {}) {
    this.#crypto = crypto;
    this.#verified = new LruMap(options.cacheSize ?? 4096);
  }

  /** Records answered from the cache so far. */
  get cacheHits(): number {
    return this.#hits;
  }

  get cacheSize(): number {
    return this.#verified.size;
  }

  /** One record, verified (from the cache when seen before). Throws a Discv5Error if invalid. */
  decode(input: Uint8Array | string): Enr {
    const result = this.decodeBatch([input])[0];
    if (result instanceof Enr) return result;
    throw result;
  }

  /**
   * Many records: for each input, its verified Enr or the Discv5Error that refused it, in order.
   * All signatures that need checking are checked in one call into the backend.
   */
  decodeBatch(inputs: readonly (Uint8Array | string)[]): (Enr | Discv5Error)[] {
    const out: (Enr | Discv5Error)[] = new Array(inputs.length);
    const pending: { index: number; parts: EnrParts; key: string }[] = [];
    for (let i = 0; i < inputs.length; i++) {
      try {
        const input = inputs[i] as Uint8Array | string;
        const bytes = typeof input === 'string' ? textToBytes(input) : input;
        const key = signatureKey(bytes);
        const cached = this.#verified.peek(key);
        if (cached !== undefined && bytesEqual(cached.encoded, bytes)) {
          this.#hits++;
          out[i] = cached;
          continue;
        }
        // Copied, so that the record owns its bytes whatever the caller does with the input.
        pending.push({ index: i, parts: parseRecord(Uint8Array.from(bytes)), key });
      } catch (err) {
        if (!(err instanceof Discv5Error)) throw err;
        out[i] = err;
      }
    }
    if (pending.length === 0) return out;
    const nodeIds = this.#crypto.enrVerifyBatch(
      pending.map(({ parts }) => ({ publicKey: parts.publicKey, content: parts.content, signature: parts.signature })),
    );
    pending.forEach(({ index, parts, key }, j) => {
      const nodeId = nodeIds[j];
      if (nodeId === null || nodeId === undefined) {
        out[index] = new Discv5Error(ErrorCode.ENR_VERIFY, 'record signature does not verify');
        return;
      }
      const enr = Enr.fromParts(parts, this.#crypto, { nodeId });
      this.#verified.set(key, enr);
      out[index] = enr;
    });
    return out;
  }
}

/**
 * The cache key of a record's bytes: its signature, the first item of its RLP list (a list of more
 * than 55 bytes, then a 64-byte string); the whole bytes if they are not shaped so (parsing then
 * refuses them, or they verify under that key).
 */
function signatureKey(bytes: Uint8Array): string {
  const at = bytes[0] === 0xf8 ? 2 : bytes[0] === 0xf9 ? 3 : -1;
  if (at < 0 || bytes[at] !== 0xb8 || bytes[at + 1] !== 64 || bytes.length < at + 66) return bytesKey(bytes);
  return bytesKey(bytes.subarray(at + 2, at + 66));
}
