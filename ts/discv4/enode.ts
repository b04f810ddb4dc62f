/**
 * `enode://` URLs (devp2p enode-url-format): `enode://<hex X ‖ Y>@<ip>:<tcp-port>[?discport=<udp-port>]`.
 *
 * Stricter than go-ethereum's enode.ParseV4 where it would guess: the host must be an IP literal
 * (this path has no resolver, and a bootnode list that silently depended on DNS would be a surprise),
 * the URL must carry an address (geth's "incomplete" `enode://<key>` form names no endpoint to
 * send to), and paths, fragments, user passwords, empty or repeated `discport`s are refused rather
 * than ignored. Other query parameters are ignored as geth ignores them. The key is only checked to
 * be 64 bytes of hex: whether it is a curve point is the crypto facade's business.
 */
import { toHex } from '../util/bytes.js';
import { Discv5Error, ErrorCode } from '../util/errors.js';
import { formatIPv4, formatIPv6, isMappedV4, parseIPv4, parseIPv6 } from '../util/ip.js';
import { NODE_KEY_SIZE } from './constants.js';

/** What an enode URL says. */
export interface EnodeParts {
  /** The node's public key, X ‖ Y (64 bytes, no 0x04 prefix), as discv4 packets carry it. */
  publicKey: Uint8Array;
  /** The IP address, normalised: dotted IPv4 (an IPv4-mapped IPv6 address becomes IPv4) or RFC 5952 IPv6. */
  ip: string;
  /** The RLPx (TCP) port. 0 is allowed: geth writes it for nodes that take no TCP connections. */
  tcp: number;
  /** The discovery (UDP) port: `discport` if given, else the TCP port. */
  udp: number;
}

const SCHEME = 'enode://';
const KEY_HEX = /^[0-9a-fA-F]{128}$/;
// Any number of leading zeros, as geth's strconv.ParseUint takes them; the value bounds the rest.
const PORT = /^[0-9]+$/;

function refuse(text: string, why: string): never {
  // Enough of the URL to recognise it in a log; a key alone is 128 characters.
  const shown = text.length > 200 ? `${text.slice(0, 200)}…` : text;
  throw new Discv5Error(ErrorCode.INVALID_ARGUMENT, `invalid enode URL (${why}): ${shown}`);
}

function parsePort(text: string, value: string, what: string): number {
  if (!PORT.test(value) || Number(value) > 0xffff) refuse(text, `${what} must be a decimal number from 0 to 65535`);
  return Number(value);
}

/** An IP literal as text, normalised (mapped IPv6 → IPv4), or null if it is not one. */
function normaliseIp(host: string, bracketed: boolean): string | null {
  if (!bracketed) {
    const v4 = parseIPv4(host);
    return v4 === null ? null : formatIPv4(v4);
  }
  const v6 = parseIPv6(host);
  if (v6 === null) return null;
  return isMappedV4(v6) ? formatIPv4(v6.subarray(12)) : formatIPv6(v6);
}

/**
 * Parses an enode URL. Throws a `Discv5Error` with code `ERR_INVALID_ARGUMENT` saying what is
 * wrong (`ERR_INVALID_TYPE` if `text` is not a string).
 */
