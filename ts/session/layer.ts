/**
 * The session layer (spec §4-§5): every packet in and out crosses it. This file dispatches; the
 * state lives in sessions.ts (the cache and fallback keys), calls.ts (our calls and the requests
 * waiting on a handshake) and challenges.ts (WHOAREYOU we issued). Bad input is counted and
 * dropped, never thrown.
 *
 * Rules worth knowing:
 * - A WHOAREYOU is acted on only if it names the nonce of a call whose request is still pending,
 *   from the socket we sent it to; once per call (see calls.ts).
 * - A handshake we start gives a session that is not yet proven: requests made meanwhile wait, and
 *   `established` (inbound = false) fires only when the peer's first message decrypts. A message
 *   under the keys the session replaced also proves the peer (it holds its static key either way),
 *   so simultaneous handshakes do not stall.
 * - Only failures that prove their source count toward an automatic ban: a handshake whose
 *   id-signature over our challenge verified (so the sender got our WHOAREYOU at that socket) but
 *   whose record or message is bad. Undecodable datagrams and bad signatures do not: anyone can
 *   forge their source address.
 * - Events are emitted after the state changes they report.
 */
import type { Crypto } from '../crypto/crypto.js';
import type { Enr } from '../enr/enr.js';
import { decodeMessage } from '../message/codec.js';
import { decodePacket } from '../packet/decode.js';
import { encodeMessagePacket, encodeRandomPacket } from '../packet/encode.js';
import type { HandshakePacket, MessagePacket, WhoareyouPacket } from '../packet/types.js';
import type { PacketGate } from '../policy/gate.js';
import type { SocketAddress, Transport } from '../transport/types.js';
import { TypedEmitter } from '../util/emitter.js';
import { createLogger } from '../util/logger.js';
import type { Counters } from '../util/metrics.js';
import { randomBytes } from '../util/random.js';
import { ALWAYS_PENDING, Calls, judgeWhoareyou, type PendingCheck, Waiting } from './calls.js';
import { Challenges } from './challenges.js';
import type { SessionConfig } from './config.js';
import { acceptHandshake, answerChallenge } from './handshake.js';
import { bytesKey, endpointKey } from './keys.js';
import type { Session } from './session.js';
import { Sessions } from './sessions.js';
import type { NodeAddress, NodeContact, SessionEvents } from './types.js';

const log = createLogger('discv5:session');

export interface SessionLayerDeps {
  crypto: Crypto;
  transport: Transport;
  privateKey: Uint8Array;
  nodeId: Uint8Array;
  /** Our current record (its seq decides whether a handshake carries it). */
  localEnr: () => Enr;
  /** A record we hold for a node, if any (for WHOAREYOU's enr-seq and handshakes without a record). */
  findEnr: (nodeId: Uint8Array) => Enr | undefined;
  counters: Counters;
  config: SessionConfig;
  /** The inbound gate (bans, rate limits, handshake budgets); none: everything passes. */
  gate?: PacketGate;
  now?: () => number;
}

export interface SendRequestOptions {
  /**
   * A retry of a request that got no answer: never queued behind a handshake under way (its first
   * packets may be lost); it starts contact again, or goes in a session not yet proven.
   */
  retry?: boolean;
  /**
   * Whether the request still waits for its answer (default: always). A WHOAREYOU for a request no
   * longer pending is ignored, and a queued request no longer pending is never sent.
   */
  pending?: PendingCheck;
}

export class SessionLayer extends TypedEmitter<SessionEvents> {
  readonly #d: SessionLayerDeps;
  readonly #now: () => number;
  readonly #maskingKey: Uint8Array;
  readonly #sessions: Sessions;
  readonly #challenges: Challenges;
  readonly #calls: Calls;
  readonly #waiting: Waiting;
  /** Another protocol on the same socket (discv4): offered what is not discv5. */
  #other: ((data: Uint8Array, from: SocketAddress) => boolean) | undefined;

