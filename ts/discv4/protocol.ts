/**
 * discv4 on a socket it shares with discv5: what comes in is answered or matched to what we
 * asked, and what we ask goes out with the endpoint proof in front of it (bonds.ts).
 *
 * Inbound: PING is answered with PONG (and pinged back when we hold no fresh proof of the sender);
 * FINDNODE and ENRREQUEST are answered only for a sender that proved its endpoint, within the
 * per-requester rate; PONG, NEIGHBORS and ENRRESPONSE go to the waits that expect them, and are
 * dropped (counted) otherwise. Nothing a peer sends throws: every refusal is a counter,
 * `discv4.drop.<reason>`.
 */
import type { Crypto } from '../crypto/crypto.js';
import type { Enr } from '../enr/enr.js';
import type { PacketGate } from '../policy/gate.js';
import { RateLimiter } from '../policy/rate-limit.js';
import type { SocketAddress, Transport } from '../transport/types.js';
import { bytesEqual, bytesKey, idKey } from '../util/bytes.js';
import { Discv5Error, ErrorCode } from '../util/errors.js';
import type { Counters } from '../util/metrics.js';
import { detach } from '../util/safe.js';
import { Bonds } from './bonds.js';
import { Calls } from './calls.js';
import type { Discv4Config } from './config.js';
import { DATA_OFFSET, HASH_SIZE, MAX_PACKET_SIZE, NEIGHBORS_MAX_NODES, PING_VERSION } from './constants.js';
import { encodeNeighbors } from './neighbors.js';
import { V4Node } from './node.js';
import { decodePacket, encodePacket, expirationFrom, nowSeconds, recordOfResponse } from './packet.js';
import { type DecodedPacket, type Discv4Message, type Endpoint, PacketType } from './types.js';

/** Nodes in a full FINDNODE answer (a bucket's worth). */
export const ANSWER_SIZE = 16;

const NAMES: Record<number, string> = {
  [PacketType.PING]: 'ping',
  [PacketType.PONG]: 'pong',
  [PacketType.FINDNODE]: 'findnode',
  [PacketType.NEIGHBORS]: 'neighbors',
  [PacketType.ENR_REQUEST]: 'enrrequest',
  [PacketType.ENR_RESPONSE]: 'enrresponse',
};

export interface ProtocolDeps {
  crypto: Crypto;
  privateKey: Uint8Array;
  transport: Transport;
  counters: Counters;
  gate: PacketGate | undefined;
  config: Discv4Config;
  /** Time limit of one request (the node's `requestTimeoutMs`). */
  requestTimeoutMs: number;
  /** Requests answered per second for one requester (0: no limit), and the burst. */
  requestsPerNodePerSecond: number;
  requestsPerNodeBurst: number;
  rateLimitMaxKeys: number;
  /** The node's record: its seq goes in PING and PONG, the record itself in ENRRESPONSE. */
  localEnr: () => Enr;
  /** The live nodes closest to a node id, for FINDNODE answers. */
  closest: (target: Uint8Array, n: number) => V4Node[];
  /** Whether a node a peer at `sender` names may be contacted (the record-intake check). */
  admit: (node: V4Node, sender: string) => boolean;
  /** A node proved its endpoint (answered our PING) or pinged us while bonded: the table may take it. */
  seen: (node: V4Node, enrSeq: bigint | undefined) => void;
}

export interface PongResult {
  /** The seq of the record the node holds (EIP-868), when it says. */
  enrSeq: bigint | undefined;
  /** Our endpoint as the node saw it. */
  to: Endpoint;
  rttMs: number;
}

export class Discv4Protocol {
  readonly bonds: Bonds;
  readonly calls: Calls;
  readonly #d: ProtocolDeps;
  readonly #perRequester: RateLimiter;
  /** The last FINDNODE under way to each node (id and IP), which the next one waits for. */
  readonly #finding = new Map<string, Promise<void>>();
  /** PINGs of ours under way in answer to a stranger's PING (see #onPing). */
  #pingBacks = 0;

  constructor(deps: ProtocolDeps) {
    this.#d = deps;
    this.bonds = new Bonds(deps.config.maxBonds, deps.config.bondLifetimeMs);
    this.calls = new Calls(deps.config.maxPendingReplies);
    const rate = deps.requestsPerNodePerSecond;
    this.#perRequester = new RateLimiter({ rate, burst: deps.requestsPerNodeBurst || rate }, deps.rateLimitMaxKeys);
  }

