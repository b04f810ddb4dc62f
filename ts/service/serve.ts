/**
 * Answering other nodes (spec §6): PING with the address we saw, FINDNODE with up to 16 live
 * records (distance 0 is our own record) packed ~1,000 bytes per NODES message, TALKREQ with the
 * registered handler or an empty TALKRESP.
 */
import type { Enr } from '../enr/enr.js';
import { encodeMessage } from '../message/codec.js';
import {
  type FindNodeMessage,
  type Message,
  MessageType,
  type PingMessage,
  type TalkReqMessage,
} from '../message/types.js';
import type { SessionLayer } from '../session/layer.js';
import type { NodeAddress } from '../session/types.js';
import type { Counters } from '../util/metrics.js';
import { packNodes } from './nodes.js';
import type { TalkHandler } from './types.js';

const latin1 = new TextDecoder('latin1');
/** Plaintext room in one ordinary packet (1280 − 87), less TALKRESP's own framing. */
export const MAX_TALK_PAYLOAD = 1_150;

export interface ServerDeps {
  session: SessionLayer;
  counters: Counters;
  localEnr: () => Enr;
  /** Records served for a log-distance 1..256 (live ones only). */
  nodesAt: (distance: number, requester: NodeAddress) => Enr[];
  maxNodes: number;
  recordBytes: number;
  isRunning: () => boolean;
  onTalkRequest: (protocol: Uint8Array, request: Uint8Array, from: NodeAddress) => void;
}

export class RequestServer {
  readonly #d: ServerDeps;
  readonly #talk = new Map<string, TalkHandler>();

  constructor(deps: ServerDeps) {
    this.#d = deps;
  }

  register(protocol: Uint8Array | string, handler: TalkHandler): void {
    this.#talk.set(typeof protocol === 'string' ? protocol : latin1.decode(protocol), handler);
  }

  unregister(protocol: Uint8Array | string): void {
    this.#talk.delete(typeof protocol === 'string' ? protocol : latin1.decode(protocol));
  }

  #respond(to: NodeAddress, message: Message): void {
    this.#d.counters.inc(`out.response.${message.type}`);
    this.#d.session.sendResponse(to, encodeMessage(message));
  }

  ping(from: NodeAddress, ping: PingMessage): void {
    this.#respond(from, {
      type: MessageType.PONG,
      requestId: ping.requestId,
      enrSeq: this.#d.localEnr().seq,
      ip: from.socket.ip,
      port: from.socket.port,
    });
  }

  findNode(from: NodeAddress, req: FindNodeMessage): void {
    const records: Uint8Array[] = [];
    const seen = new Set<number>();
    for (const d of req.distances) {
      if (seen.has(d) || records.length >= this.#d.maxNodes) continue;
      seen.add(d);
      const found = d === 0 ? [this.#d.localEnr()] : this.#d.nodesAt(d, from);
      for (const r of found) {
        if (records.length >= this.#d.maxNodes) break;
        records.push(r.encoded);
      }
    }
    for (const m of packNodes(req.requestId, records, this.#d.recordBytes)) this.#respond(from, m);
  }

  async talk(from: NodeAddress, req: TalkReqMessage, enr: Enr | undefined): Promise<void> {
    this.#d.onTalkRequest(req.protocol, req.request, from);
    const handler = this.#talk.get(latin1.decode(req.protocol));
    let response: Uint8Array = new Uint8Array(0);
    if (handler !== undefined) {
      try {
        response = await handler(req.request, from, enr);
      } catch {
        this.#d.counters.inc('talk.handler-error');
      }
      if (!(response instanceof Uint8Array) || response.length > MAX_TALK_PAYLOAD) {
        this.#d.counters.inc('talk.response-too-large');
        response = new Uint8Array(0);
      }
    }
    if (this.#d.isRunning()) this.#respond(from, { type: MessageType.TALKRESP, requestId: req.requestId, response });
  }
}
