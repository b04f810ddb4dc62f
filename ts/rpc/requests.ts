/**
 * Requests to other nodes and the matching of their responses. Each request gets a random 8-byte
 * id, a timeout and a number of retries; NODES responses are gathered across messages up to their
 * `total` (capped), each batch of records verified in one backend call, checked against the
 * distances asked for, and deduplicated. A response from any endpoint other than the one asked is
 * ignored. Every request resolves or rejects: on response, timeout, abort, failed handshake or stop.
 */
import type { Crypto } from '../crypto/crypto.js';
import type { EnrDecoder } from '../enr/batch.js';
import { Enr } from '../enr/enr.js';
import { encodeMessage } from '../message/codec.js';
import {
  MessageType,
  type NodesMessage,
  type PongMessage,
  type RequestMessage,
  type ResponseMessage,
  type TalkRespMessage,
} from '../message/types.js';
import { bytesKey, endpointKey } from '../session/keys.js';
import type { SessionLayer } from '../session/layer.js';
import type { InboundMessage, NodeContact } from '../session/types.js';
import { concatBytes, idKey } from '../util/bytes.js';
import { Discv5Error, ErrorCode } from '../util/errors.js';
import { createLogger } from '../util/logger.js';
import type { Counters } from '../util/metrics.js';

const log = createLogger('discv5:rpc');

import { randomBytes } from '../util/random.js';
import type { RequestConfig } from './config.js';

export interface RequestOptions {
  signal?: AbortSignal;
  /** Overrides config.requestTimeoutMs for this request. */
  timeoutMs?: number;
  /** Overrides config.requestRetries for this request. */
  retries?: number;
}

const RESPONSE_TO: Record<number, number> = {
  [MessageType.PING]: MessageType.PONG,
  [MessageType.FINDNODE]: MessageType.NODES,
  [MessageType.TALKREQ]: MessageType.TALKRESP,
};

interface NodesState {
  expected: number | undefined;
  received: number;
  distances: Set<number>;
  records: Map<string, Enr>;
}

interface Active {
  key: string;
  contact: NodeContact;
  endpoint: string;
  request: RequestMessage;
  plaintext: Uint8Array;
  retriesLeft: number;
  timeoutMs: number;
  timer: ReturnType<typeof setTimeout> | undefined;
  nodes: NodesState | undefined;
  resolve: (value: ResponseMessage | Enr[]) => void;
  reject: (err: Error) => void;
  signal: AbortSignal | undefined;
  onAbort: (() => void) | undefined;
  /** Whether this request still waits for its answer (the session layer acts on WHOAREYOU only then). */
  pending: () => boolean;
}

export interface RequestManagerDeps {
  session: SessionLayer;
  crypto: Crypto;
  decoder: EnrDecoder;
  counters: Counters;
  config: RequestConfig;
  /**
   * The record-intake check for records in NODES answers (policy/intake.ts): false drops the record
   * (the caller counts why). `sender` is the IP of the node that answered.
   */
  admit?: (enr: Enr, sender: string) => boolean;
}

export class RequestManager {
  readonly #d: RequestManagerDeps;
  readonly #active = new Map<string, Active>();
  /** Requests under way per IP: their answers are exempt from rate limits. */
  readonly #perIp = new Map<string, number>();
  #stopped = false;