  /**
   * A datagram discv5 could not read. False when it is not discv4 either (wrong size or hash): the
   * caller counts it. True when it was discv4, handled or dropped and counted here.
   */
  handle(data: Uint8Array, from: SocketAddress): boolean {
    if (data.length < DATA_OFFSET) return false;
    const c = this.#d.counters;
    if (data.length > MAX_PACKET_SIZE) {
      // Ours only if its hash says so (ethereumjs sends NEIGHBORS of 15-16 nodes this big).
      const hash = this.#d.crypto.keccak256(data.subarray(HASH_SIZE));
      if (!bytesEqual(hash, data.subarray(0, HASH_SIZE))) return false;
      c.inc('discv4.drop.too-large');
      return true;
    }
    const decoded = decodePacket(this.#d.crypto, data, nowSeconds());
    if ('error' in decoded) {
      if (decoded.error === 'bad-hash') return false;
      c.inc(`discv4.drop.${decoded.error}`);
      return true;
    }
    const verdict = this.#d.gate?.admitNode(bytesKey(decoded.nodeId), from.ip) ?? 'pass';
    if (verdict !== 'pass') {
      c.inc(`discv4.drop.${verdict}`);
      return true;
    }
    const m = decoded.message;
    c.inc(`discv4.in.${NAMES[m.type]}`);
    switch (m.type) {
      case PacketType.PING:
        this.#onPing(decoded, m, from);
        break;
      case PacketType.FINDNODE:
        if (this.#mayAnswer(decoded, from)) this.#answerFindNode(decoded.nodeId, m.target, from);
        break;
      case PacketType.ENR_REQUEST:
        if (this.#mayAnswer(decoded, from)) {
          const record = this.#d.localEnr().encoded;
          this.#send({ type: PacketType.ENR_RESPONSE, requestHash: decoded.hash, record }, from);
        }
        break;
      default:
        if (!this.calls.deliver(from.ip, decoded)) c.inc('discv4.drop.unsolicited');
    }
    return true;
  }

  /**
   * Pings a node; resolves with its PONG, rejects with ERR_REQUEST_TIMEOUT. The answer proves the
   * node's endpoint: it is reported as seen, unless `report` is false (table upkeep, which credits
   * the entry itself).
   */
  async ping(node: V4Node, timeoutMs = this.#d.requestTimeoutMs, report = true): Promise<PongResult> {
    const from = this.#localEndpoint(node.socket.family);
    const to: Endpoint = { ip: node.address, udp: node.udp, tcp: node.tcp };
    const message: Discv4Message = {
      type: PacketType.PING,
      version: PING_VERSION,
      from,
      to,
      expiration: expirationFrom(nowSeconds()),
      enrSeq: this.#d.localEnr().seq,
    };
    const { packet, hash } = encodePacket(this.#d.crypto, this.#d.privateKey, message);
    let pong: PongResult | undefined;
    const started = performance.now();
    const answered = this.calls.expect(node.nodeId, node.address, PacketType.PONG, timeoutMs, (r) => {
      if (r.message.type !== PacketType.PONG || !bytesEqual(r.message.pingHash, hash)) return 'no';
      pong = { enrSeq: r.message.enrSeq, to: r.message.to, rttMs: performance.now() - started };
      // Now, not after the await: a request the node sends right behind its PONG must find it bonded.
      this.bonds.pongReceived(node.nodeId, node.address);
      return 'done';
    });
    this.#sendPacket(packet, node.socket, 'ping');
    if (!(await answered) || pong === undefined) throw timeout('PONG', node);
    if (report) this.#d.seen(node, pong.enrSeq);
    return pong;
  }

  /**
   * Makes sure the node holds a proof of us before we ask it something: unless it pinged us within
   * the bond's lifetime, we ping it and give it `bondWaitMs` to ping us back.
   */
  async ensureBond(node: V4Node, timeoutMs?: number): Promise<void> {
    if (this.bonds.knowsUs(node.nodeId, node.address)) return;
    const wait = this.bonds.waitForPing(node.nodeId, node.address);
    try {
      await this.ping(node, timeoutMs);
    } catch (err) {
      wait.cancel();
      throw err;
    }
    wait.start(this.#d.config.bondWaitMs);
    await wait.pinged;
  }

  /**
   * FINDNODE `target` (a 64-byte key) at a node, bonding first: the nodes of its answer (up to 16,
   * over one or two NEIGHBORS packets) that pass the intake check. An answer cut short by the time
   * limit is returned as far as it came; no answer at all rejects with ERR_REQUEST_TIMEOUT.
   *
   * NEIGHBORS echoes nothing of the request, so one FINDNODE at a time goes to a node: a second
   * one waits for the first to end, else an answer could be taken for the other's.
   */
  findNode(node: V4Node, target: Uint8Array, timeoutMs = this.#d.requestTimeoutMs): Promise<V4Node[]> {
    const key = `${node.nodeIdHex}|${node.address}`;
    const before = this.#finding.get(key);
    const mine =
      before === undefined
        ? this.#findNode(node, target, timeoutMs)
        : before.then(() => this.#findNode(node, target, timeoutMs));
    const settled = mine.then(
      () => undefined,
      () => undefined,
    );
    this.#finding.set(key, settled);
    void settled.then(() => {
      if (this.#finding.get(key) === settled) this.#finding.delete(key);
    });
    return mine;
  }

  async #findNode(node: V4Node, target: Uint8Array, timeoutMs: number): Promise<V4Node[]> {
    await this.ensureBond(node, timeoutMs);
    const { crypto } = this.#d;
    const found = new Map<string, V4Node>();
    let packets = 0;
    let listed = 0;
    const complete = this.calls.expect(node.nodeId, node.address, PacketType.NEIGHBORS, timeoutMs, (r) => {
      if (r.message.type !== PacketType.NEIGHBORS) return 'no';
      packets++;
      for (const n of r.message.nodes) {
        if (++listed > ANSWER_SIZE) break; // more than an answer holds: the rest is ignored
        const id = crypto.keccak256(n.publicKey);
        if (found.has(idKey(id))) continue;
        const v4 = V4Node.trusted(id, n);
        if (this.#d.admit(v4, node.address)) found.set(idKey(id), v4);
      }
      // go-ethereum and most clients split an answer NEIGHBORS_MAX_NODES to a packet, so only a
      // full packet can have a sequel; any other count (fewer, or more from a sender that does not
      // split, as ethereumjs) ends the answer.
      return listed >= ANSWER_SIZE || r.message.nodes.length !== NEIGHBORS_MAX_NODES ? 'done' : 'more';
    });
    this.#send({ type: PacketType.FINDNODE, target, expiration: expirationFrom(nowSeconds()) }, node.socket);
    await complete;
    if (packets === 0) {
      this.bonds.unanswered(node.nodeId, node.address);
      throw timeout('NEIGHBORS', node);
    }
    // It answered, so it holds our proof: no PING before the next request (and none after a
    // re-bond that it had no reason to answer with a PING of its own).
    this.bonds.answeredUs(node.nodeId, node.address);
    return [...found.values()];
  }

  /** ENRREQUEST at a node, bonding first: its record (signed by its own key), or ERR_REQUEST_TIMEOUT. */
  async requestEnr(node: V4Node, timeoutMs = this.#d.requestTimeoutMs): Promise<Enr> {
    await this.ensureBond(node, timeoutMs);
    const { packet, hash } = encodePacket(this.#d.crypto, this.#d.privateKey, {
      type: PacketType.ENR_REQUEST,
      expiration: expirationFrom(nowSeconds()),
    });
    let record: Enr | undefined;
    const answered = this.calls.expect(node.nodeId, node.address, PacketType.ENR_RESPONSE, timeoutMs, (r) => {
      if (r.message.type !== PacketType.ENR_RESPONSE || !bytesEqual(r.message.requestHash, hash)) return 'no';
      record = recordOfResponse(this.#d.crypto, r) ?? undefined;
      this.bonds.answeredUs(node.nodeId, node.address);
      if (record === undefined) this.#d.counters.inc('discv4.drop.bad-record');
      return 'done';
    });
    this.#sendPacket(packet, node.socket, 'enrrequest');
    // A silence here says nothing of the bond: clients without EIP-868 never answer.
    await answered;
    if (record === undefined) throw timeout('a valid ENRRESPONSE', node);
    return record;
  }

  /** Ends every wait (the node stops). */
  stop(): void {
    this.calls.clear(new Discv5Error(ErrorCode.STOPPED, 'the node stopped'));
    this.bonds.clear();
  }

  #onPing(decoded: DecodedPacket, m: Extract<Discv4Message, { type: 1 }>, from: SocketAddress): void {
    const { nodeId } = decoded;
    this.#send(
      {
        type: PacketType.PONG,
        to: { ip: from.ip, udp: from.port, tcp: m.from.tcp },
        pingHash: decoded.hash,
        expiration: expirationFrom(nowSeconds()),
        enrSeq: this.#d.localEnr().seq,
      },
      from,
    );
    const node = V4Node.trusted(nodeId, { publicKey: decoded.publicKey, ip: from.ip, udp: from.port, tcp: m.from.tcp });
    if (this.bonds.verified(nodeId, from.ip)) this.#d.seen(node, m.enrSeq);
    // Without a fresh proof of it, we ask for one: our PING, answered, bonds us both ways (and
    // `ping` reports the node as seen). Spoofed PINGs from made-up keys cost us a wait each: they
    // may take at most a quarter of the replies we can await, so our own requests keep room.
    else if (this.#pingBacks >= this.#d.config.maxPendingReplies / 4) {
      this.#d.counters.inc('discv4.drop.ping-back-budget');
    } else {
      this.#pingBacks++;
      const back = this.ping(node).finally(() => this.#pingBacks--);
      detach(back, this.#d.counters, 'discv4-ping-back');
    }
    // Recorded after our PONG went out, so a FINDNODE that waited on this PING follows the PONG.
    this.bonds.pingReceived(nodeId, from.ip);
  }

  /** Whether a FINDNODE or ENRREQUEST is answered: the sender is bonded and within its rate. */
  #mayAnswer(decoded: DecodedPacket, from: SocketAddress): boolean {
    if (!this.bonds.verified(decoded.nodeId, from.ip)) {
      this.#d.counters.inc('discv4.drop.unbonded');
      return false;
    }
    if (this.#d.requestsPerNodePerSecond > 0 && !this.#perRequester.take(idKey(decoded.nodeId))) {
      this.#d.counters.inc('discv4.drop.request-rate');
      return false;
    }
    return true;
  }

  #answerFindNode(requester: Uint8Array, target: Uint8Array, to: SocketAddress): void {
    const nodes = this.#d
      .closest(this.#d.crypto.keccak256(target), ANSWER_SIZE + 1)
      .filter((n) => !bytesEqual(n.nodeId, requester))
      .slice(0, ANSWER_SIZE)
      .map((n) => ({ ip: n.address, udp: n.udp, tcp: n.tcp, publicKey: n.publicKey }));
    const packets = encodeNeighbors(this.#d.crypto, this.#d.privateKey, nodes, expirationFrom(nowSeconds()));
    for (const p of packets) this.#sendPacket(p.packet, to, 'neighbors');
  }

  /** Our endpoint for PING's `from`: the record's, else the bound port with an unknown IP. */
  #localEndpoint(family: 4 | 6): Endpoint {
    const enr = this.#d.localEnr();
    const e = family === 4 ? enr.endpoint4() : enr.endpoint6();
    if (e !== undefined) return { ip: e.ip, udp: e.port, tcp: (family === 4 ? enr.tcp : enr.tcp6) ?? 0 };
    const bound = this.#d.transport.addresses.find((a) => a.family === family) ?? this.#d.transport.addresses[0];
    return { ip: null, udp: bound?.port ?? 0, tcp: 0 };
  }

  #send(message: Discv4Message, to: SocketAddress): void {
    this.#sendPacket(encodePacket(this.#d.crypto, this.#d.privateKey, message).packet, to, NAMES[message.type] ?? '');
  }

  #sendPacket(packet: Uint8Array, to: SocketAddress, name: string): void {
    this.#d.counters.inc(`discv4.out.${name}`);
    this.#d.counters.inc('discv4.out.bytes', packet.length);
    this.#d.transport.send(packet, to);
  }
}

function timeout(what: string, node: V4Node): Discv5Error {
  return new Discv5Error(ErrorCode.REQUEST_TIMEOUT, `no ${what} from ${node.address}:${node.udp}`);
}
