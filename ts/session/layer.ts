/**
 * The session layer (spec §4-§5): every packet in and out crosses it. It keeps sessions per
 * (node id, ip, port), answers undecryptable packets with WHOAREYOU, runs both roles of the
 * handshake, queues messages to a peer while its handshake completes, and hands decrypted
 * messages up. Bad input is counted and dropped, never thrown.
 *
 * Three rules worth knowing:
 * - A WHOAREYOU is acted on only if it names the nonce of a packet we sent, from where we sent it.
 *   The same WHOAREYOU again (our handshake packet was lost) gets the same handshake bytes again.
 * - While a challenge to an endpoint is pending, further undecryptable packets from it get the very
 *   same WHOAREYOU (same nonce, same challenge data), so a burst cannot multiply handshakes.
 * - When a handshake replaces a session (both sides started one at once), the replaced keys still
 *   decrypt for a while, so that whichever keys each side ends up writing with, the other reads them.
 */
import type { Crypto } from '../crypto/crypto.js';
import type { EnrDecoder } from '../enr/batch.js';
import type { Enr } from '../enr/enr.js';
import { decodeMessage } from '../message/codec.js';
import { decodePacket } from '../packet/decode.js';
import { encodeHandshakePacket, encodeMessagePacket, encodeRandomPacket, encodeWhoareyou } from '../packet/encode.js';
import type { HandshakePacket, MessagePacket, WhoareyouPacket } from '../packet/types.js';
import type { PacketGate } from '../policy/gate.js';
import type { SocketAddress, Transport } from '../transport/types.js';
import { bytesEqual } from '../util/bytes.js';
import { TypedEmitter } from '../util/emitter.js';
import { createLogger } from '../util/logger.js';
import { LruMap } from '../util/lru.js';
import type { Counters } from '../util/metrics.js';

const log = createLogger('discv5:session');

import { randomBytes } from '../util/random.js';
import type { SessionConfig } from './config.js';
import { bytesKey, endpointKey } from './keys.js';
import { Session } from './session.js';
import type { NodeAddress, NodeContact, SessionEvents } from './types.js';

export interface SessionLayerDeps {
  crypto: Crypto;
  transport: Transport;
  privateKey: Uint8Array;
  nodeId: Uint8Array;
  /** Our current record (its seq decides whether a handshake carries it). */
  localEnr: () => Enr;
  /** A record we hold for a node, if any (for WHOAREYOU's enr-seq and handshakes without a record). */
  findEnr: (nodeId: Uint8Array) => Enr | undefined;
  decoder: EnrDecoder;
  counters: Counters;
  config: SessionConfig;
  /** The inbound gate (bans, rate limits, handshake budget); none: everything passes. */
  gate?: PacketGate;
  now?: () => number;
}

interface Challenge {
  challengeData: Uint8Array;
  packet: Uint8Array;
  expiresAt: number;
  enr: Enr | undefined;
}

interface SentPacket {
  contact: NodeContact;
  plaintext: Uint8Array;
  expiresAt: number;
  /** Set once answered: the challenge and the handshake packet we sent for it. */
  handshake?: { challengeData: Uint8Array; packet: Uint8Array };
}

interface Handshaking {
  startedAt: number;
  queue: Uint8Array[];
}

function sameSocket(a: SocketAddress, b: SocketAddress): boolean {
  return a.port === b.port && a.ip === b.ip;
}

export class SessionLayer extends TypedEmitter<SessionEvents> {
  readonly #d: SessionLayerDeps;
  readonly #now: () => number;
  readonly #maskingKey: Uint8Array;
  readonly #sessions: LruMap<string, Session>;
  readonly #challenges: LruMap<string, Challenge>;
  readonly #sent: LruMap<string, SentPacket>;
  readonly #handshaking: LruMap<string, Handshaking>;