  constructor(deps: RequestManagerDeps) {
    this.#d = deps;
    deps.session.on('handshakeFailed', (peer, reason) => {
      const endpoint = endpointKey(peer.nodeId, peer.socket);
      for (const a of [...this.#active.values()]) {
        if (a.endpoint === endpoint)
          this.#finish(a, new Discv5Error(ErrorCode.HANDSHAKE_FAILED, `handshake failed: ${reason}`));
      }
    });
  }

  get activeCount(): number {
    return this.#active.size;
  }

  /** Whether a response is expected from this IP. */
  expecting(ip: string): boolean {
    return this.#perIp.has(ip);
  }

  ping(contact: NodeContact, enrSeq: bigint, options?: RequestOptions): Promise<PongMessage> {
    return this.#request(
      contact,
      { type: MessageType.PING, requestId: this.#newId(), enrSeq },
      options,
    ) as Promise<PongMessage>;
  }

  /** FINDNODE: the verified records at those distances from the peer, deduplicated. */
  findNode(contact: NodeContact, distances: number[], options?: RequestOptions): Promise<Enr[]> {
    return this.#request(
      contact,
      { type: MessageType.FINDNODE, requestId: this.#newId(), distances },
      options,
    ) as Promise<Enr[]>;
  }

  talkReq(
    contact: NodeContact,
    protocol: Uint8Array,
    request: Uint8Array,
    options?: RequestOptions,
  ): Promise<TalkRespMessage> {
    const message = { type: MessageType.TALKREQ, requestId: this.#newId(), protocol, request } as const;
    return this.#request(contact, message, options) as Promise<TalkRespMessage>;
  }

  #newId(): Uint8Array {
    for (;;) {
      const id = randomBytes(8);
      if (!this.#active.has(bytesKey(id))) return id;
    }
  }

  #request(
    contact: NodeContact,
    request: RequestMessage,
    options: RequestOptions = {},
  ): Promise<ResponseMessage | Enr[]> {
    if (this.#stopped) return Promise.reject(new Discv5Error(ErrorCode.STOPPED, 'node is stopped'));
    if (options.signal?.aborted) return Promise.reject(new Discv5Error(ErrorCode.ABORTED, 'request aborted'));
    if (this.#active.size >= this.#d.config.maxActiveRequests) {
      this.#d.counters.inc('request.refused');
      return Promise.reject(
        new Discv5Error(ErrorCode.TOO_MANY_REQUESTS, `over ${this.#d.config.maxActiveRequests} requests under way`),
      );
    }
    return new Promise((resolve, reject) => {
      const a: Active = {
        key: bytesKey(request.requestId),
        contact,
        endpoint: endpointKey(contact.nodeId, contact.socket),
        request,
        plaintext: encodeMessage(request),
        retriesLeft: options.retries ?? this.#d.config.requestRetries,
        timeoutMs: options.timeoutMs ?? this.#d.config.requestTimeoutMs,
        timer: undefined,
        nodes:
          request.type === MessageType.FINDNODE
            ? { expected: undefined, received: 0, distances: new Set(request.distances), records: new Map() }
            : undefined,
        resolve,
        reject,
        signal: options.signal,
        onAbort: undefined,
        pending: () => this.#active.get(a.key) === a,
      };
      if (options.signal !== undefined) {
        a.onAbort = () => this.#finish(a, new Discv5Error(ErrorCode.ABORTED, 'request aborted'));
        options.signal.addEventListener('abort', a.onAbort, { once: true });
      }
      this.#active.set(a.key, a);
      this.#perIp.set(contact.socket.ip, (this.#perIp.get(contact.socket.ip) ?? 0) + 1);
      this.#d.counters.inc(`out.request.${request.type}`);
      this.#arm(a);
      this.#d.session.sendRequest(contact, a.plaintext, { pending: a.pending });
    });
  }

  #arm(a: Active): void {
    if (a.timer !== undefined) clearTimeout(a.timer);
    a.timer = setTimeout(() => this.#onTimeout(a), a.timeoutMs);
  }

  #onTimeout(a: Active): void {
    if (a.retriesLeft > 0) {
      a.retriesLeft--;
      this.#d.counters.inc('request.retry');
      this.#arm(a);
      this.#d.session.sendRequest(a.contact, a.plaintext, { retry: true, pending: a.pending });
      return;
    }
    this.#d.counters.inc('request.timeout');
    if (log.enabled) {
      const peer = Buffer.from(a.contact.nodeId.subarray(0, 4)).toString('hex');
      log.debug(
        `timeout: type ${a.request.type} to ${peer} at ${a.contact.socket.ip}:${a.contact.socket.port}, session ${this.#d.session.hasSession(a.contact)}`,
      );
    }
    // Records already gathered from some NODES messages are still an answer.
    if (a.nodes !== undefined && a.nodes.received > 0) this.#finish(a, [...a.nodes.records.values()]);
    else this.#finish(a, new Discv5Error(ErrorCode.REQUEST_TIMEOUT, 'no response'));
  }

  #finish(a: Active, outcome: ResponseMessage | Enr[] | Error): void {
    if (this.#active.get(a.key) !== a) return;
    this.#active.delete(a.key);
    const n = (this.#perIp.get(a.contact.socket.ip) ?? 1) - 1;
    if (n > 0) this.#perIp.set(a.contact.socket.ip, n);
    else this.#perIp.delete(a.contact.socket.ip);
    if (a.timer !== undefined) clearTimeout(a.timer);
    if (a.onAbort !== undefined) a.signal?.removeEventListener('abort', a.onAbort);
    if (outcome instanceof Error) a.reject(outcome);
    else {
      this.#d.counters.inc('request.answered');
      a.resolve(outcome);
    }
  }

  /** Takes a response off the session layer; false if it answers nothing we asked. */
  handleResponse(m: InboundMessage): boolean {
    const message = m.message as ResponseMessage;
    const a = this.#active.get(bytesKey(message.requestId));
    if (a === undefined) {
      this.#d.counters.inc('drop.unexpected-response');
      return false;
    }
    if (endpointKey(m.from.nodeId, m.from.socket) !== a.endpoint) {
      this.#d.counters.inc('drop.response-wrong-source');
      return false;
    }
    if (RESPONSE_TO[a.request.type] !== message.type) {
      this.#d.counters.inc('drop.response-wrong-type');
      return false;
    }
    if (message.type === MessageType.NODES) this.#onNodes(a, message);
    else this.#finish(a, message);
    return true;
  }

  #onNodes(a: Active, message: NodesMessage): void {
    const state = a.nodes as NodesState;
    state.expected ??= Math.min(Math.max(message.total, 1), this.#d.config.maxNodesMessages);
    state.received++;
    const decoded = this.#d.decoder.decodeBatch(message.enrs);
    const records = decoded.filter((r): r is Enr => {
      if (r instanceof Enr) return true;
      this.#d.counters.inc('drop.nodes-bad-record');
      return false;
    });
    if (records.length > 0) {
      const distances = this.#d.crypto.logDistances(a.contact.nodeId, concatBytes(...records.map((r) => r.nodeId)));
      const admit = this.#d.admit;
      records.forEach((enr, i) => {
        if (!state.distances.has(distances[i] as number)) {
          this.#d.counters.inc('drop.nodes-wrong-distance');
          return;
        }
        // FINDNODE [0] asks for the node's own record: that one describes the sender itself.
        if (admit !== undefined && !state.distances.has(0) && !admit(enr, a.contact.socket.ip)) return;
        state.records.set(idKey(enr.nodeId), enr);
      });
    }
    if (state.received >= state.expected) this.#finish(a, [...state.records.values()]);
    else this.#arm(a); // more NODES to come: the timer restarts, as geth does
  }

  /** Rejects everything under way; no new requests are taken. */
  stop(): void {
    this.#stopped = true;
    for (const a of [...this.#active.values()]) this.#finish(a, new Discv5Error(ErrorCode.STOPPED, 'node stopped'));
  }
}