export function parseEnode(text: string): EnodeParts {
  if (typeof text !== 'string') throw new Discv5Error(ErrorCode.INVALID_TYPE, 'an enode URL must be a string');
  // URL schemes are case-insensitive (RFC 3986 §3.1); geth's url.Parse agrees.
  if (text.slice(0, SCHEME.length).toLowerCase() !== SCHEME) refuse(text, 'it does not start with enode://');
  let rest = text.slice(SCHEME.length);
  if (rest.includes('#')) refuse(text, 'a fragment has no meaning here');

  let query = '';
  const q = rest.indexOf('?');
  if (q >= 0) {
    query = rest.slice(q + 1);
    rest = rest.slice(0, q);
  }
  if (rest.includes('/')) refuse(text, 'a path has no meaning here');

  const at = rest.indexOf('@');
  if (at < 0) refuse(text, 'no @<ip>:<port>; a URL without an address names nowhere to send to');
  if (rest.indexOf('@', at + 1) >= 0) refuse(text, 'more than one @');
  const keyText = rest.slice(0, at);
  const hostPort = rest.slice(at + 1);

  if (keyText.includes(':')) refuse(text, 'a password has no meaning here');
  if (!KEY_HEX.test(keyText)) {
    if (keyText.length === 130 && keyText.startsWith('04') && KEY_HEX.test(keyText.slice(2))) {
      refuse(text, 'the key must be 128 hex digits, X ‖ Y, without the 04 prefix');
    }
    refuse(text, `the key must be 128 hex digits, got ${keyText.length} characters`);
  }
  const publicKey = Uint8Array.from(Buffer.from(keyText, 'hex'));

  let host: string;
  let portText: string;
  const bracketed = hostPort.startsWith('[');
  if (bracketed) {
    const close = hostPort.indexOf(']');
    if (close < 0) refuse(text, 'an IPv6 address opened with [ is not closed');
    host = hostPort.slice(1, close);
    const after = hostPort.slice(close + 1);
    if (!after.startsWith(':')) refuse(text, 'no :<port> after the address');
    portText = after.slice(1);
  } else {
    const colon = hostPort.lastIndexOf(':');
    if (colon < 0) refuse(text, 'no :<port> after the address');
    host = hostPort.slice(0, colon);
    portText = hostPort.slice(colon + 1);
    if (host.includes(':')) refuse(text, 'an IPv6 address must be written in brackets');
  }
  if (host === '') refuse(text, 'no address');
  const ip = normaliseIp(host, bracketed);
  if (ip === null) {
    if (!bracketed && /[a-zA-Z]/.test(host) && !host.includes('%')) {
      refuse(text, `"${host}" is a hostname; only IP addresses are accepted (no name is resolved here)`);
    }
    refuse(text, `"${host}" is not an ${bracketed ? 'IPv6' : 'IPv4'} address`);
  }
  const tcp = parsePort(text, portText, 'the TCP port');

  let udp = tcp;
  let seenDiscport = false;
  if (query !== '') {
    for (const pair of query.split('&')) {
      const eq = pair.indexOf('=');
      const name = eq < 0 ? pair : pair.slice(0, eq);
      if (name !== 'discport') continue;
      if (seenDiscport) refuse(text, 'discport given twice');
      seenDiscport = true;
      udp = parsePort(text, eq < 0 ? '' : pair.slice(eq + 1), 'discport');
    }
  }
  return { publicKey, ip, tcp, udp };
}

function checkPort(value: unknown, what: string): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value > 0xffff) {
    throw new Discv5Error(ErrorCode.INVALID_ARGUMENT, `${what} must be an integer from 0 to 65535, got ${value}`);
  }
  return value;
}

/**
 * Writes an enode URL: lowercase key, normalised address (IPv6 in brackets, IPv4-mapped IPv6 as
 * IPv4), and `?discport=` only when the UDP port differs from the TCP port, as geth writes it.
 * Throws a `Discv5Error` on a key that is not 64 bytes, an address that is not an IP literal or a
 * port out of range.
 */
export function formatEnode(parts: EnodeParts): string {
  const { publicKey, ip } = parts;
  if (!(publicKey instanceof Uint8Array)) {
    throw new Discv5Error(ErrorCode.INVALID_TYPE, 'publicKey must be a Uint8Array');
  }
  if (publicKey.length !== NODE_KEY_SIZE) {
    throw new Discv5Error(
      ErrorCode.INVALID_LENGTH,
      `publicKey must be ${NODE_KEY_SIZE} bytes (X ‖ Y), got ${publicKey.length}`,
    );
  }
  const tcp = checkPort(parts.tcp, 'tcp');
  const udp = checkPort(parts.udp, 'udp');
  if (typeof ip !== 'string') throw new Discv5Error(ErrorCode.INVALID_TYPE, 'ip must be a string');
  // Accept IPv6 with or without brackets; the URL gets them either way.
  const v6 = ip.includes(':');
  const normal = normaliseIp(v6 && !ip.startsWith('[') ? `[${ip}]` : ip, v6);
  if (normal === null) throw new Discv5Error(ErrorCode.INVALID_ARGUMENT, `ip is not an IP address: ${ip}`);
  const host = normal.includes(':') ? `[${normal}]` : normal;
  return `${SCHEME}${toHex(publicKey)}@${host}:${tcp}${udp === tcp ? '' : `?discport=${udp}`}`;
}