  constructor(deps: SessionLayerDeps) {
    super();
    this.#d = deps;
    this.#now = deps.now ?? Date.now;
    this.#maskingKey = deps.nodeId.subarray(0, 16);
    this.#sessions = new LruMap(deps.config.sessionCacheCapacity);
    this.#challenges = new LruMap(deps.config.maxChallenges);
    this.#sent = new LruMap(deps.config.maxPendingNonces);
    this.#handshaking = new LruMap(deps.config.maxHandshakingPeers);
    deps.transport.onPacket((data, from) => this.#onPacket(data, from));
  }

  /** Sessions currently held. */
  get sessionCount(): number {
    return this.#sessions.size;
  }

  /** Whether a live session with this endpoint exists. */
  hasSession(peer: NodeAddress): boolean {
    return this.#live(endpointKey(peer.nodeId, peer.socket)) !== undefined;
  }

  /** The record the session with `peer` knows, if any. */
  sessionEnr(peer: NodeAddress): Enr | undefined {
    return this.#live(endpointKey(peer.nodeId, peer.socket))?.enr;
  }

  /** Keeps a newer record of a peer with its sessions. */
  updateEnr(peer: NodeAddress, enr: Enr): void {
    const s = this.#live(endpointKey(peer.nodeId, peer.socket));
    if (s !== undefined && (s.enr === undefined || s.enr.seq < enr.seq)) s.enr = enr;
  }

  /**
   * Sends a request, starting a handshake if there is no session. A `retry` is never queued behind
   * a handshake under way (its first packets may be lost): it starts contact again.
   */
  sendRequest(contact: NodeContact, plaintext: Uint8Array, retry = false): void {
    const key = endpointKey(contact.nodeId, contact.socket);
    const session = this.#live(key);
    if (session !== undefined) {
      const nonce = session.nextNonce();
      this.#remember(nonce, contact, plaintext);
      this.#send(
        encodeMessagePacket(this.#d.crypto, contact.nodeId, this.#d.nodeId, nonce, session.writeKey, plaintext),
        contact.socket,
        'message',
      );
      return;
    }
    const now = this.#now();
    const pending = this.#handshaking.get(key);
    if (pending !== undefined && !retry && now - pending.startedAt < this.#d.config.handshakeTimeoutMs) {
      if (log.enabled) log.debug(`queued behind the handshake with ${bytesKey(contact.nodeId.subarray(0, 2))}`);
      if (pending.queue.length >= this.#d.config.maxQueuedPerPeer) {
        this.#d.counters.inc('drop.queue-full');
        return;
      }
      pending.queue.push(plaintext);
      return;
    }
    // No session: random filler in place of the message; the request goes in the handshake (§3.6).
    const nonce = randomBytes(12);
    this.#remember(nonce, contact, plaintext);
    this.#handshaking.set(key, { startedAt: now, queue: pending?.queue ?? [] });
    this.#send(encodeRandomPacket(this.#d.crypto, contact.nodeId, this.#d.nodeId, nonce), contact.socket, 'random');
  }

  /** Sends a response within the session the request came in on; false if there is none. */
  sendResponse(peer: NodeAddress, plaintext: Uint8Array): boolean {
    const session = this.#live(endpointKey(peer.nodeId, peer.socket));
    if (session === undefined) {
      this.#d.counters.inc('drop.response-without-session');
      return false;
    }
    const packet = encodeMessagePacket(
      this.#d.crypto,
      peer.nodeId,
      this.#d.nodeId,
      session.nextNonce(),
      session.writeKey,
      plaintext,
    );
    this.#send(packet, peer.socket, 'message');
    return true;
  }

  #send(packet: Uint8Array, to: SocketAddress, kind: string): void {
    this.#d.counters.inc(`out.packet.${kind}`);
    this.#d.transport.send(packet, to);
  }