  constructor(deps: SessionLayerDeps) {
    super();
    this.countListenerFailuresIn(deps.counters);
    this.#d = deps;
    const now = deps.now ?? Date.now;
    this.#now = now;
    const c = deps.config;
    this.#maskingKey = deps.nodeId.subarray(0, 16);
    this.#sessions = new Sessions(c, now, (s) => {
      this.#d.counters.inc('session.expired');
      this.emit('expired', s.peer);
    });
    this.#challenges = new Challenges({
      crypto: deps.crypto,
      findEnr: deps.findEnr,
      gate: deps.gate,
      capacity: c.maxChallenges,
      ttlMs: c.challengeTtlMs,
      now,
    });
    this.#calls = new Calls(c.maxPendingNonces, c.nonceTtlMs, now);
    this.#waiting = new Waiting(c.maxHandshakingPeers);
    deps.transport.onPacket((data, from) => this.#onPacket(data, from));
  }

  /**
   * Shares the socket with another protocol (one port for discv4 and discv5, as go-ethereum): a
   * datagram whose header does not unmask as discv5 is offered to `handler`, which returns whether
   * it was its own (then it is not counted here as malformed).
   */
  shareSocket(handler: (data: Uint8Array, from: SocketAddress) => boolean): void {
    this.#other = handler;
  }

  /** Sessions currently held. */
  get sessionCount(): number {
    return this.#sessions.size;
  }

  /** Whether a live session with this endpoint exists (proven by the peer or not yet). */
  hasSession(peer: NodeAddress): boolean {
    return this.#sessions.live(endpointKey(peer.nodeId, peer.socket)) !== undefined;
  }

  /** Keeps a newer record of a peer with its session. */
  updateEnr(peer: NodeAddress, enr: Enr): void {
    const s = this.#sessions.live(endpointKey(peer.nodeId, peer.socket));
    if (s !== undefined && (s.enr === undefined || s.enr.seq < enr.seq)) s.enr = enr;
  }

  /** Sends a request, starting a handshake if there is no session (see SendRequestOptions). */
  sendRequest(contact: NodeContact, plaintext: Uint8Array, options: SendRequestOptions = {}): void {
    const pending = options.pending ?? ALWAYS_PENDING;
    const retry = options.retry === true;
    const key = endpointKey(contact.nodeId, contact.socket);
    const session = this.#sessions.live(key);
    if (session !== undefined && (session.proven || retry)) {
      this.#sendInSession(session, contact, plaintext, pending);
      return;
    }
    const now = this.#now();
    const waiting = this.#waiting.get(key);
    if (waiting !== undefined && !retry && now - waiting.since < this.#d.config.handshakeTimeoutMs) {
      if (log.enabled) log.debug(`queued behind the handshake with ${bytesKey(contact.nodeId.subarray(0, 2))}`);
      if (waiting.queue.length >= this.#d.config.maxQueuedPerPeer) {
        this.#d.counters.inc('drop.queue-full');
        return;
      }
      waiting.queue.push({ plaintext, pending });
      return;
    }
    if (session !== undefined) {
      // Not proven yet, and the wait for the peer's first answer is over: try the session anyway.
      this.#sendInSession(session, contact, plaintext, pending);
      return;
    }
    // No session: random filler in place of the message; the request goes in the handshake (§3.6).
    const nonce = randomBytes(12);
    this.#calls.add(nonce, contact, plaintext, pending);
    this.#waiting.start(key, contact, now);
    this.#send(encodeRandomPacket(this.#d.crypto, contact.nodeId, this.#d.nodeId, nonce), contact.socket, 'random');
  }

  /** Sends a response within the session the request came in on; false if there is none. */
  sendResponse(peer: NodeAddress, plaintext: Uint8Array): boolean {
    const session = this.#sessions.live(endpointKey(peer.nodeId, peer.socket));
    if (session === undefined) {
      this.#d.counters.inc('drop.response-without-session');
      return false;
    }
    const d = this.#d;
    const packet = encodeMessagePacket(
      d.crypto,
      peer.nodeId,
      d.nodeId,
      session.nextNonce(),
      session.writeKey,
      plaintext,
    );
    this.#send(packet, peer.socket, 'message');
    return true;
  }

  #sendInSession(session: Session, contact: NodeContact, plaintext: Uint8Array, pending: PendingCheck): void {
    const d = this.#d;
    const nonce = session.nextNonce();
    this.#calls.add(nonce, contact, plaintext, pending);
    this.#send(
      encodeMessagePacket(d.crypto, contact.nodeId, d.nodeId, nonce, session.writeKey, plaintext),
      contact.socket,
      'message',
    );
  }

  #send(packet: Uint8Array, to: SocketAddress, kind: string): void {
    this.#d.counters.inc(`out.packet.${kind}`);
    this.#d.counters.inc('out.bytes', packet.length);
    this.#d.transport.send(packet, to);
  }

  #drop(reason: string): void {
    this.#d.counters.inc(`drop.${reason}`);
  }

  #onPacket(data: Uint8Array, from: SocketAddress): void {
    this.#d.counters.inc('in.datagrams');
    this.#d.counters.inc('in.bytes', data.length);
    const gate = this.#d.gate;
    let verdict: string = gate?.admit(from.ip) ?? 'pass';
    const packet = verdict === 'pass' ? decodePacket(this.#d.crypto, this.#maskingKey, data) : verdict;
    // An undecodable datagram is counted, never held against its source: the address may be forged (review H4).
    if (typeof packet === 'string') {
      if (packet === 'malformed-header' && this.#other?.(data, from)) return;
      this.#drop(packet);
      return;
    }
    if (packet.flag !== 1 && gate !== undefined) verdict = gate.admitNode(bytesKey(packet.srcId), from.ip);
    if (verdict !== 'pass') this.#drop(verdict);
    else if (packet.flag === 0) this.#onMessage(packet, from);
    else if (packet.flag === 1) this.#onWhoareyou(packet, from);
    else this.#onHandshake(packet, from);
  }

  #onMessage(p: MessagePacket, from: SocketAddress): void {
    this.#d.counters.inc('in.packet.message');
    const key = endpointKey(p.srcId, from);
    const session = this.#sessions.live(key);
    if (session !== undefined) {
      const plaintext = this.#sessions.open(this.#d.crypto, session, p.header, p.datagram);
      if (plaintext !== null) {
        if (!session.proven) this.#proven(key, session);
        this.#deliver(session.peer, plaintext, session.enr);
        return;
      }
    }
    const outcome = this.#challenges.challenge(key, Uint8Array.from(p.srcId), p.nonce, from.ip);
    if (typeof outcome === 'string') this.#drop(outcome);
    else this.#send(outcome.packet, from, outcome.repeat ? 'whoareyou-repeat' : 'whoareyou');
  }

  /** Our handshake's session decrypted the peer's first message: send what waited, then tell. */
  #proven(key: string, session: Session): void {
    session.proven = true;
    this.#d.counters.inc('handshake.proven');
    this.#flush(key);
    this.emit('established', session.peer, session.enr, false);
  }

  /** Sends the requests that waited for a proven session with this endpoint (those still pending). */
  #flush(key: string): void {
    const waiting = this.#waiting.take(key);
    if (waiting === undefined) return;
    for (const q of waiting.queue) {
      if (q.pending()) this.sendRequest(waiting.contact, q.plaintext, { pending: q.pending });
      else this.#d.counters.inc('drop.queued-not-pending');
    }
  }

  #onWhoareyou(p: WhoareyouPacket, from: SocketAddress): void {
    this.#d.counters.inc('in.packet.whoareyou');
    const call = this.#calls.find(p.nonce);
    const verdict = judgeWhoareyou(call, p.challengeData, from);
    if (verdict === 'repeat' && call?.handshake !== undefined) {
      call.repeats++;
      this.#send(call.handshake.packet, from, 'handshake-repeat');
      return;
    }
    if (verdict !== 'handshake' || call?.plaintext === undefined) {
      this.#drop(verdict);
      return;
    }
    const d = this.#d;
    const { contact } = call;
    const key = endpointKey(contact.nodeId, contact.socket);
    const record = p.enrSeq < d.localEnr().seq ? d.localEnr().encoded : null;
    const expiresAt = this.#now() + d.config.sessionTtlMs;
    const out = answerChallenge(d, contact, p.challengeData, record, call.plaintext, expiresAt);
    if (out === null) {
      this.#waiting.take(key);
      d.counters.inc('handshake.failed');
      this.emit('handshakeFailed', contact, 'invalid public key');
      return;
    }
    this.#sessions.install(key, out.session);
    call.handshake = { challengeData: Uint8Array.from(p.challengeData), packet: out.packet };
    call.plaintext = undefined;
    // Requests made from now on wait for the peer's answer (spec §4.6), as those made before did.
    this.#waiting.start(key, contact, this.#now());
    this.#send(out.packet, from, 'handshake');
    d.counters.inc('handshake.outbound');
  }

  #onHandshake(p: HandshakePacket, from: SocketAddress): void {
    const d = this.#d;
    d.counters.inc('in.packet.handshake');
    const key = endpointKey(p.srcId, from);
    const challenge = this.#challenges.take(key);
    if (challenge === undefined) {
      this.#drop('handshake-without-challenge');
      return;
    }
    const peer: NodeAddress = { nodeId: Uint8Array.from(p.srcId), socket: from };
    const known = challenge.enr ?? d.findEnr(peer.nodeId);
    const out = acceptHandshake(d, challenge, known, p, peer, this.#now() + d.config.sessionTtlMs);
    if ('reason' in out) {
      this.#drop(out.reason);
      d.counters.inc('handshake.inbound-failed');
      // Only a failure that proves its source counts toward an automatic ban (see handshake.ts).
      if (out.proven && d.gate?.invalid(from.ip)) d.counters.inc('ban.auto');
      return;
    }
    this.#sessions.install(key, out.session);
    d.counters.inc('handshake.inbound');
    // Our own requests that waited on this endpoint can go now: the peer is proven.
    this.#flush(key);
    this.emit('established', peer, out.enr, true);
    this.#deliver(peer, out.plaintext, out.enr);
  }

  #deliver(from: NodeAddress, plaintext: Uint8Array, enr: Enr | undefined): void {
    const message = decodeMessage(plaintext);
    if (typeof message === 'string') {
      this.#drop(message);
      return;
    }
    this.#d.counters.inc(`in.message.${message.type}`);
    this.emit('message', { from, message, enr });
  }
}
