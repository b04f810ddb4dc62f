/**
 * A discv4 node as the protocol knows it: a 64-byte public key and an endpoint (IP, UDP and TCP
 * ports), learned from NEIGHBORS, a PING, an `enode://` URL or an ENR; with the node's record once
 * it gave one (ENRREQUEST, EIP-868). Immutable; the node id (keccak256 of the key) is computed once.
 * It is what the v4 routing table, lookups and the crawler hold (it has the fields they need of a
 * record: id, seq, addresses, UDP endpoints).
 */
import type { Crypto } from '../crypto/crypto.js';
import type { Enr } from '../enr/enr.js';
import type { SocketAddress } from '../transport/types.js';
import { toHex } from '../util/bytes.js';
import { Discv5Error, ErrorCode } from '../util/errors.js';
import { parseIPv4, parseIPv6 } from '../util/ip.js';
import { NODE_KEY_SIZE } from './constants.js';
import { type EnodeParts, formatEnode, parseEnode } from './enode.js';

export class V4Node {
  /** 64 bytes, X ‖ Y. */
  readonly publicKey: Uint8Array;
  /** keccak256(publicKey): the same id discv5 gives the same key. */
  readonly nodeId: Uint8Array;
  /** The IP its UDP endpoint is at (IPv4 or IPv6 text). */
  readonly address: string;
  readonly udp: number;
  readonly tcp: number;
  /** The node's record (EIP-868) once it answered an ENRREQUEST, else undefined. */
  readonly record: Enr | undefined;
  #idHex: string | undefined;
  /** Whether `address` is IPv4 (else IPv6). */
  readonly #v4: boolean;

  private constructor(parts: EnodeParts, nodeId: Uint8Array, record: Enr | undefined) {
    this.publicKey = parts.publicKey;
    this.address = parts.ip;
    this.udp = parts.udp;
    this.tcp = parts.tcp;
    this.nodeId = nodeId;
    this.record = record;
    this.#v4 = !parts.ip.includes(':'); // an IPv6 text always has a colon, an IPv4 one never
  }

  /**
   * A node from its key and endpoint (checked: a 64-byte key on the curve, an IP literal, ports
   * 1..65535 for UDP). Throws Discv5Error on anything else.
   */
  static of(crypto: Crypto, parts: EnodeParts, record?: Enr): V4Node {
    const { publicKey, ip, udp, tcp } = parts;
    if (!(publicKey instanceof Uint8Array) || publicKey.length !== NODE_KEY_SIZE) {
      throw new Discv5Error(ErrorCode.INVALID_LENGTH, `a discv4 node key is ${NODE_KEY_SIZE} bytes`);
    }
    const prefixed = new Uint8Array(65);
    prefixed[0] = 4;
    prefixed.set(publicKey, 1);
    if (crypto.compressPublicKey(prefixed) === null) {
      throw new Discv5Error(ErrorCode.INVALID_ARGUMENT, 'a discv4 node key must be a point on secp256k1');
    }
    if (typeof ip !== 'string' || (parseIPv4(ip) === null && parseIPv6(ip) === null)) {
      throw new Discv5Error(ErrorCode.INVALID_ARGUMENT, `not an IP address: ${String(ip)}`);
    }
    if (!Number.isInteger(udp) || udp < 1 || udp > 65535 || !Number.isInteger(tcp) || tcp < 0 || tcp > 65535) {
      throw new Discv5Error(ErrorCode.INVALID_ARGUMENT, `bad ports: udp ${udp}, tcp ${tcp}`);
    }
    return new V4Node({ publicKey: Uint8Array.from(publicKey), ip, udp, tcp }, crypto.keccak256(publicKey), record);
  }

  /**
   * A node whose key and endpoint the caller has already checked (a verified packet's signer, a
   * decoded NEIGHBORS entry): no curve check, which the hot paths cannot afford per entry.
   */
  static trusted(nodeId: Uint8Array, parts: EnodeParts, record?: Enr): V4Node {
    return new V4Node(parts, nodeId, record);
  }

  /** A node from an `enode://` URL. */
  static fromEnode(crypto: Crypto, url: string): V4Node {
    return V4Node.of(crypto, parseEnode(url));
  }

  /**
   * A node from a v4 ("secp256k1") record with an IPv4 or IPv6 UDP endpoint (IPv4 preferred), or
   * undefined when the record names none.
   */
  static fromEnr(crypto: Crypto, enr: Enr): V4Node | undefined {
    const key = enr.publicKey === undefined ? null : crypto.decompressPublicKey(enr.publicKey);
    const e4 = enr.endpoint4();
    const e = e4 ?? enr.endpoint6();
    if (key === null || e === undefined) return undefined;
    // No TCP port in the record: 0, as go-ethereum writes such a node (and as `Discv4.enode` does).
    const tcp = (e4 !== undefined ? enr.tcp : (enr.tcp6 ?? enr.tcp)) ?? 0;
    return new V4Node({ publicKey: key.subarray(1), ip: e.ip, udp: e.port, tcp }, enr.nodeId, enr);
  }

  /** The same node with its record (whose key must be this node's: the caller checked the id). */
  withRecord(record: Enr): V4Node {
    return new V4Node(this.#parts(), this.nodeId, record);
  }

  /** The same node at another endpoint (it pinged us from there). */
  at(ip: string, udp: number, tcp = this.tcp): V4Node {
    return new V4Node({ publicKey: this.publicKey, ip, udp, tcp }, this.nodeId, this.record);
  }

  get nodeIdHex(): string {
    this.#idHex ??= toHex(this.nodeId);
    return this.#idHex;
  }

  /** Its record's seq, 0 while no record is known (a record, once known, is newer than none). */
  get seq(): bigint {
    return this.record?.seq ?? 0n;
  }

  get ip(): string | undefined {
    return this.#v4 ? this.address : undefined;
  }

  get ip6(): string | undefined {
    return this.#v4 ? undefined : this.address;
  }

  endpoint4(): { ip: string; port: number } | undefined {
    return this.#v4 ? { ip: this.address, port: this.udp } : undefined;
  }

  endpoint6(): { ip: string; port: number } | undefined {
    return this.#v4 ? undefined : { ip: this.address, port: this.udp };
  }

  /** Where its UDP packets go. */
  get socket(): SocketAddress {
    return { ip: this.address, port: this.udp, family: this.#v4 ? 4 : 6 };
  }

  /** Its `enode://` URL. */
  get enode(): string {
    return formatEnode(this.#parts());
  }

  toString(): string {
    return this.enode;
  }

  #parts(): EnodeParts {
    return { publicKey: this.publicKey, ip: this.address, udp: this.udp, tcp: this.tcp };
  }
}