  #remember(nonce: Uint8Array, contact: NodeContact, plaintext: Uint8Array): void {
    this.#sent.set(bytesKey(nonce), { contact, plaintext, expiresAt: this.#now() + this.#d.config.nonceTtlMs });
  }

  #live(key: string): Session | undefined {
    const s = this.#sessions.get(key);
    if (s !== undefined && s.expiresAt <= this.#now()) {
      this.#sessions.delete(key);
      this.#d.counters.inc('session.expired');
      this.emit('expired', s.peer);
      return undefined;
    }
    return s;
  }

  #install(key: string, session: Session): void {
    const previous = this.#sessions.peek(key);
    if (previous !== undefined) {
      session.fallbackReadKey = previous.readKey;
      session.fallbackUntil = this.#now() + this.#d.config.fallbackKeyTtlMs;
    }
    this.#sessions.set(key, session);
  }

  #onPacket(data: Uint8Array, from: SocketAddress): void {
    this.#d.counters.inc('in.datagrams');
    const gate = this.#d.gate;
    const verdict = gate?.admit(from.ip) ?? 'pass';
    if (verdict !== 'pass') {
      this.#d.counters.inc(`drop.${verdict}`);
      return;
    }
    const packet = decodePacket(this.#d.crypto, this.#maskingKey, data);
    if (typeof packet === 'string') {
      this.#d.counters.inc(`drop.${packet}`);
      this.#invalid(from);
      return;
    }
    if (packet.flag !== 1 && gate !== undefined) {
      const byNode = gate.admitNode(bytesKey(packet.srcId), from.ip);
      if (byNode !== 'pass') {
        this.#d.counters.inc(`drop.${byNode}`);
        return;
      }
    }
    if (packet.flag === 0) this.#onMessage(packet, from);
    else if (packet.flag === 1) this.#onWhoareyou(packet, from);
    else this.#onHandshake(packet, from);
  }

  /** Counts an invalid packet against its IP (repeated ones earn a temporary ban). */
  #invalid(from: SocketAddress): void {
    if (this.#d.gate?.invalid(from.ip)) this.#d.counters.inc('ban.auto');
  }

  #onMessage(p: MessagePacket, from: SocketAddress): void {
    this.#d.counters.inc('in.packet.message');
    const key = endpointKey(p.srcId, from);
    const session = this.#live(key);
    if (session !== undefined) {
      let plaintext = this.#d.crypto.openPacket(session.readKey, p.header, p.datagram);
      if (plaintext === null && session.fallbackReadKey !== undefined && this.#now() < session.fallbackUntil) {
        plaintext = this.#d.crypto.openPacket(session.fallbackReadKey, p.header, p.datagram);
      }
      if (plaintext !== null) {
        this.#deliver(session.peer, plaintext, session.enr);
        return;
      }
    }
    this.#challenge(key, Uint8Array.from(p.srcId), p.nonce, from);
  }

  /** Answers an undecryptable packet with WHOAREYOU, or repeats the pending one. */
  #challenge(key: string, srcId: Uint8Array, nonce: Uint8Array, from: SocketAddress): void {
    const now = this.#now();
    const pending = this.#challenges.get(key);
    if (pending !== undefined && pending.expiresAt > now) {
      this.#send(pending.packet, from, 'whoareyou-repeat');
      return;
    }
    // The handshake budget per IP: WHOAREYOU costs us an id-nonce, state and a packet.
    if (this.#d.gate !== undefined && !this.#d.gate.allowChallenge(from.ip)) {
      this.#d.counters.inc('drop.handshake-budget');
      return;
    }
    const enr = this.#d.findEnr(srcId);
    const idNonce = randomBytes(16);
    const { packet, challengeData } = encodeWhoareyou(this.#d.crypto, srcId, nonce, idNonce, enr?.seq ?? 0n);
    this.#challenges.set(key, { challengeData, packet, expiresAt: now + this.#d.config.challengeTtlMs, enr });
    this.#send(packet, from, 'whoareyou');
  }

  #onWhoareyou(p: WhoareyouPacket, from: SocketAddress): void {
    this.#d.counters.inc('in.packet.whoareyou');
    const sent = this.#sent.get(bytesKey(p.nonce));
    if (sent === undefined || sent.expiresAt <= this.#now()) {
      this.#d.counters.inc('drop.unsolicited-whoareyou');
      return;
    }
    const { contact } = sent;
    if (!sameSocket(contact.socket, from)) {
      this.#d.counters.inc('drop.whoareyou-wrong-source');
      return;
    }
    if (sent.handshake !== undefined && bytesEqual(sent.handshake.challengeData, p.challengeData)) {
      this.#send(sent.handshake.packet, from, 'handshake-repeat');
      return;
    }
    const key = endpointKey(contact.nodeId, contact.socket);
    const init = this.#d.crypto.handshakeInitiate(
      this.#d.privateKey,
      contact.publicKey,
      p.challengeData,
      this.#d.nodeId,
      contact.nodeId,
    );
    if (init === null) {
      this.#handshaking.delete(key);
      this.#d.counters.inc('handshake.failed');
      this.emit('handshakeFailed', contact, 'invalid public key');
      return;
    }
    const local = this.#d.localEnr();
    const record = p.enrSeq < local.seq ? local.encoded : null;
    const peer: NodeAddress = { nodeId: contact.nodeId, socket: contact.socket };
    const session = new Session(
      peer,
      init.initiatorKey,
      init.recipientKey,
      contact.enr,
      this.#now() + this.#d.config.sessionTtlMs,
    );
    this.#install(key, session);
    const packet = encodeHandshakePacket(
      this.#d.crypto,
      contact.nodeId,
      this.#d.nodeId,
      session.nextNonce(),
      init.idSignature,
      init.ephemeralPublicKey,
      record,
      init.initiatorKey,
      sent.plaintext,
    );
    sent.handshake = { challengeData: Uint8Array.from(p.challengeData), packet };
    this.#send(packet, from, 'handshake');
    this.#d.counters.inc('handshake.outbound');
    this.emit('established', peer, contact.enr, false);
    // Requests that waited for this handshake go out under the new session.
    const waiting = this.#handshaking.get(key);
    this.#handshaking.delete(key);
    for (const plaintext of waiting?.queue ?? []) this.sendRequest(contact, plaintext);
  }

  #onHandshake(p: HandshakePacket, from: SocketAddress): void {
    this.#d.counters.inc('in.packet.handshake');
    const key = endpointKey(p.srcId, from);
    const challenge = this.#challenges.get(key);
    if (challenge === undefined || challenge.expiresAt <= this.#now()) {
      this.#d.counters.inc('drop.handshake-without-challenge');
      return;
    }
    // One use only, whether it succeeds or not (spec §4.1): a replayed handshake finds nothing.
    this.#challenges.delete(key);
    const srcId = Uint8Array.from(p.srcId);
    let enr = challenge.enr ?? this.#d.findEnr(srcId);
    if (p.record !== null) {
      let sent: Enr;
      try {
        sent = this.#d.decoder.decode(p.record);
      } catch {
        this.#d.counters.inc('drop.handshake-bad-record');
        this.#invalid(from);
        return;
      }
      if (!bytesEqual(sent.nodeId, srcId)) {
        this.#d.counters.inc('drop.handshake-record-mismatch');
        this.#invalid(from);
        return;
      }
      if (enr === undefined || sent.seq > enr.seq) enr = sent;
    }
    if (enr === undefined) {
      this.#d.counters.inc('drop.handshake-no-record');
      return;
    }
    const keys = this.#d.crypto.handshakeRespond(
      this.#d.privateKey,
      enr.publicKey,
      p.ephemeralPublicKey,
      p.idSignature,
      challenge.challengeData,
      srcId,
      this.#d.nodeId,
    );
    if (keys === null) {
      this.#d.counters.inc('drop.handshake-bad-signature');
      this.#invalid(from);
      return;
    }
    const plaintext = this.#d.crypto.openPacket(keys.initiatorKey, p.header, p.datagram);
    if (plaintext === null) {
      this.#d.counters.inc('drop.handshake-bad-message');
      this.#invalid(from);
      return;
    }
    const peer: NodeAddress = { nodeId: srcId, socket: from };
    this.#install(
      key,
      new Session(peer, keys.recipientKey, keys.initiatorKey, enr, this.#now() + this.#d.config.sessionTtlMs),
    );
    this.#d.counters.inc('handshake.inbound');
    this.emit('established', peer, enr, true);
    this.#deliver(peer, plaintext, enr);
  }

  #deliver(from: NodeAddress, plaintext: Uint8Array, enr: Enr | undefined): void {
    const message = decodeMessage(plaintext);
    if (typeof message === 'string') {
      this.#d.counters.inc(`drop.${message}`);
      return;
    }
    this.#d.counters.inc(`in.message.${message.type}`);
    this.emit('message', { from, message, enr });
  }
}
