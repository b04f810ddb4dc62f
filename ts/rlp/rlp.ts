/**
 * Ethereum RLP, strict: only the canonical encoding of a value is accepted (a single byte below
 * 0x80 is its own encoding, short forms are used up to 55 bytes, lengths have no leading zeros),
 * and a decoded item must fill its input exactly. Decoding returns views into the input; nothing
 * is copied. Errors are `RlpError`s, which callers turn into their own Discv5Error codes.
 */

export type RlpItem = Uint8Array | RlpItem[];

export class RlpError extends Error {
  override name = 'RlpError';
}

/** One item's position: `[offset, payloadStart, end)` in the input, and whether it is a list. */
export interface RlpSpan {
  isList: boolean;
  /** Where the item's header starts. */
  start: number;
  /** Where its payload starts. */
  payload: number;
  /** One past its last byte. */
  end: number;
}

/** Reads the header of the item at `offset` and checks it is canonical and within `limit`. */
export function readSpan(input: Uint8Array, offset: number, limit: number = input.length): RlpSpan {
  if (offset >= limit) throw new RlpError('unexpected end of input');
  const b = input[offset] as number;
  if (b < 0x80) return { isList: false, start: offset, payload: offset, end: offset + 1 };
  const isList = b >= 0xc0;
  const base = isList ? 0xc0 : 0x80;
  let length: number;
  let payload: number;
  if (b - base <= 55) {
    length = b - base;
    payload = offset + 1;
    if (!isList && length === 1) {
      if (payload >= limit) throw new RlpError('unexpected end of input');
      if ((input[payload] as number) < 0x80) throw new RlpError('non-canonical: single byte below 0x80 given a header');
    }
  } else {
    const lengthOfLength = b - base - 55;
    payload = offset + 1 + lengthOfLength;
    if (payload > limit) throw new RlpError('unexpected end of input');
    if (input[offset + 1] === 0) throw new RlpError('non-canonical: length with a leading zero');
    if (lengthOfLength > 4) throw new RlpError('length too large');
    length = 0;
    for (let i = offset + 1; i < payload; i++) length = length * 256 + (input[i] as number);
    if (length <= 55) throw new RlpError('non-canonical: long form for a length under 56');
  }
  const end = payload + length;
  if (end > limit) throw new RlpError('unexpected end of input');
  return { isList, start: offset, payload, end };
}

/** Spans of the items directly inside the list at `span`. */
export function listSpans(input: Uint8Array, span: RlpSpan): RlpSpan[] {
  if (!span.isList) throw new RlpError('expected a list');
  const out: RlpSpan[] = [];
  let at = span.payload;
  while (at < span.end) {
    const s = readSpan(input, at, span.end);
    out.push(s);
    at = s.end;
  }
  return out;
}

function decodeSpan(input: Uint8Array, span: RlpSpan): RlpItem {
  if (!span.isList) return input.subarray(span.payload, span.end);
  return listSpans(input, span).map((s) => decodeSpan(input, s));
}

/** Decodes one item that must fill `input` exactly. */
export function decode(input: Uint8Array): RlpItem {
  const span = readSpan(input, 0);
  if (span.end !== input.length) throw new RlpError('trailing bytes after the item');
  return decodeSpan(input, span);
}

function lengthBytes(n: number): number[] {
  const out: number[] = [];
  for (let v = n; v > 0; v = Math.floor(v / 256)) out.unshift(v % 256);
  return out;
}

function header(length: number, base: number): Uint8Array {
  if (length <= 55) return Uint8Array.of(base + length);
  const len = lengthBytes(length);
  return Uint8Array.of(base + 55 + len.length, ...len);
}

function encodedLength(item: RlpItem): number {
  if (item instanceof Uint8Array) {
    if (item.length === 1 && (item[0] as number) < 0x80) return 1;
    return item.length + (item.length <= 55 ? 1 : 1 + lengthBytes(item.length).length);
  }
  const payload = item.reduce((n, x) => n + encodedLength(x), 0);
  return payload + (payload <= 55 ? 1 : 1 + lengthBytes(payload).length);
}

function write(item: RlpItem, out: Uint8Array, at: number): number {
  if (item instanceof Uint8Array) {
    if (item.length === 1 && (item[0] as number) < 0x80) {
      out[at] = item[0] as number;
      return at + 1;
    }
    const h = header(item.length, 0x80);
    out.set(h, at);
    out.set(item, at + h.length);
    return at + h.length + item.length;
  }
  const payload = item.reduce((n, x) => n + encodedLength(x), 0);
  const h = header(payload, 0xc0);
  out.set(h, at);
  let p = at + h.length;
  for (const x of item) p = write(x, out, p);
  return p;
}

export function encode(item: RlpItem): Uint8Array {
  const out = new Uint8Array(encodedLength(item));
  write(item, out, 0);
  return out;
}

/** The header of a list whose payload is `length` bytes. */
export function listHeader(length: number): Uint8Array {
  return header(length, 0xc0);
}

/** Minimal big-endian bytes of a non-negative integer (0 is empty), as RLP integers are written. */
export function encodeUint(value: number | bigint): Uint8Array {
  let v = BigInt(value);
  if (v < 0n) throw new RangeError('negative integer');
  const bytes: number[] = [];
  while (v > 0n) {
    bytes.unshift(Number(v & 0xffn));
    v >>= 8n;
  }
  return Uint8Array.from(bytes);
}

/** Reads a minimal big-endian integer (no leading zeros; empty is 0) of at most `maxBytes` bytes. */
export function decodeUint(bytes: Uint8Array, maxBytes: number): bigint | null {
  if (bytes.length > maxBytes || (bytes.length > 0 && bytes[0] === 0)) return null;
  let v = 0n;
  for (const b of bytes) v = (v << 8n) | BigInt(b);
  return v;
}

/** The same for values that fit a JS number (at most 6 bytes). */
export function decodeSmallUint(bytes: Uint8Array, maxBytes: number): number | null {
  if (maxBytes > 6) throw new RangeError('use decodeUint above 6 bytes');
  if (bytes.length > maxBytes || (bytes.length > 0 && bytes[0] === 0)) return null;
  let v = 0;
  for (const b of bytes) v = v * 256 + b;
  return v;
}
